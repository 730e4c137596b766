// A DEVELOPMENT OpenID provider for Hearth's demos and tests: panva's oidc-provider (OpenID
// certified), configured as a SMART on FHIR authorization server would be.
//
// * Clients register themselves (RFC 7591, POST /reg) with the SMART scopes they may ask for,
//   grant type client_credentials, and optionally `patient`: the patient in context that their
//   tokens carry (the SMART `patient` claim).
// * Access tokens for the resource `HEARTH_RESOURCE` (default http://hearth.local/fhir, the JWT's
//   aud) are signed JWTs (RFC 9068); for the resource `urn:hearth:opaque` they are opaque and
//   introspected (RFC 7662, POST /token/introspection, client `hearth` / `hearth-secret`).
// * Sender-constrained tokens: a token request with a DPoP proof (RFC 9449, the provider's dPoP
//   feature) gets a DPoP-bound token (cnf.jkt, in the JWT and in introspection); a client
//   registered with tls_client_certificate_bound_access_tokens gets tokens bound to the certificate
//   (cnf.x5t#S256, RFC 8705) that the DEVELOPMENT header x-dev-client-cert carries (URL-encoded
//   PEM): this provider speaks plain http on loopback, so the header stands in for its own TLS.
// * Keys: DEV_OIDC_JWKS (a private JWKS, JSON) or one generated RSA key. POST /dev/rotate
//   publishes a new signing key (the old one stays published, as a real rotation does);
//   POST /dev/withdraw {"kid": ...} stops publishing a key (a compromised key withdrawn).
// * POST /dev/scopes {"scopes": [...]} declares more supported scopes (granular ones, say).
// * GET /dev/stats counts discovery, JWKS and introspection requests; POST /dev/fault
//   {"down": true} makes every endpoint answer 503 (an issuer that is down).
//
// Usage: node server.mjs [--port 8095] [--host 127.0.0.1]; the first line printed is
// {"listening":"<issuer>"}.
import http from 'node:http';
import crypto from 'node:crypto';
import Provider from 'oidc-provider';

const argv = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : fallback;
};
const host = arg('host', '127.0.0.1');
const requestedPort = Number(arg('port', process.env.PORT ?? 8095));
const resource = process.env.HEARTH_RESOURCE ?? 'http://hearth.local/fhir';
const opaqueResource = 'urn:hearth:opaque';

// The key leaves the generator as PKCS#8 and is read again before its JWK is taken: exporting a JWK
// from the generator's own key object can deadlock Node 20 (a garbage collection during the export
// destroys the finished generator, which waits on the lock the export holds). CI saw the provider
// hang so before it listened; a loop of keys under memory pressure hangs within seconds that way.
function newKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', {
    modulusLength: 2048,
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  return { ...crypto.createPrivateKey(privateKey).export({ format: 'jwk' }), kid: crypto.randomUUID(), use: 'sig', alg: 'RS256' };
}

const keys = process.env.DEV_OIDC_JWKS ? JSON.parse(process.env.DEV_OIDC_JWKS).keys : [newKey()];
const stats = { discovery: 0, jwks: 0, introspection: 0, token: 0 };
const fault = { down: false };

// The scopes clients may register and ask for: OpenID's and SMART's launch scopes, the v1 and v2
// forms of every context for the types the demo uses, and what POST /dev/scopes adds (a real
// server declares its own list; tests declare the granular scopes they use).
const demoTypes = ['*', 'Patient', 'Observation', 'Condition', 'Specimen', 'Organization', 'Group', 'Medication', 'Binary', 'DocumentReference'];
const v2 = [];
for (let mask = 1; mask < 32; mask++) v2.push([...'cruds'].filter((_, i) => mask & (1 << i)).join(''));
const declaredScopes = new Set(['openid', 'offline_access', 'fhirUser', 'launch', 'launch/patient']);
for (const context of ['patient', 'user', 'system']) {
  for (const type of demoTypes) {
    for (const permissions of [...v2, 'read', 'write', '*']) declaredScopes.add(`${context}/${type}.${permissions}`);
  }
}

const server = http.createServer();
let provider;

