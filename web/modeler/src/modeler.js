// The BPMN editor of Weijian's process administration. Mounts itself on a page that carries
// <script type="application/json" id="modeler-config"> (see docs/modeler.md for the contract),
// and exposes window.WeijianModeler = {mount, markProblems, markDiff, getXML}.
import Modeler from 'bpmn-js/lib/Modeler';
import { BpmnPropertiesPanelModule, BpmnPropertiesProviderModule } from 'bpmn-js-properties-panel';

import spiffworkflow from './spiffworkflow.json';
import WeijianPropertiesProvider from './provider.js';
import { keepVariableReferences } from './references.js';
import { label, setLabels } from './labels.js';
import { el, markDiff as drawDiff } from './markers.js';
import './modeler.css';

const PROBLEM_OVERLAY = 'weijian-problem';
const PROBLEM_MARKER = 'weijian-has-problem';

let modeler = null;
let config = {};
let dirty = false;

const byId = (id) => document.getElementById(id);

function setStatus(kind, ...parts) {
  const status = byId('modeler-status');
  if (!status) return;
  status.className = `weijian-status weijian-status-${kind}`;
  status.replaceChildren(...parts.flat().filter((p) => p !== null && p !== undefined && p !== ''));
}

function elementName(element) {
  const bo = element.businessObject;
  return (bo && bo.name) || element.id;
}

/** Show the element in the middle of the canvas, zoomed in far enough to read it. */
function centre(canvas, element) {
  const box = canvas.viewbox();
  const scale = Math.max(box.scale || 1, 0.8);
  const width = box.outer.width / scale;
  const height = box.outer.height / scale;
  const x = element.x + (element.width || 0) / 2 - width / 2;
  const y = element.y + (element.height || 0) / 2 - height / 2;
  canvas.viewbox({ x, y, width, height });
}

/** Red badges on the elements named by the problems, and the list #modeler-problems. */
export function markProblems(problems) {
  if (!modeler) return;
  const overlays = modeler.get('overlays');
  const canvas = modeler.get('canvas');
  const registry = modeler.get('elementRegistry');
  overlays.remove({ type: PROBLEM_OVERLAY });
  registry.forEach((element) => canvas.removeMarker(element, PROBLEM_MARKER));

  const list = Array.isArray(problems) ? problems : [];
  const root = canvas.getRootElement();
  const onDiagram = (id) => {
    const element = id ? registry.get(id) : null;
    return element && element !== root && !element.labelTarget ? element : null;
  };
  const grouped = new Map();
  for (const problem of list) {
    const element = onDiagram(problem.element);
    if (!element) continue;
    if (!grouped.has(element)) grouped.set(element, []);
    grouped.get(element).push(problem);
  }
  for (const [element, items] of grouped) {
    const severity = items.some((p) => p.severity !== 'warning') ? 'error' : 'warning';
    const messages = items.map((p) => p.message || '');
    overlays.add(element, PROBLEM_OVERLAY, {
      position: { top: -12, right: 12 },
      scale: { min: 0.9 }, // readable in a zoomed-out overview of a large process
      html: el('div', { class: `weijian-problem weijian-severity-${severity}`, title: messages.join('\n') },
        el('span', { class: 'weijian-problem-icon', 'aria-hidden': 'true' }, '!'),
        el('span', { class: 'weijian-problem-text' }, messages[0] + (messages.length > 1 ? ` (+${messages.length - 1})` : ''))),
    });
    canvas.addMarker(element, PROBLEM_MARKER);
  }

  const ul = byId('modeler-problems');
  if (!ul) return;
  ul.classList.add('weijian-problems');
  ul.setAttribute('aria-label', label('problems', 'Problems'));
  if (!list.length) {
    ul.replaceChildren(el('li', { class: 'weijian-no-problems' }, label('no_problems', 'No problems')));
    return;
  }
  ul.replaceChildren(...list.map((problem) => {
    const element = onDiagram(problem.element);
    const severity = problem.severity === 'warning' ? 'warning' : 'error';
    const go = () => {
      modeler.get('selection').select(element);
      centre(canvas, element);
    };
    return el('li', {
      class: `weijian-problem-item weijian-severity-${severity}${element ? ' weijian-problem-link' : ''}`,
      tabindex: '0',
      role: element ? 'button' : undefined,
      'data-element': problem.element || undefined,
      onclick: element ? go : undefined,
      onkeydown: element ? (event) => {
        if (event.key === 'Enter' || event.key === ' ') { event.preventDefault(); go(); }
      } : undefined,
    }, element ? el('strong', {}, elementName(element)) : null, element ? ': ' : null, problem.message || '');
  }));
}

/** Green (added) and orange (changed) markers; returns the removed ids. */
export function markDiff(diff) {
  return modeler ? drawDiff(modeler, diff || {}) : { added: [], changed: [], removed: [] };
}

export async function getXML() {
  const { xml } = await modeler.saveXML({ format: true });
  return xml;
}

async function post(url, body) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': config.csrf_token || '' },
    body: JSON.stringify(body),
  });
  let data = {};
  try {
    data = await response.json();
  } catch (error) {
    data = {};
  }
  return { response, data: data && typeof data === 'object' ? data : {} };
}

function failure(response, data) {
  return data.message || `HTTP ${response.status} ${response.statusText || ''}`.trim();
}

function setBusy(busy) {
  for (const id of ['modeler-save', 'modeler-deploy']) {
    const button = byId(id);
    if (button) button.disabled = busy;
  }
}

