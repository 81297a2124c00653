// The live network monitor: every few seconds it reads this node's /status and /info, the
// swarm's nodes (/nodes) and the DHT (/dht/status), and shows them. A route that a node does
// not have yet (404) or that fails is shown as such; the rest of the page keeps working.
import { ApiError, getJson } from './api.js';
import { el, loadBar } from './dom.js';
import { formatAgo, formatBytes, formatCount, formatDuration, formatRate } from './format.js';

const kPollMs = 5000;
const kListLimit = 50;  // rows shown of the DHT's contacts and keys

// {data} or {error: words for a person}.
async function load(path) {
  try {
    return { data: await getJson(path) };
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    return { error: e.status === 404 ? 'Not available on this node yet.' : `Not available right now: ${e.message}` };
  }
}

function definitions(list, pairs) {
  list.replaceChildren(...pairs.flatMap(([term, value]) => [
    el('dt', { className: 'col-5 fw-normal text-body-secondary' }, term),
    el('dd', { className: 'col-7 mb-1 text-break' }, value),
  ]));
}

function table(headings, rows) {
  return el('div', { className: 'table-responsive' },
    el('table', { className: 'table table-sm align-middle mb-0' },
      el('thead', {}, el('tr', {}, ...headings.map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, ...rows)));
}

// "3 nodes · 2 models", or for a large swarm, listed in part: "40 of about 1,200 nodes (a
// sample) · 5 models". Older nodes send only `nodes` and `total_count`.
export function swarmSummary(data, nodes) {
  const plural = (n, word) => `${n.toLocaleString('en-US')} ${word}${n === 1 ? '' : 's'}`;
  const swarm = data.swarm;
  const total = Number.isInteger(swarm?.nodes) ? swarm.nodes : (data.total_count ?? nodes.length);
  const models = Number.isInteger(swarm?.models) ? swarm.models : new Set(nodes.map((n) => n.model)).size;
  const about = swarm?.nodes_estimated ? 'about ' : '';
  const count = data.sampled && total > nodes.length
    ? `${nodes.length.toLocaleString('en-US')} of ${about}${plural(total, 'node')} (a sample)`
    : `${about}${plural(total, 'node')}`;
  return `${count} · ${plural(models, 'model')}`;
}

function notice(text) {
  return el('p', { className: 'text-body-secondary m-3' }, text);
}

function more(shown, total) {
  return total > shown ? el('p', { className: 'text-body-secondary small mt-1 mb-0' }, `and ${total - shown} more`) : null;
}

export class Monitor {
  constructor(root, badge) {
    this.thisNode = root.querySelector('#this-node');
    this.thisNodeError = root.querySelector('#this-node-error');
    this.nodes = root.querySelector('#nodes');
    this.nodesUpdated = root.querySelector('#nodes-updated');
    this.dht = root.querySelector('#dht');
    this.badge = badge;
    this.polling = false;
  }

  start() {
    this.poll();
    setInterval(() => document.hidden || this.poll(), kPollMs);
    document.addEventListener('visibilitychange', () => document.hidden || this.poll());
  }

  async poll() {
    if (this.polling) return;
    this.polling = true;
    try {
      const [status, info, nodes, dht] = await Promise.all(['/status', '/info', '/nodes', '/dht/status'].map(load));
      this.showThisNode(status, info);
      this.showNodes(nodes, info.data?.node_id);
      this.showDht(dht);
    } finally {
      this.polling = false;
    }
  }

  showThisNode(status, info) {
    const s = status.data ?? {};
    const i = info.data ?? {};
    const error = status.error ?? info.error;
    this.thisNodeError.textContent = error ? `This node: ${error}` : '';
    this.thisNodeError.hidden = !error;
    this.badge.textContent = status.data
      ? `${i.node_id ?? 'this node'} · ${s.model} · load ${Math.round((s.load ?? 0) * 100)}%`
      : 'node unreachable';
    if (!status.data) return;
    const sys = i.system ?? {};
    definitions(this.thisNode, [
      ['Node', i.node_id ?? '–'],
      ['Model', s.model ?? i.model ?? '–'],
      ['Load', loadBar(s.load)],
      ['Slots busy', `${formatCount(s.slots_busy)} of ${formatCount(s.slots)}`],
      ['Queue', formatCount(s.queue)],
      ['Speed (one request)', formatRate(s.tps)],
      ['Speed (all slots)', formatRate(s.decode_tps)],
      ['Tokens served', formatCount(s.total_tokens)],
      ['Uptime', formatDuration(s.uptime)],
      ['CPU', sys.cpu ?? '–'],
      ['Memory free', `${formatBytes(sys.ram?.available)} of ${formatBytes(sys.ram?.total)}`],
      ['GPU', Array.isArray(sys.gpu) ? sys.gpu.join(', ') : (sys.gpu ?? 'none')],
      ['DHT port', i.dht_port ?? '–'],
    ]);
  }

  showNodes(result, selfId) {
    const nodes = result.data?.nodes;
    if (!Array.isArray(nodes)) {
      this.nodesUpdated.textContent = '';
      this.nodes.replaceChildren(notice(result.error ?? 'The node list has an unexpected shape.'));
      return;
    }
    this.nodesUpdated.textContent = `${swarmSummary(result.data, nodes)} · updated ${new Date().toLocaleTimeString()}`;
    if (nodes.length === 0) {
      this.nodes.replaceChildren(notice('No nodes are known yet.'));
      return;
    }
    const sorted = [...nodes].sort((a, b) => (b.node_id === selfId) - (a.node_id === selfId) ||
      String(a.node_id).localeCompare(String(b.node_id)));
    const rows = sorted.map((n) => el('tr', { className: n.node_id === selfId ? 'table-active' : '' },
      el('th', { scope: 'row', className: 'text-break' }, n.node_id ?? '–',
        n.node_id === selfId ? el('span', { className: 'badge text-bg-primary ms-2' }, 'this node') : null),
      el('td', {}, `${n.ip ?? '?'}:${n.port ?? '?'}`),
      el('td', { className: 'text-break' }, n.model ?? '–'),
      el('td', {}, loadBar(n.load)),
      el('td', {}, formatRate(n.tps)),
      el('td', {}, formatDuration(n.uptime)),
      el('td', {}, formatAgo(n.last_seen))));
    this.nodes.replaceChildren(table(['Node', 'Address', 'Model', 'Load', 'Speed', 'Uptime', 'Last seen'], rows));
  }

  showDht(result) {
    const d = result.data;
    if (!d) {
      this.dht.replaceChildren(el('p', { className: 'text-body-secondary mb-0' }, result.error));
      return;
    }
    const summary = el('dl', { className: 'row mb-2' });
    const contacts = Array.isArray(d.contacts) ? d.contacts : [];
    const keys = Array.isArray(d.storage_keys) ? d.storage_keys : [];
    definitions(summary, [
      ['Running', d.running ? 'yes' : 'no'],
      ['UDP port', d.dht_port ?? '–'],
      ['Contacts', formatCount(d.contacts_count ?? contacts.length)],
      ['Stored keys', formatCount(keys.length)],
    ]);
    const shown = contacts.slice(0, kListLimit).map((c) => el('tr', {},
      el('td', { className: 'text-break' }, c.node_id ?? '–'),
      el('td', {}, `${c.ip ?? '?'}:${c.port ?? '?'}`),
      el('td', {}, formatAgo(c.last_seen))));
    const keyList = el('p', { className: 'mb-0 mt-2 text-break' },
      ...keys.slice(0, kListLimit).map((k) => el('code', { className: 'me-2' }, String(k))));
    const parts = [
      summary,
      contacts.length ? table(['Contact', 'Address', 'Last seen'], shown) : null,
      more(shown.length, contacts.length),
      keys.length ? keyList : null,
      more(Math.min(keys.length, kListLimit), keys.length),
    ];
    this.dht.replaceChildren(...parts.filter(Boolean));
  }
}
