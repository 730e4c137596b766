// DPoP proofs in bulk, for the benchmark (bench/run.sh): a load generator sends each proof once.
//
//   node dpop-proofs.mjs token <issuer> <scope> <key file> [alg]  a DPoP-bound client_credentials token (stdout); the key (JWK) saved
//   node dpop-proofs.mjs proofs <key file> <token> <url> <n>      n proofs for GET <url>, one a line (stdout)
// alg: ES256 (default) or RS256.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { SignJWT, exportJWK, generateKeyPair, importJWK } from 'jose';

const [mode, ...args] = process.argv.slice(2);

async function proof(key, jwk, method, url, token, alg = 'ES256') {
  const claims = { htm: method, htu: url.split('?')[0], jti: crypto.randomUUID(), iat: Math.floor(Date.now() / 1000) };
  if (token) claims.ath = crypto.createHash('sha256').update(token).digest('base64url');
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'dpop+jwt', jwk }).sign(key);
}

if (mode === 'token') {
  const [issuer, scope, keyFile, alg = 'ES256'] = args;
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk = await exportJWK(publicKey);
  fs.writeFileSync(keyFile, JSON.stringify({ alg, private: await exportJWK(privateKey), public: jwk }));
  const client = await fetch(`${issuer}/reg`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope }),
  }).then((r) => r.json());
  const answer = await fetch(`${issuer}/token`, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${client.client_id}:${client.client_secret}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
      dpop: await proof(privateKey, jwk, 'POST', `${issuer}/token`, undefined, alg),
    },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource: 'http://hearth.local/fhir' }),
  }).then((r) => r.json());
  if (!answer.access_token) throw new Error(JSON.stringify(answer));
  process.stdout.write(answer.access_token);
} else if (mode === 'proofs') {
  const [keyFile, token, url, n] = args;
  const saved = JSON.parse(fs.readFileSync(keyFile, 'utf8'));
  const key = await importJWK(saved.private, saved.alg);
  const lines = [];
  for (let i = 0; i < Number(n); i++) lines.push(await proof(key, saved.public, 'GET', url, token, saved.alg));
  process.stdout.write(lines.join('\n') + '\n');
} else {
  console.error('usage: dpop-proofs.mjs token <issuer> <scope> <key file> | proofs <key file> <token> <url> <n>');
  process.exit(2);
}