async function save() {
  setBusy(true);
  try {
    const xml = await getXML();
    const { response, data } = await post(config.save_url, { file: config.file, xml });
    if (!response.ok) {
      if (Array.isArray(data.problems)) markProblems(data.problems);
      setStatus('error', failure(response, data));
      return;
    }
    dirty = false;
    markProblems(data.problems || []);
    const editors = Array.isArray(data.editors) && data.editors.length
      ? el('span', { class: 'weijian-editors' }, ` · ${label('editors', 'Also editing')}: ${data.editors.join(', ')}`) : null;
    setStatus('ok', `${label('saved', 'Saved')} ${data.saved_at || ''}`.trim(), editors);
  } catch (error) {
    setStatus('error', error.message || String(error));
  } finally {
    setBusy(false);
  }
}

async function deploy() {
  const input = byId('modeler-reason');
  const reason = input ? input.value.trim() : '';
  if (!reason) {
    setStatus('error', label('reason_required', 'A reason is required to deploy'));
    if (input) input.focus();
    return;
  }
  setBusy(true);
  try {
    const xml = await getXML();
    const { response, data } = await post(config.deploy_url, { file: config.file, xml, reason });
    if (!response.ok || !data.ok) {
      if (Array.isArray(data.problems)) {
        markProblems(data.problems);
        setStatus('error', `${label('problems', 'Problems')}: ${data.problems.length}`, data.message ? ` · ${data.message}` : null);
      } else {
        setStatus('error', failure(response, data));
      }
      return;
    }
    dirty = false;
    markProblems(data.problems || []);
    const shown = markDiff(data.diff);
    const parts = [`${label('deployed', 'Deployed version')} ${data.version ?? ''}`.trim()];
    const summary = [];
    if (shown.added.length) summary.push(`${label('added', 'added')} ${shown.added.length}`);
    if (shown.changed.length) summary.push(`${label('changed', 'changed')} ${shown.changed.length}`);
    if (shown.removed.length) summary.push(`${label('removed', 'removed')}: ${shown.removed.join(', ')}`);
    if (summary.length) parts.push(` · ${summary.join(' · ')}`);
    if (data.redirect) parts.push(' · ', el('a', { href: data.redirect, class: 'weijian-redirect' }, label('open', data.redirect)));
    setStatus('ok', parts);
  } catch (error) {
    setStatus('error', error.message || String(error));
  } finally {
    setBusy(false);
  }
}

function layout(canvasEl, panelEl) {
  if (panelEl && canvasEl.parentElement === panelEl.parentElement) {
    canvasEl.parentElement.classList.add('weijian-modeler-split');
  }
  canvasEl.classList.add('weijian-modeler-canvas');
  if (panelEl) panelEl.classList.add('weijian-modeler-properties');
  const status = byId('modeler-status');
  if (status) {
    status.setAttribute('role', 'status');
    status.setAttribute('aria-live', 'polite');
  }
}

export async function mount(pageConfig) {
  config = pageConfig || {};
  setLabels(config.labels);
  const canvasEl = byId('modeler-canvas');
  const panelEl = byId('modeler-properties');
  if (!canvasEl) throw new Error('#modeler-canvas is missing');
  if (modeler) modeler.destroy();
  layout(canvasEl, panelEl);

  modeler = new Modeler({
    container: canvasEl,
    propertiesPanel: panelEl ? { parent: panelEl } : undefined,
    additionalModules: panelEl ? [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      {
        __init__: ['weijianPropertiesProvider'],
        weijianPropertiesProvider: ['type', WeijianPropertiesProvider],
        weijianConfig: ['value', config],
      },
    ] : [],
    moddleExtensions: { spiffworkflow },
  });
  modeler.on('import.parse.complete', (event) => {
    keepVariableReferences(modeler.get('moddle'), event.warnings);
  });
  modeler.on('commandStack.changed', (event) => {
    if (event.trigger === 'clear') return;
    dirty = true;
    setStatus('dirty', label('unsaved', 'Unsaved changes'));
  });

  try {
    await modeler.importXML(config.xml || '');
    modeler.get('canvas').zoom('fit-viewport', 'auto');
  } catch (error) {
    setStatus('error', error.message || String(error));
    throw error;
  }
  markProblems(config.problems || []);

  const saveButton = byId('modeler-save');
  const deployButton = byId('modeler-deploy');
  if (saveButton) {
    if (!saveButton.textContent.trim()) saveButton.textContent = label('save', 'Save draft');
    saveButton.onclick = (event) => { event.preventDefault(); save(); };
  }
  if (deployButton) {
    if (!deployButton.textContent.trim()) deployButton.textContent = label('deploy', 'Deploy');
    deployButton.onclick = (event) => { event.preventDefault(); deploy(); };
  }
  return modeler;
}

window.addEventListener('beforeunload', (event) => {
  if (dirty) {
    event.preventDefault();
    event.returnValue = '';
  }
});

window.WeijianModeler = {
  mount, markProblems, markDiff, getXML,
  get modeler() { return modeler; },
};

function autoMount() {
  const script = byId('modeler-config');
  if (!script) return;
  let pageConfig;
  try {
    pageConfig = JSON.parse(script.textContent);
  } catch (error) {
    setStatus('error', `modeler-config: ${error.message}`);
    return;
  }
  mount(pageConfig).catch((error) => console.error(error)); // eslint-disable-line no-console
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', autoMount);
else autoMount();
