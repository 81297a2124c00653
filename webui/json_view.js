// Tool calls and JSON answers as readable blocks: JSON re-indented in a monospace block,
// anything else shown as it came. Model text only ever goes in as text nodes (el()), never
// as HTML.
import { el } from './dom.js';

const kWhitespace = ' \t\n\r';
// Deeper levels are indented no further, so "[[[[…" cannot multiply the text many times over.
const kMaxIndent = 16;

// `text` re-indented by two spaces a level when it is one JSON value, null when it is not.
// Numbers and strings keep their exact characters: JSON.stringify(JSON.parse(text)) would
// round 12345678901234567890 and drop all but the last of duplicate keys.
export function formatJson(text) {
  try {
    JSON.parse(text);
  } catch {
    return null;
  }
  let out = '';
  let depth = 0;
  const newline = () => `\n${'  '.repeat(Math.min(depth, kMaxIndent))}`;
  for (let i = 0; i < text.length; ++i) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      out += text.slice(i, end + 1);
      i = end;
    } else if (c === '{' || c === '[') {
      let next = i + 1;
      while (kWhitespace.includes(text[next])) ++next;
      if (text[next] === (c === '{' ? '}' : ']')) {
        out += c + text[next];
        i = next;
      } else {
        ++depth;
        out += c + newline();
      }
    } else if (c === '}' || c === ']') {
      --depth;
      out += newline() + c;
    } else if (c === ',') {
      out += `,${newline()}`;
    } else if (c === ':') {
      out += ': ';
    } else if (!kWhitespace.includes(c)) {
      out += c;
    }
  }
  return out;
}

// An answer re-indented when it is a JSON object or array (what JSON output asks for), null
// for any other text, a bare JSON number or string included.
export function formatJsonAnswer(text) {
  const trimmed = text.trim();
  return trimmed.startsWith('{') || trimmed.startsWith('[') ? formatJson(trimmed) : null;
}

// A monospace block of `text`.
export function jsonBlock(text) {
  return el('pre', { className: 'json-block' }, el('code', {}, text));
}

// One block per call: the function's name, the call's id and its arguments, re-indented when
// they are JSON and as they came otherwise (a stream shows them before they are complete).
export function renderToolCalls(calls) {
  return calls.map((call) => el('section', { className: 'tool-call' },
    el('div', { className: 'tool-call-head small' },
      'Calls ', el('code', { className: 'tool-call-name' }, call.function.name || '…'),
      call.id ? el('span', { className: 'tool-call-id text-body-secondary' }, call.id) : null),
    jsonBlock(formatJson(call.function.arguments) ?? call.function.arguments)));
}