function configuration() {
  return {
    clients: [{
      client_id: 'hearth',
      client_secret: 'hearth-secret',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    }, ...registered.values()],
    jwks: { keys: keys.slice().reverse() }, // the newest key signs
    scopes: [...declaredScopes],
    extraClientMetadata: {
      properties: ['patient'],
      validator(_ctx, key, value) {
        if (key === 'patient' && value !== undefined && !/^[A-Za-z0-9\-.]{1,64}$/.test(value)) {
          throw new Error('patient must be a FHIR logical id');
        }
      },
    },
    // DPoP proofs at the token endpoint: ECDSA (the provider's default), and RSA, which clients that
    // hold RSA keys use (its signature is the cheaper one to check).
    enabledJWA: { dPoPSigningAlgValues: ['ES256', 'ES384', 'RS256', 'PS256'] },
    features: {
      devInteractions: { enabled: false },
      dPoP: { enabled: true },
      mTLS: {
        enabled: true,
        certificateBoundAccessTokens: true,
        getCertificate(ctx) {
          const pem = ctx.get('x-dev-client-cert');
          return pem ? decodeURIComponent(pem) : undefined;
        },
      },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      registration: { enabled: true, idFactory: () => `client-${crypto.randomUUID()}` },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx, indicator, client) => {
          if (indicator !== resource && indicator !== opaqueResource) {
            throw new Provider.errors.InvalidTarget();
          }
          return {
            scope: client.scope ?? '',
            audience: resource,
            accessTokenTTL: Number(process.env.DEV_OIDC_TOKEN_TTL ?? 3600),
            accessTokenFormat: indicator === resource ? 'jwt' : 'opaque',
            jwt: { sign: { alg: 'RS256' } },
          };
        },
      },
    },
    extraTokenClaims: (_ctx, token) => {
      const patient = token.client?.patient ?? (token.clientId && clientsById.get(token.clientId));
      return patient ? { patient } : undefined;
    },
    ttl: { ClientCredentials: () => Number(process.env.DEV_OIDC_TOKEN_TTL ?? 3600) },
  };
}

// The patient of each registered client (extraTokenClaims sees the token, not always the client),
// and every registered client's metadata: a rebuilt provider (new keys, new scopes) keeps them.
const clientsById = new Map();
const registered = new Map();

function build(issuer) {
  provider = new Provider(issuer, configuration());
  provider.proxy = false;
  provider.on('registration_create.success', (_ctx, client) => {
    if (client.patient) clientsById.set(client.clientId, client.patient);
    const { client_id_issued_at: _issued, registration_client_uri: _uri, registration_access_token: _token, ...metadata } = client.metadata();
    registered.set(client.clientId, metadata);
  });
}

server.on('request', (req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/dev/stats' && req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify(stats));
  }
  if (url.pathname === '/dev/fault' && req.method === 'POST') {
    return readJson(req).then((body) => {
      fault.down = Boolean(body.down);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(fault));
    });
  }
  if (url.pathname === '/dev/scopes' && req.method === 'POST') {
    return readJson(req).then((body) => {
      for (const scope of body.scopes ?? []) declaredScopes.add(String(scope));
      build(provider.issuer);
      res.writeHead(204);
      res.end();
    });
  }
  if (url.pathname === '/dev/withdraw' && req.method === 'POST') {
    return readJson(req).then((body) => {
      const at = keys.findIndex((k) => k.kid === body.kid);
      if (at >= 0 && keys.length > 1) keys.splice(at, 1);
      build(provider.issuer);
      res.writeHead(at >= 0 ? 204 : 404);
      res.end();
    });
  }
  if (url.pathname === '/dev/rotate' && req.method === 'POST') {
    const key = newKey();
    keys.push(key);
    build(provider.issuer); // registered clients live in the shared memory adapter
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end(JSON.stringify({ kid: key.kid }));
  }
  if (fault.down) {
    res.writeHead(503, { 'content-type': 'application/json' });
    return res.end('{"error":"temporarily_unavailable"}');
  }
  if (url.pathname === '/.well-known/openid-configuration') stats.discovery++;
  if (url.pathname === '/jwks') stats.jwks++;
  if (url.pathname === '/token/introspection') stats.introspection++;
  if (url.pathname === '/token') stats.token++;
  return provider.callback()(req, res);
});

function readJson(req) {
  return new Promise((resolve) => {
    let data = '';
    req.on('data', (chunk) => { data += chunk; });
    req.on('end', () => {
      try { resolve(JSON.parse(data || '{}')); } catch { resolve({}); }
    });
  });
}

server.listen(requestedPort, host, () => {
  const issuer = `http://${host}:${server.address().port}`;
  build(issuer);
  console.log(JSON.stringify({ listening: issuer }));
});
