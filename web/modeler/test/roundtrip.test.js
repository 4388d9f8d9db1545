// Round trip of Weijian's BPMN files through bpmn-moddle with the spiffworkflow descriptor:
// every spiffworkflow element (name, attributes, text) survives import and export, and each one
// is read as a typed element of the descriptor (not as a generic, unknown element).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpmnModdle } from 'bpmn-moddle';
import { keepVariableReferences } from '../src/references.js';

const here = dirname(fileURLToPath(import.meta.url));
const processes = join(here, '..', '..', '..', 'processes');
const descriptor = JSON.parse(readFileSync(join(here, '..', 'src', 'spiffworkflow.json'), 'utf8'));
const SPIFF = /<spiffworkflow:([A-Za-z]+)((?:\s+[A-Za-z:]+="[^"]*")*)\s*(\/?)>([^<]*)/g;

function unescape(text) {
  return text.replace(/&#(x?)([0-9a-f]+);/gi, (_, hex, n) => String.fromCodePoint(parseInt(n, hex ? 16 : 10)))
    .replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Every spiffworkflow start tag in document order: name, sorted attributes, its leading text. */
function spiffElements(xml) {
  const found = [];
  for (const [, name, attrs, , text] of xml.matchAll(SPIFF)) {
    const pairs = [...attrs.matchAll(/([A-Za-z:]+)="([^"]*)"/g)].map(([, k, v]) => `${k}=${unescape(v)}`).sort();
    found.push(`${name}(${pairs.join(',')})${unescape(text).trim()}`);
  }
  return found;
}

/** Multi-instance collections are variable names SpiffWorkflow reads from the loop references. */
function loopReferences(xml) {
  return [...xml.matchAll(/<bpmn:(loopData(?:Input|Output)Ref)>([^<]*)</g)].map(([, k, v]) => `${k}=${v}`);
}

/** Parse as the modeler does: unresolved loop references are kept as variable names. */
async function read(moddle, xml) {
  const result = await moddle.fromXML(xml);
  const kept = keepVariableReferences(moddle, result.warnings);
  const others = result.warnings.filter((w) => !/^unresolved reference/.test(w.message));
  return { ...result, kept, others };
}

function bpmnFiles() {
  const files = [];
  for (const dir of readdirSync(processes, { withFileTypes: true })) {
    if (!dir.isDirectory()) continue;
    for (const name of readdirSync(join(processes, dir.name))) {
      if (name.endsWith('.bpmn')) files.push(join(processes, dir.name, name));
    }
  }
  return files.sort();
}

function walkSpiff(element, seen, found) {
  if (!element || typeof element !== 'object' || seen.has(element)) return;
  seen.add(element);
  if (element.$type && element.$type.startsWith('spiffworkflow:')) found.push(element);
  for (const key of Object.keys(element)) {
    if (key === '$parent' || key === '$model' || key === '$descriptor' || key === 'di') continue;
    const value = element[key];
    if (Array.isArray(value)) value.forEach((v) => walkSpiff(v, seen, found));
    else if (value && typeof value === 'object' && value.$type) walkSpiff(value, seen, found);
  }
}

test('penalty_ordinary.bpmn keeps every spiffworkflow element', async () => {
  const path = join(processes, 'penalty', 'penalty_ordinary.bpmn');
  const xml = readFileSync(path, 'utf8');
  const moddle = new BpmnModdle({ spiffworkflow: descriptor });
  const { rootElement, others, kept } = await read(moddle, xml);
  assert.deepEqual(others.map((w) => w.message), []);
  assert.equal(kept, 2);

  const typed = [];
  walkSpiff(rootElement, new Set(), typed);
  const generic = typed.filter((e) => e.$descriptor.isGeneric).map((e) => e.$type);
  assert.deepEqual(generic, [], 'spiffworkflow elements unknown to the descriptor');

  const before = spiffElements(xml);
  assert.ok(before.length > 250, `expected many spiffworkflow elements, got ${before.length}`);
  assert.ok(before.some((e) => e.startsWith('property(name=formKey,')));
  assert.ok(before.some((e) => e.startsWith('serviceTaskOperator(id=penalty.close_lead,resultVariable=closed_lead)')));

  const { xml: exported } = await moddle.toXML(rootElement, { format: true });
  assert.deepEqual(spiffElements(exported), before);
  assert.deepEqual(loopReferences(exported), loopReferences(xml));
  assert.deepEqual(loopReferences(xml), ['loopDataInputRef=officers', 'loopDataOutputRef=declarations']);

  // and the exported file reads back the same way
  const again = await read(moddle, exported);
  assert.deepEqual(again.others.map((w) => w.message), []);
  const { xml: twice } = await moddle.toXML(again.rootElement, { format: true });
  assert.equal(twice, exported);
});

test('every process file round-trips its spiffworkflow elements', async () => {
  const files = bpmnFiles();
  assert.ok(files.length >= 5);
  for (const path of files) {
    const xml = readFileSync(path, 'utf8');
    const moddle = new BpmnModdle({ spiffworkflow: descriptor });
    const { rootElement, others } = await read(moddle, xml);
    assert.deepEqual(others.map((w) => w.message), [], path);
    const { xml: exported } = await moddle.toXML(rootElement, { format: true });
    assert.deepEqual(spiffElements(exported), spiffElements(xml), path);
    assert.deepEqual(loopReferences(exported), loopReferences(xml), path);
  }
});
