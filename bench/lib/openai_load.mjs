// Streamed /v1/completions load for benchmarks against OpenAI-compatible servers (node 20,
// no packages): prompts of an exact token count that no server has seen, and streams timed
// from the client's side. Cheap per token: a chunk is parsed only for the first token, the
// usage and errors, so that one client process can drive thousands of tokens/s.
import http from 'node:http';

const kRequestTimeoutMs = 300_000;

// A fresh connection per request: servers close idle kept-alive connections on their own
// schedules, and a request sent on one that is closing fails. Loopback connects cost ~0.1 ms.
const agent = new http.Agent({ keepAlive: false, maxSockets: 256 });

// Lets the process exit once the load is over.
export function closeConnections() {
  agent.destroy();
}

// POSTs a JSON body; calls onData with each piece of the response body. Resolves with the
// status code once the response ends.
function post(base, path, body, onData) {
  return new Promise((resolve, reject) => {
    const url = new URL(path, base);
    const req = http.request(url, { method: 'POST', agent, headers: { 'Content-Type': 'application/json' } }, (res) => {
      res.setEncoding('utf8');
      res.on('data', (d) => onData(d));
      res.on('end', () => resolve(res.statusCode));
      res.on('error', reject);
    });
    req.setTimeout(kRequestTimeoutMs, () => req.destroy(new Error(`${path}: timed out`)));
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}

async function postJson(base, path, body) {
  let text = '';
  const status = await post(base, path, body, (d) => { text += d; });
  if (status !== 200) throw new Error(`${path}: HTTP ${status}: ${text}`);
  return JSON.parse(text);
}

// Random weights often pick byte tokens that form invalid UTF-8. llama-server (at the pinned
// commit) fails such a stream mid-way ("does not match the expected Content-only format"),
// so every request keeps the non-ASCII byte tokens of llamanet-mkmodel's vocabulary out
// (<0x80>..<0xFF> are ids 131..258): the same 128 logit_bias entries for both servers.
const kNoHighBytes = Object.fromEntries(Array.from({ length: 128 }, (_, i) => [String(131 + i), -100]));

// One short request, so that a server has its first-request costs behind it.
export async function warmUp(base) {
  await postJson(base, '/v1/completions', { prompt: 'warm up', max_tokens: 8, temperature: 0, logit_bias: kNoHighBytes });
}

async function promptTokens(base, prompt) {
  const r = await postJson(base, '/v1/completions', { prompt, max_tokens: 1, temperature: 0, logit_bias: kNoHighBytes });
  return r.usage.prompt_tokens;
}

const kWords = ['river', 'stone', 'light', 'market', 'garden', 'window', 'silver', 'morning', 'paper', 'island'];
const kSaltWords = ['apple', 'table', 'house', 'water', 'music', 'forest', 'winter', 'bridge', 'letter', 'cloud'];

// `count` prompts of exactly `target` tokens each (as `base` counts them, BOS included), each
// starting with its own three words. No measured prompt is ever sent before it is measured: a
// server that caches prompts (llama-server does, by default) must not find it cached, and no
// request can reuse another's prefix.
export async function makePrompts(base, target, count) {
  const salt = (n) => `${kSaltWords[n % 10]} ${kSaltWords[Math.floor(n / 10) % 10]} ${kSaltWords[Math.floor(n / 100) % 10]}`;
  // Words (often more than one token each) up to just under the target, then " a" (one
  // token) to make up the rest; calibrated behind salt 0, which is never measured.
  let words = target;
  let pad = 0;
  let body = null;
  for (let attempt = 0; attempt < 12 && body === null; ++attempt) {
    const text = Array.from({ length: words }, (_, i) => kWords[i % kWords.length]).join(' ') + ' a'.repeat(pad);
    const got = await promptTokens(base, `${salt(0)} ${text}`);
    if (got === target) {
      body = text;
    } else if (got > target && pad === 0) {
      words = Math.max(1, Math.floor((words * target) / got) - 1);
    } else {
      pad = Math.max(0, pad + target - got);
    }
  }
  if (body === null) throw new Error(`could not make a prompt of ${target} tokens`);
  // Salts of the same length as salt 0 (tokens never merge across the space after them).
  const saltTokens = await promptTokens(base, `${salt(0)} x`);
  const prompts = [];
  for (let n = 1; n < 1000 && prompts.length < count; ++n) {
    if ((await promptTokens(base, `${salt(n)} x`)) === saltTokens) prompts.push(`${salt(n)} ${body}`);
  }
  if (prompts.length < count) throw new Error(`only ${prompts.length} prompts of ${target} tokens`);
  return prompts;
}


// One streamed completion; times in ms from its start.
export async function streamOne(base, prompt, maxTokens) {
  const start = performance.now();
  let firstToken = null;
  let buffer = '';
  let usage = null;
  let error = null;
  const status = await post(base, '/v1/completions', {
    prompt, max_tokens: maxTokens, temperature: 0, ignore_eos: true, stream: true, logit_bias: kNoHighBytes,
    stream_options: { include_usage: true },
  }, (d) => {
    buffer += d;
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('');
      if (!data || data === '[DONE]') continue;
      if (firstToken !== null && !data.includes('"usage"') && !data.includes('"error"')) continue;
      const chunk = JSON.parse(data);
      if (chunk.error) error = chunk.error;
      if (chunk.usage) usage = chunk.usage;
      if (firstToken === null && chunk.choices?.length) firstToken = performance.now();
    }
  });
  const end = performance.now();
  if (status !== 200 || error || firstToken === null) {
    throw new Error(`${base}: stream failed: HTTP ${status} ${JSON.stringify(error)}`);
  }
  const tokens = usage?.completion_tokens ?? maxTokens;
  return {
    prompt_tokens: usage?.prompt_tokens,
    ttft_ms: firstToken - start,
    tokens,
    // Decoding speed one client sees, after its first token.
    tokens_per_s: (tokens - 1) / ((end - firstToken) / 1000),
    aggregate_tokens_per_s: tokens / ((end - start) / 1000),
  };
}

export async function concurrentRound(base, prompts, maxTokens) {
  const start = performance.now();
  const results = await Promise.all(prompts.map((p) => streamOne(base, p, maxTokens)));
  const wall = (performance.now() - start) / 1000;
  return {
    prompt_tokens: results.map((r) => r.prompt_tokens),
    ttft_ms: median(results.map((r) => r.ttft_ms)),
    tokens_per_s: median(results.map((r) => r.tokens_per_s)),
    aggregate_tokens_per_s: results.reduce((a, r) => a + r.tokens, 0) / wall,
  };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
