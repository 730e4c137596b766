// The seed data (seed.js) as a FHIR transaction Bundle of PUTs, for any FHIR server.
//
//   node seed-bundle.js                      # prints the Bundle
//   node seed-bundle.js --post http://hapi:8080/fhir [--wait-seconds 300]
//                                            # POSTs it to the base, retrying until the server is up
// Needs no npm packages.
'use strict';

const { seed } = require('./seed');

function arg(name, fallback) {
  const i = process.argv.indexOf(name);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

async function bundle() {
  const resources = [];
  await seed({ createResource: async (r) => (resources.push(r), r) });
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: resources.map((r) => ({ resource: r, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } })),
  };
}

(async () => {
  const body = JSON.stringify(await bundle());
  const target = arg('--post');
  if (!target) {
    process.stdout.write(body + '\n');
    return;
  }
  const deadline = Date.now() + Number(arg('--wait-seconds', '300')) * 1000;
  for (;;) {
    try {
      const res = await fetch(target, { method: 'POST', headers: { 'Content-Type': 'application/fhir+json' }, body });
      if (res.ok) {
        console.log(`seeded ${target}: ${res.status}`);
        return;
      }
      console.error(`seeding ${target}: ${res.status} ${(await res.text()).slice(0, 300)}`);
    } catch (e) {
      console.error(`seeding ${target}: ${e.message}`);
    }
    if (Date.now() > deadline) process.exit(1);
    await new Promise((r) => setTimeout(r, 5000));
  }
})();
