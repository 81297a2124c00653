// An answer's tool calls, assembled from the deltas of a stream the way OpenAI's SDK does:
// by `index`; id, type and name taken from the delta that carries them; argument fragments
// appended in order. What a node sends is checked, so a hostile one cannot make the page
// hold unbounded calls or text.

const kMaxCalls = 64;
const kMaxNameChars = 256;
const kMaxArgumentChars = 256 * 1024;

// A delta the page cannot use; the message says why.
export class ToolCallError extends Error {
  name = 'ToolCallError';
}

function optionalString(value, what, limit) {
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new ToolCallError(`${what} is not a string`);
  if (value.length > limit) throw new ToolCallError(`${what} is longer than ${limit} characters`);
  return value;
}

// Adds `deltas` (one chunk's choices[0].delta.tool_calls) to `calls`, an array of
// {id, type, function: {name, arguments}} changed in place. A delta's index is that of a
// call already started or of the next one. Throws ToolCallError for anything else.
export function mergeToolCallDeltas(calls, deltas) {
  if (deltas === undefined || deltas === null) return;
  if (!Array.isArray(deltas)) throw new ToolCallError('tool_calls is not a list');
  for (const delta of deltas) {
    const index = delta?.index;
    if (!Number.isInteger(index) || index < 0 || index > calls.length) {
      throw new ToolCallError(`a tool call has index ${JSON.stringify(index)}, expected 0 to ${calls.length}`);
    }
    if (index >= kMaxCalls) throw new ToolCallError(`more than ${kMaxCalls} tool calls`);
    if (delta.function !== undefined && (typeof delta.function !== 'object' || delta.function === null)) {
      throw new ToolCallError('a tool call\'s "function" is not an object');
    }
    const id = optionalString(delta.id, 'a tool call\'s id', kMaxNameChars);
    const type = optionalString(delta.type, 'a tool call\'s type', kMaxNameChars);
    const name = optionalString(delta.function?.name, 'a tool call\'s name', kMaxNameChars);
    const fragment = optionalString(delta.function?.arguments, 'a tool call\'s arguments', kMaxArgumentChars);
    const call = calls[index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } };
    if (id) call.id = id;
    if (type) call.type = type;
    if (name) call.function.name = name;
    if (call.function.arguments.length + fragment.length > kMaxArgumentChars) {
      throw new ToolCallError(`a tool call's arguments are longer than ${kMaxArgumentChars} characters`);
    }
    call.function.arguments += fragment;
  }
}

// The calls of a whole (not streamed) message, checked as a stream's would be.
export function readToolCalls(list) {
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) throw new ToolCallError('tool_calls is not a list');
  const calls = [];
  mergeToolCallDeltas(calls, list.map((call, index) => ({ ...call, index })));
  return calls;
}
