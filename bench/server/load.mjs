// A small load client for OpenAI-compatible /v1/completions servers (node 20, no packages).
// For each server in turn, interleaved round by round so that both see the same machine
// load: one streamed request, then N concurrent ones, each with a prompt of an exact token
// count and a fixed number of completion tokens (ignore_eos, greedy). Prints time to first
// token, tokens/s per request and in aggregate (medians over the rounds) and the ratios of
// the first server to the second.
//
//   node load.mjs --server llamanet=http://127.0.0.1:8000 --server llama-server=http://127.0.0.1:8080
//                 [--prompt-tokens 75] [--max-tokens 64] [--concurrency 4] [--rounds 3]
import http from 'node:http';

const kRequestTimeoutMs = 300_000;

function parseArgs(argv) {
  const args = { servers: [], promptTokens: 75, maxTokens: 64, concurrency: 4, rounds: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${key} needs a value`);
    if (key === '--server') {
      const eq = value.indexOf('=');
      if (eq <= 0) throw new Error(`--server takes LABEL=URL, not ${value}`);
      args.servers.push({ label: value.slice(0, eq), url: value.slice(eq + 1) });
      continue;
    }
    const name = key.replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (!(name in args) || !Number.isInteger(Number(value)) || Number(value) < 1) {
      throw new Error(`bad option ${key} ${value}`);
    }
    args[name] = Number(value);
  }
  if (args.servers.length !== 2) throw new Error('give exactly two --server LABEL=URL (ours first)');
  return args;
}

// A fresh connection per request: servers close idle kept-alive connections on their own
// schedules, and a request sent on one that is closing fails. Loopback connects cost ~0.1 ms.
const agent = new http.Agent({ keepAlive: false, maxSockets: 64 });

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

async function promptTokens(base, prompt) {
  const r = await postJson(base, '/v1/completions', { prompt, max_tokens: 1, temperature: 0 });
  return r.usage.prompt_tokens;
}

const kWords = ['river', 'stone', 'light', 'market', 'garden', 'window', 'silver', 'morning', 'paper', 'island'];
const kSaltWords = ['apple', 'table', 'house', 'water', 'music', 'forest', 'winter', 'bridge', 'letter', 'cloud'];

// `count` prompts of exactly `target` tokens each (as `base` counts them, BOS included), each
// starting with its own two words. No measured prompt is ever sent before it is measured: a
// server that caches prompts (llama-server does, by default) must not find it cached, and no
// request can reuse another's prefix.
async function makePrompts(base, target, count) {
  const salt = (n) => `${kSaltWords[n % 10]} ${kSaltWords[Math.floor(n / 10) % 10]}`;
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
  for (let n = 1; n < 100 && prompts.length < count; ++n) {
    if ((await promptTokens(base, `${salt(n)} x`)) === saltTokens) prompts.push(`${salt(n)} ${body}`);
  }
  if (prompts.length < count) throw new Error(`only ${prompts.length} prompts of ${target} tokens`);
  return prompts;
}

// Random weights often pick byte tokens that form invalid UTF-8. llama-server (at the pinned
// commit) fails such a stream mid-way ("does not match the expected Content-only format"),
// so every request keeps the non-ASCII byte tokens of llamanet-mkmodel's vocabulary out
// (<0x80>..<0xFF> are ids 131..258): the same 128 logit_bias entries for both servers.
const kNoHighBytes = Object.fromEntries(Array.from({ length: 128 }, (_, i) => [String(131 + i), -100]));

// One streamed completion; times in ms from its start.
async function streamOne(base, prompt, maxTokens) {
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

async function concurrentRound(base, prompts, maxTokens) {
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

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function summarize(rounds) {
  return {
    ttft_ms: median(rounds.map((r) => r.ttft_ms)),
    tokens_per_s: median(rounds.map((r) => r.tokens_per_s)),
    aggregate_tokens_per_s: median(rounds.map((r) => r.aggregate_tokens_per_s)),
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const perRound = 1 + args.concurrency;
  for (const s of args.servers) {
    await postJson(s.url, '/v1/completions', { prompt: 'warm up', max_tokens: 8, temperature: 0 });
    s.prompts = await makePrompts(s.url, args.promptTokens, perRound * args.rounds);
    s.single = [];
    s.concurrent = [];
  }
  for (let round = 0; round < args.rounds; ++round) {
    // Alternate which server goes first, so that neither always follows the other.
    const order = round % 2 ? [...args.servers].reverse() : args.servers;
    for (const s of order) {
      s.single.push(await streamOne(s.url, s.prompts[round * perRound], args.maxTokens));
    }
    for (const s of order) {
      const prompts = s.prompts.slice(round * perRound + 1, (round + 1) * perRound);
      s.concurrent.push(await concurrentRound(s.url, prompts, args.maxTokens));
    }
  }

  // What the servers counted, to show every measured prompt had the intended length.
  const counted = new Set(args.servers.flatMap((s) => [...s.single, ...s.concurrent].flatMap((r) => r.prompt_tokens)));
  const f = (x) => x.toFixed(1).padStart(9);
  console.log(`/v1/completions, ${[...counted].join('/')}-token prompts, ${args.maxTokens} tokens, ` +
              `medians of ${args.rounds} rounds`);
  console.log('                              TTFT ms  tok/s/request  tok/s aggregate');
  for (const s of args.servers) {
    s.summary = { single: summarize(s.single), concurrent: summarize(s.concurrent) };
    for (const [name, p] of [['1 request', s.summary.single], [`${args.concurrency} concurrent`, s.summary.concurrent]]) {
      console.log(`  ${s.label.padEnd(13)} ${name.padEnd(13)} ${f(p.ttft_ms)}  ${f(p.tokens_per_s)}      ${f(p.aggregate_tokens_per_s)}`);
    }
  }
  const [a, b] = args.servers;
  const r = (x, y) => (x / y).toFixed(3);
  console.log(`ratio ${a.label}/${b.label} (tok/s: higher is better; TTFT: lower is better)`);
  for (const [name, key] of [['1 request', 'single'], [`${args.concurrency} concurrent`, 'concurrent']]) {
    const [x, y] = [a.summary[key], b.summary[key]];
    console.log(`  ${name.padEnd(13)} tok/s per request ${r(x.tokens_per_s, y.tokens_per_s)}` +
                `   tok/s aggregate ${r(x.aggregate_tokens_per_s, y.aggregate_tokens_per_s)}` +
                `   TTFT ${r(x.ttft_ms, y.ttft_ms)}`);
  }
}

try {
  await main();
} finally {
  agent.destroy();
}
