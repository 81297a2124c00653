// The node's HTTP APIs as the page uses them: JSON GETs, and a chat answer streamed through
// either the OpenAI-compatible route or the native one.
import { readEvents } from './sse.js';
import { mergeToolCallDeltas, readToolCalls, ToolCallError } from './tool_calls.js';

// A failed call, with a message meant for a person. `status` is the HTTP status (0 when the
// node could not be reached or the stream broke); `retryAfter` is in seconds (0: not given).
export class ApiError extends Error {
  constructor(message, { status = 0, retryAfter = 0 } = {}) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.retryAfter = retryAfter;
  }

  // The node is busy (full queue) or not ready: the same request may work a little later.
  get retryable() {
    return this.status === 429 || this.status === 503;
  }
}

// The message of an error body in any shape the node uses: OpenAI's {"error": {"message"}},
// a native stream's {"error": "..."} or a native reply's {"detail": "..."}.
export function errorMessage(body) {
  const error = body?.error ?? body?.detail;
  if (typeof error === 'string') return error;
  if (typeof error?.message === 'string') return error.message;
  return error === undefined ? '' : JSON.stringify(error);
}

async function failure(response) {
  const body = await response.json().catch(() => null);
  const message = errorMessage(body) || `HTTP ${response.status} ${response.statusText}`.trim();
  const retryAfter = Number(response.headers.get('Retry-After')) || 0;
  return new ApiError(message, { status: response.status, retryAfter });
}

async function request(path, { body, apiKey, signal } = {}) {
  const headers = { Accept: body === undefined ? 'application/json' : 'text/event-stream' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (apiKey) headers.Authorization = `Bearer ${apiKey}`;
  let response;
  try {
    response = await fetch(path, {
      method: body === undefined ? 'GET' : 'POST',
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      signal,
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError('the node could not be reached: is it still running?');
  }
  if (!response.ok) throw await failure(response);
  return response;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    throw new ApiError('the node sent something that is not JSON');
  }
}

export async function getJson(path, options) {
  const response = await request(path, options);
  return parseJson(await response.text());
}

// Flattens a chat into one plain-text prompt for the native API, which takes no messages.
// Tool calls and their results become lines of text.
export function flattenChat(messages) {
  const names = { system: 'System', user: 'User', assistant: 'Assistant', tool: 'Tool' };
  const calls = (m) => (m.tool_calls ?? []).map((c) => `(calls ${c.function.name} with ${c.function.arguments})`);
  const textOf = (m) => [m.content, ...calls(m)].filter(Boolean).join('\n');
  const turns = messages.map((m) => `${names[m.role] ?? m.role}: ${textOf(m)}`);
  return `${turns.join('\n\n')}\n\nAssistant:`;
}

// Stops the native model from writing the user's next turn itself.
const kNativeStops = ['\nUser:', '\nSystem:'];

const incomplete = () => new ApiError('the connection closed before the answer was complete');

// A node's tool calls, checked; one the page cannot read fails the answer in plain words.
function toolCallsOf(read) {
  try {
    return read();
  } catch (e) {
    if (!(e instanceof ToolCallError)) throw e;
    throw new ApiError(`the node sent a tool call the page cannot read: ${e.message}`);
  }
}

// A node may answer in one piece, a chat.completion, rather than as a stream.
async function* openAiWhole(response, nodeId) {
  const completion = parseJson(await response.text());
  if (completion.error) throw new ApiError(errorMessage(completion) || 'the node failed while answering');
  const message = completion.choices?.[0]?.message ?? {};
  const toolCalls = toolCallsOf(() => readToolCalls(message.tool_calls));
  const text = typeof message.content === 'string' ? message.content : '';
  yield { text, toolCalls, tokens: completion.usage?.completion_tokens ?? 0, nodeId };
}

async function* openAiChat({ messages, model, maxTokens, temperature, json, tools, apiKey, signal }) {
  const body = {
    model, messages, max_tokens: maxTokens, temperature, stream: true, stream_options: { include_usage: true },
  };
  if (json) body.response_format = { type: 'json_object' };
  if (tools) body.tools = tools;
  const response = await request('/v1/chat/completions', { body, apiKey, signal });
  const nodeId = response.headers.get('X-LlamaNet-Node') ?? '';
  if (!(response.headers.get('Content-Type') ?? '').startsWith('text/event-stream')) {
    yield* openAiWhole(response, nodeId);
    return;
  }
  let tokens = 0;
  const toolCalls = [];
  for await (const data of readEvents(response)) {
    if (data === '[DONE]') return;
    const chunk = parseJson(data);
    if (chunk.error) throw new ApiError(errorMessage(chunk) || 'the node failed while answering');
    const delta = chunk.choices?.[0]?.delta ?? {};
    const text = typeof delta.content === 'string' ? delta.content : '';
    toolCallsOf(() => mergeToolCallDeltas(toolCalls, delta.tool_calls));
    // Chunks count tokens while streaming; the last chunk's usage has the exact number.
    if (text || delta.tool_calls?.length) tokens += 1;
    if (chunk.usage) tokens = chunk.usage.completion_tokens ?? tokens;
    yield { text, toolCalls, tokens, nodeId };
  }
  throw incomplete();
}

async function* nativeChat({ messages, maxTokens, temperature, apiKey, signal }) {
  const body = { prompt: flattenChat(messages), max_tokens: maxTokens, temperature, stop: kNativeStops };
  const response = await request('/generate/stream', { body, apiKey, signal });
  const header = response.headers.get('X-LlamaNet-Node') ?? '';
  for await (const data of readEvents(response)) {
    const event = parseJson(data);
    if (event.error) throw new ApiError(errorMessage(event) || 'the node failed while answering');
    const nodeId = event.node_id ?? header;
    yield { text: event.text ?? '', toolCalls: [], tokens: event.tokens_generated ?? 0, nodeId };
    if (event.finished) return;
  }
  throw incomplete();
}

// Streams the assistant's answer to `messages` (OpenAI's chat messages) through `api`
// ("openai" or "native"; the native API always uses the serving node's model and takes
// neither `json` nor `tools`). Yields {text, toolCalls, tokens, nodeId} as pieces arrive:
// `text` is the new piece, `toolCalls` the calls assembled so far, `tokens` the count so
// far. Throws ApiError on failure, and the AbortError of `signal` when stopped.
export function streamChat(api, options) {
  return api === 'native' ? nativeChat(options) : openAiChat(options);
}
