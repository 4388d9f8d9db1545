// Read-only process diagram for the process overview page: Cockpit-style badges with the number
// of running tokens (blue) and incidents (red) per activity, deploy-diff markers and highlights.
// window.WeijianViewer.mount(el, xml, {counts, diff, highlight}); elements with
// [data-weijian-viewer] and data-config="<id of a <script type="application/json">>" holding
// {"xml": ..., "counts": ..., "diff": ..., "highlight": [...]} are mounted on page load.
import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';

import spiffworkflow from './spiffworkflow.json';
import { el, markDiff } from './markers.js';
import './viewer.css';

function countBadges(viewer, counts) {
  const overlays = viewer.get('overlays');
  const registry = viewer.get('elementRegistry');
  for (const [id, count] of Object.entries(counts || {})) {
    const element = registry.get(id);
    if (!element || element.labelTarget || !count) continue;
    const running = Number(count.running) || 0;
    const incidents = Number(count.incidents) || 0;
    if (!running && !incidents) continue;
    overlays.add(element, 'weijian-count', {
      position: { bottom: 10, left: -8 },
      scale: { min: 1 }, // badges keep their size when the diagram is zoomed out
      html: el('div', { class: 'weijian-counts' },
        running ? el('span', { class: 'weijian-count-running', title: `running: ${running}` }, String(running)) : null,
        incidents ? el('span', { class: 'weijian-count-incidents', title: `incidents: ${incidents}` }, String(incidents)) : null),
    });
  }
}

async function mount(container, xml, options = {}) {
  const viewer = new NavigatedViewer({ container, moddleExtensions: { spiffworkflow } });
  container.classList.add('weijian-viewer');
  await viewer.importXML(xml);
  const canvas = viewer.get('canvas');
  canvas.zoom('fit-viewport', 'auto');
  countBadges(viewer, options.counts);
  const diff = markDiff(viewer, options.diff || {});
  const registry = viewer.get('elementRegistry');
  for (const id of options.highlight || []) {
    if (registry.get(id)) canvas.addMarker(id, 'weijian-highlight');
  }
  return { viewer, removed: diff.removed };
}

window.WeijianViewer = { mount };

function autoMount() {
  for (const container of document.querySelectorAll('[data-weijian-viewer]')) {
    const source = document.getElementById(container.dataset.config || '');
    if (!source) continue;
    let config;
    try {
      config = JSON.parse(source.textContent);
    } catch (error) {
      console.error('weijian viewer config', error); // eslint-disable-line no-console
      continue;
    }
    mount(container, config.xml || '', config).catch((error) => {
      console.error(error); // eslint-disable-line no-console
      container.textContent = error.message || String(error);
    });
  }
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', autoMount);
else autoMount();
