// Builds DOM nodes from data. Text always goes in as text nodes, never as HTML, so nothing
// that a node or a model sends can inject markup through here.

// el('td', {className: 'x', title: 'y'}, 'text', childNode, ...): properties are assigned to the
// element; null and undefined children are skipped, other values become text.
export function el(tag, props = {}, ...children) {
  const node = Object.assign(document.createElement(tag), props);
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

// A Bootstrap progress bar for a fraction from 0 to 1 (a node's load).
export function loadBar(fraction) {
  const percent = Math.round(Math.min(Math.max(Number(fraction) || 0, 0), 1) * 100);
  const bar = el('div', { className: 'progress-bar' });
  bar.style.width = `${percent}%`;
  if (percent >= 90) bar.classList.add('bg-danger');
  else if (percent >= 60) bar.classList.add('bg-warning');
  const progress = el('div', { className: 'progress load-bar', role: 'progressbar', title: `${percent}% busy` }, bar);
  progress.setAttribute('aria-valuenow', String(percent));
  progress.setAttribute('aria-valuemin', '0');
  progress.setAttribute('aria-valuemax', '100');
  progress.setAttribute('aria-label', 'load');
  return el('div', { className: 'd-flex align-items-center gap-2' }, progress, el('span', {}, `${percent}%`));
}
