// Markers shared by the modeler and the viewer: deploy diffs and problem badges.
export const DIFF_MARKERS = { added: 'weijian-added', changed: 'weijian-changed' };

/** Mark added and changed elements; return the removed ids (they are not in the diagram). */
export function markDiff(diagram, diff) {
  const canvas = diagram.get('canvas');
  const registry = diagram.get('elementRegistry');
  registry.forEach((element) => {
    for (const marker of Object.values(DIFF_MARKERS)) canvas.removeMarker(element, marker);
  });
  const shown = { added: [], changed: [] };
  for (const [kind, marker] of Object.entries(DIFF_MARKERS)) {
    for (const id of (diff && diff[kind]) || []) {
      const element = registry.get(id);
      if (element && element !== canvas.getRootElement()) {
        canvas.addMarker(element, marker);
        shown[kind].push(id);
      }
    }
  }
  return { ...shown, removed: ((diff && diff.removed) || []).slice() };
}

/** An element of the page's document built from a tag, attributes and children (no innerHTML). */
export function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}
