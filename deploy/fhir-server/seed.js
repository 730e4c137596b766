// Deterministic sample data for demos and tests. The tests rely on these exact facts,
// so change them together (tests/Hearth.Gateway.FunctionalTests/SeedData.cs).
//
// * Patients p01..p18: identifiers [urn:mrn:hospital|MRN-0NN, urn:official:id|100NN]
//   (MRN first, so that the designated-system priority is observable).
//   p16 and p17 are labelled R, p18 has no label, the others N.
// * p19: only an MRN identifier. p20: no identifier at all (cannot be resolved).
// * Observations obs-NN-1 (N, category vital-signs), obs-NN-2 (R when NN is a multiple of 3,
//   else N; category laboratory), obs-NN-3 (no label: the default confidentiality applies; no
//   category) for NN = 01..20.
// * Conditions cond-NN (N), Specimens spec-01..spec-10 (N, spec-03 R).
// * Outside the compartment: Organization org-1, Observation obs-group (subject Group/g1).
// * obs-foreign: subject is a Patient on another server.
'use strict';

const CONF = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';
const label = (code) => (code ? { meta: { security: [{ system: CONF, code }] } } : {});
const nn = (i) => String(i).padStart(2, '0');

async function create(repo, resource) {
  return repo.createResource(resource, { assignedId: true });
}

async function seed(repo) {
  for (let i = 1; i <= 20; i++) {
    const id = `p${nn(i)}`;
    let identifier = [
      { system: 'urn:mrn:hospital', value: `MRN-0${nn(i)}` },
      { system: 'urn:official:id', value: `100${nn(i)}` },
    ];
    if (i === 19) identifier = [identifier[0]];
    if (i === 20) identifier = undefined;
    const code = i === 16 || i === 17 ? 'R' : i === 18 ? undefined : 'N';
    await create(repo, {
      resourceType: 'Patient',
      id,
      ...label(code),
      ...(identifier ? { identifier } : {}),
      name: [{ family: `Example${nn(i)}`, given: ['Sam'] }],
      gender: i % 2 ? 'female' : 'male',
      birthDate: `19${50 + i}-0${(i % 9) + 1}-1${i % 10}`,
    });
  }
  await create(repo, { resourceType: 'Group', id: 'g1', type: 'person', actual: true });
  await create(repo, { resourceType: 'Organization', id: 'org-1', ...label('N'), name: 'Example Hospital' });

  for (let i = 1; i <= 20; i++) {
    const subject = { reference: `Patient/p${nn(i)}` };
    const category = (c) => (c ? { category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: c }] }] } : {});
    const obs = (n, code, value, cat) => ({
      resourceType: 'Observation',
      id: `obs-${nn(i)}-${n}`,
      ...label(code),
      ...category(cat),
      status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '8867-4', display: 'Heart rate' }] },
      subject,
      valueQuantity: { value, unit: 'beats/minute', system: 'http://unitsofmeasure.org', code: '/min' },
    });
    await create(repo, obs(1, 'N', 60 + i, 'vital-signs'));
    await create(repo, obs(2, i % 3 === 0 ? 'R' : 'N', 70 + i, 'laboratory'));
    await create(repo, obs(3, undefined, 80 + i));
    await create(repo, {
      resourceType: 'Condition',
      id: `cond-${nn(i)}`,
      ...label('N'),
      subject,
      code: { text: 'Hypertension' },
    });
    if (i <= 10) {
      await create(repo, {
        resourceType: 'Specimen',
        id: `spec-${nn(i)}`,
        ...label(i === 3 ? 'R' : 'N'),
        subject,
        type: { text: 'Blood' },
      });
    }
  }
  await create(repo, {
    resourceType: 'Observation',
    id: 'obs-group',
    ...label('N'),
    status: 'final',
    code: { text: 'Group survey' },
    subject: { reference: 'Group/g1' },
  });
  await create(repo, {
    resourceType: 'Observation',
    id: 'obs-foreign',
    ...label('N'),
    status: 'final',
    code: { text: 'Elsewhere' },
    subject: { reference: 'http://other.example.org/fhir/Patient/p01' },
  });
}

module.exports = { seed };
