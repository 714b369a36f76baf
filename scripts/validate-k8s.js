// Validates Kubernetes objects (a multi-document YAML stream on stdin, as `helm template`
// prints it) against the Kubernetes OpenAPI schemas, with the kubernetes-models package.
// Usage: helm template … | node scripts/validate-k8s.js TOOLS_DIR EXPECTED_KINDS
// TOOLS_DIR holds node_modules/{kubernetes-models,yaml} (scripts/check-helm.sh installs them
// there: CI tools, not dependencies of askbase). EXPECTED_KINDS is a comma-separated list of
// the kinds that must be rendered (each at least once), so a template that renders nothing
// cannot pass unnoticed.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [tools, expected = ''] = process.argv.slice(2);
if (!tools) throw new Error('usage: validate-k8s.js TOOLS_DIR [EXPECTED_KINDS]');
const modules = join(tools, 'node_modules');
const { parseAllDocuments } = await import(pathToFileURL(join(modules, 'yaml/dist/index.js')).href);

const documents = parseAllDocuments(readFileSync(0, 'utf8'));
const kinds = [];
let failures = 0;
for (const document of documents) {
  if (document.errors.length > 0) throw new Error(`not YAML: ${document.errors[0]?.message}`);
  const object = document.toJS();
  if (object === null) continue;
  const { apiVersion, kind } = object;
  const name = `${kind} ${object.metadata?.name}`;
  let Model;
  try {
    const module = await import(
      pathToFileURL(join(modules, 'kubernetes-models', apiVersion, `${kind}.js`)).href
    );
    Model = module[kind];
  } catch {
    console.error(`✗ ${name}: no schema for ${apiVersion} ${kind}`);
    failures += 1;
    continue;
  }
  try {
    new Model(object).validate();
    kinds.push(kind);
    console.log(`✓ ${name} (${apiVersion})`);
  } catch (error) {
    console.error(`✗ ${name}: ${error.message}`);
    failures += 1;
  }
}
for (const kind of expected.split(',').filter(Boolean)) {
  if (!kinds.includes(kind)) {
    console.error(`✗ no ${kind} was rendered`);
    failures += 1;
  }
}
if (failures > 0) {
  console.error(`${failures} object(s) failed validation`);
  process.exit(1);
}
console.log(`${kinds.length} object(s) valid`);
