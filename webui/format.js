// Numbers, durations and times as people read them.

export function formatRate(tokensPerSecond) {
  const n = Number(tokensPerSecond);
  return Number.isFinite(n) ? `${n.toFixed(n < 10 ? 1 : 0)} tok/s` : '–';
}

export function formatCount(n) {
  return Number.isFinite(Number(n)) ? Number(n).toLocaleString('en') : '–';
}

export function formatDuration(seconds) {
  let s = Math.max(0, Math.floor(Number(seconds) || 0));
  const parts = [];
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]]) {
    if (s >= size) {
      parts.push(`${Math.floor(s / size)}${unit}`);
      s %= size;
    }
  }
  if (parts.length < 2) parts.push(`${s}s`);
  return parts.slice(0, 2).join(' ');
}

// `epochSeconds` as "12s ago"; the clocks of two machines may differ by a little.
export function formatAgo(epochSeconds, nowMs = Date.now()) {
  const t = Number(epochSeconds);
  if (!Number.isFinite(t) || t <= 0) return '–';
  const age = nowMs / 1000 - t;
  return age < 1 ? 'just now' : `${formatDuration(age)} ago`;
}

export function formatBytes(bytes) {
  const n = Number(bytes);
  if (!Number.isFinite(n) || n <= 0) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  const i = Math.min(Math.floor(Math.log2(n) / 10), units.length - 1);
  return `${(n / 1024 ** i).toFixed(i ? 1 : 0)} ${units[i]}`;
}
