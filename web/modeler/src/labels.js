// Texts of the page come from config.labels (zh-CN, rendered by Flask); English fallbacks here.
let labels = {};

export function setLabels(value) {
  labels = value && typeof value === 'object' ? value : {};
}

export function label(key, fallback) {
  const text = labels[key];
  return typeof text === 'string' && text ? text : fallback;
}
