// A DPoP client in a few lines (RFC 9449), for the demo: makes an ES256 key, registers a client at
// the development OpenID provider, gets a DPoP-bound access token (a proof for the token request),
// reads a resource through Hearth with a new proof (retrying once with the server's nonce when it
// asks for one), and shows that the same token sent as a plain bearer token is refused.
//
// Usage: node dpop-example.mjs <issuer> <gateway base> <path> [--status]
//   --status prints only the status of the DPoP read (what the demo's check compares).
import crypto from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';

const [issuer, gateway, path, flag] = process.argv.slice(2);
if (!issuer || !gateway || !path) {
  console.error('usage: node dpop-example.mjs <issuer> <gateway base> <path> [--status]');
  process.exit(2);
}
const quiet = flag === '--status';
// An unreachable provider or gateway: one line that says which, not a stack trace.
process.on('uncaughtException', (e) => {
  console.error(`dpop-example: ${e.message}${e.cause ? ` (${e.cause.code ?? e.cause.errors?.[0]?.code ?? ''} ${e.cause.message ?? ''})` : ''}`);
  process.exit(1);
});
const say = (...words) => { if (!quiet) console.log(...words); };
const scope = 'user/Observation.rs user/Patient.rs';

const { privateKey, publicKey } = await generateKeyPair('ES256');
const jwk = await exportJWK(publicKey); // the public key only: it goes in every proof's header

// One proof per HTTP request: its method and URL (no query), a fresh jti, now; ath binds it to the token.
async function proof(method, url, token, nonce) {
  const claims = { htm: method, htu: url.split('?')[0], jti: crypto.randomUUID(), iat: Math.floor(Date.now() / 1000) };
  if (token) claims.ath = crypto.createHash('sha256').update(token).digest('base64url');
  if (nonce) claims.nonce = nonce;
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', typ: 'dpop+jwt', jwk }).sign(privateKey);
}

const registration = await fetch(`${issuer}/reg`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ grant_types: ['client_credentials'], response_types: [], redirect_uris: [], scope }),
}).then((r) => r.json());
const basic = Buffer.from(`${registration.client_id}:${registration.client_secret}`).toString('base64');
const tokenAnswer = await fetch(`${issuer}/token`, {
  method: 'POST',
  headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', dpop: await proof('POST', `${issuer}/token`) },
  body: new URLSearchParams({ grant_type: 'client_credentials', scope, resource: 'http://hearth.local/fhir' }),
}).then((r) => r.json());
const token = tokenAnswer.access_token;
if (!token) {
  console.error('no token:', JSON.stringify(tokenAnswer));
  process.exit(1);
}
say(`1. a DPoP-bound token (token_type ${tokenAnswer.token_type}), bound to the key with thumbprint ${JSON.parse(Buffer.from(token.split('.')[1], 'base64url')).cnf?.jkt}`);

const url = `${gateway}/${path}`;
async function read(nonce) {
  return fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: await proof('GET', url, token, nonce) } });
}
let answer = await read();
if (answer.status === 401 && answer.headers.get('dpop-nonce')) {
  say(`   the gateway asks for a nonce (${answer.headers.get('www-authenticate')}): a new proof with it`);
  answer = await read(answer.headers.get('dpop-nonce'));
}
say(`2. GET ${url} with "Authorization: DPoP" and a proof: ${answer.status}`);
const replayProof = await proof('GET', url, token);
const first = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: replayProof } });
const replay = await fetch(url, { headers: { authorization: `DPoP ${token}`, dpop: replayProof } });
say(`3. the same proof twice: ${first.status}, then ${replay.status} (${replay.headers.get('www-authenticate')})`);
const bearer = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
say(`4. the same token as a plain bearer token (a thief without the key): ${bearer.status}`);
if (quiet) console.log(answer.status);
