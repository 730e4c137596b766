// A DEVELOPMENT authorization server that speaks the Pauldron wire format.
// For demos and tests of Hearth only: tokens live in memory, anyone who can reach
// /dev/tokens can mint one. NEVER expose it or use it in production.
//
//   node server.js [--port N] [--host 127.0.0.1]
//   env DEV_AUTH_API_KEY   protection API key (default "dev-protection-key")
//       DEV_AUTH_REALM     realm (default "hearth-dev")
//
// Endpoints
//   POST /dev/tokens            {"permissions": [...], "expires_in": 3600, "shape": "permissions"|"scope",
//                                "time_unit": "ms"|"s", "smart_scope": "patient/Observation.rs ...",
//                                "patient": "p03"}  -> 201 {"access_token", "exp"}
//                               (smart_scope: SMART scopes in the introspection's "scope", beside the
//                               permissions; patient: the SMART patient claim; "claims": {...} more
//                               claims of the introspection answer, such as client_id or purpose_of_use)
//   POST /dev/revoke            {"token": "..."} -> 200
//   GET  /dev/stats             {"introspections": N, "registrations": N}
//   GET  /dev/registrations     every permission array registered, oldest first
//   POST /dev/reset-stats       (also forgets the registrations)
//   POST /dev/fault             {"registration": "down"|"slow"|"garbage"|null}: the permission endpoint fails
//   POST /authorization         {"ticket": "...", "claim_tokens": [...], "shape", "time_unit", "expires_in"}
//                               -> 201 {"rpt": "..."} granting exactly the ticket's permissions
//                               (a ticket is used once; unknown -> 400 {"error": "invalid_ticket"})
//   POST /protection/introspection   form token=..., Authorization: Bearer <api key>
//   POST /protection/permissions     JSON array of permissions, Authorization: Bearer <api key>
//                                    -> 201 {"ticket": "..."}
//
// Prints one JSON line {"listening": "<base url>"} on stdout once it accepts connections.
'use strict';

const http = require('node:http');
const crypto = require('node:crypto');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const port = Number(arg('--port', process.env.PORT ?? '8090'));
const host = arg('--host', process.env.HOST ?? '127.0.0.1');
const apiKey = process.env.DEV_AUTH_API_KEY ?? 'dev-protection-key';
const realm = process.env.DEV_AUTH_REALM ?? 'hearth-dev';

const tokens = new Map();
const tickets = new Map();
const stats = { introspections: 0, registrations: 0 };
const registrations = [];
let registrationFault = null;

function issue(permissions, body) {
  const expiresIn = Number(body.expires_in ?? 3600);
  const now = Date.now();
  const token = crypto.randomBytes(32).toString('base64url');
  tokens.set(token, {
    permissions,
    iat: now,
    exp: now + expiresIn * 1000,
    shape: body.shape === 'scope' && !body.smart_scope ? 'scope' : 'permissions',
    unit: body.time_unit === 's' ? 's' : 'ms',
    smartScope: typeof body.smart_scope === 'string' ? body.smart_scope : undefined,
    patient: typeof body.patient === 'string' ? body.patient : undefined,
    claims: body.claims && typeof body.claims === 'object' && !Array.isArray(body.claims) ? body.claims : undefined,
  });
  return { token, exp: now + expiresIn * 1000 };
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function hasApiKey(req) {
  return req.headers.authorization === `Bearer ${apiKey}`;
}

function parseJson(raw) {
  try {
    return [JSON.parse(raw)];
  } catch {
    return [undefined, 'body is not JSON'];
  }
}

function handle(req, res, raw) {
  const path = (req.url ?? '/').split('?')[0];
  if (req.method === 'POST' && path === '/dev/tokens') {
    const [body, err] = parseJson(raw || '{}');
    if (err || typeof body !== 'object' || body === null) return send(res, 400, { error: 'invalid_request' });
    const permissions = Array.isArray(body.permissions) ? body.permissions : [];
    const { token, exp } = issue(permissions, body);
    return send(res, 201, { access_token: token, token_type: 'Bearer', exp });
  }
  if (req.method === 'POST' && path === '/authorization') {
    const [body, err] = parseJson(raw || '{}');
    if (err || typeof body !== 'object' || body === null) return send(res, 400, { error: 'invalid_request' });
    const permissions = tickets.get(body.ticket);
    if (!permissions) return send(res, 400, { error: 'invalid_ticket' });
    tickets.delete(body.ticket);
    const { token } = issue(permissions, body);
    return send(res, 201, { rpt: token });
  }
  if (req.method === 'GET' && path === '/dev/registrations') return send(res, 200, registrations);
  if (req.method === 'POST' && path === '/dev/fault') {
    const [body] = parseJson(raw || '{}');
    registrationFault = body?.registration ?? null;
    return send(res, 200, { registration: registrationFault });
  }
  if (req.method === 'POST' && path === '/dev/revoke') {
    const [body] = parseJson(raw || '{}');
    tokens.delete(body?.token);
    return send(res, 200, {});
  }
  if (req.method === 'GET' && path === '/dev/stats') return send(res, 200, stats);
  if (req.method === 'POST' && path === '/dev/reset-stats') {
    stats.introspections = 0;
    stats.registrations = 0;
    registrations.length = 0;
    return send(res, 200, stats);
  }
  if (req.method === 'POST' && path === '/protection/introspection') {
    if (!hasApiKey(req)) return send(res, 401, { error: 'unauthorized' });
    stats.introspections++;
    const token = new URLSearchParams(raw).get('token');
    const t = token ? tokens.get(token) : undefined;
    if (!t || t.exp <= Date.now()) return send(res, 200, { active: false });
    const time = (ms) => (t.unit === 's' ? Math.floor(ms / 1000) : ms);
    const answer = { active: true, iat: time(t.iat), exp: time(t.exp), realm };
    if (t.shape === 'scope') answer.scope = JSON.stringify(t.permissions);
    else answer.permissions = t.permissions;
    if (t.smartScope) answer.scope = t.smartScope;
    if (t.patient) answer.patient = t.patient;
    // Claims the test asked for (client_id, fhirUser, purpose_of_use, ...), never over the answer's own.
    for (const [k, v] of Object.entries(t.claims ?? {})) if (!(k in answer)) answer[k] = v;
    return send(res, 200, answer);
  }
  if (req.method === 'POST' && path === '/protection/permissions') {
    if (!hasApiKey(req)) return send(res, 401, { error: 'unauthorized' });
    const [body, err] = parseJson(raw);
    if (err || !Array.isArray(body)) return send(res, 400, { error: 'invalid_request' });
    stats.registrations++;
    registrations.push(body);
    if (registrationFault === 'down') return send(res, 500, { error: 'server_error' });
    if (registrationFault === 'garbage') return send(res, 201, { ticket: 'bad"ticket\r\nX-Injected: 1' });
    if (registrationFault === 'slow') {
      setTimeout(() => send(res, 201, { ticket: crypto.randomUUID() }), 15000);
      return;
    }
    const ticket = crypto.randomUUID();
    tickets.set(ticket, body);
    return send(res, 201, { ticket });
  }
  return send(res, 404, { error: 'not_found' });
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    try {
      handle(req, res, Buffer.concat(chunks).toString('utf8'));
    } catch (e) {
      console.error(e);
      send(res, 500, { error: 'server_error' });
    }
  });
});

server.listen(port, host, () => {
  console.log(JSON.stringify({ listening: `http://${host}:${server.address().port}` }));
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
