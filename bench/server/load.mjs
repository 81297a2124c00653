// A small load client for OpenAI-compatible /v1/completions servers (node 20, no packages).
// For each server in turn, interleaved round by round so that both see the same machine
// load: one streamed request, then N concurrent ones, each with a prompt of an exact token
// count and a fixed number of completion tokens (ignore_eos, greedy). Prints time to first
// token, tokens/s per request and in aggregate (medians over the rounds) and the ratios of
// the first server to the second.
//
//   node load.mjs --server llamanet=http://127.0.0.1:8000 --server llama-server=http://127.0.0.1:8080
//                 [--prompt-tokens 75] [--max-tokens 64] [--concurrency 4] [--rounds 3]
import { closeConnections, concurrentRound, makePrompts, median, streamOne, warmUp } from '../lib/openai_load.mjs';

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
    await warmUp(s.url);
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
  closeConnections();
}
