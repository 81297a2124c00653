// Aggregate decoding throughput of OpenAI-compatible servers at several numbers of concurrent
// streams (node 20, no packages). For each stream count, round by round and taking turns
// between the servers: N streamed /v1/completions at once, prompts of an exact token count,
// a fixed number of completion tokens (ignore_eos, greedy). Prints, per stream count and
// server, the median over rounds of: time to first token, tokens/s per stream after its first
// token, and aggregate tokens/s (all tokens over the wall time); with --ceiling, also each
// server's aggregate as a share of that ceiling (llama-batched-bench's decode speed).
//
//   node streams.mjs --server llamanet=http://127.0.0.1:8000 --server llama-server=http://...
//                    [--streams 1,8,32,64] [--prompt-tokens 75] [--max-tokens 128] [--rounds 2]
//                    [--ceiling 1=120.5,8=900.1,...]
import { closeConnections, concurrentRound, makePrompts, median, warmUp } from '../lib/openai_load.mjs';

function parseArgs(argv) {
  const args = { servers: [], streams: [1, 8, 32, 64], promptTokens: 75, maxTokens: 128, rounds: 2, ceiling: {} };
  for (let i = 0; i < argv.length; i += 2) {
    const [key, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${key} needs a value`);
    if (key === '--server') {
      const eq = value.indexOf('=');
      if (eq <= 0) throw new Error(`--server takes LABEL=URL, not ${value}`);
      args.servers.push({ label: value.slice(0, eq), url: value.slice(eq + 1) });
    } else if (key === '--streams') {
      args.streams = value.split(',').map(Number);
      if (args.streams.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`bad --streams ${value}`);
    } else if (key === '--ceiling') {
      for (const pair of value.split(',').filter(Boolean)) {
        const [n, speed] = pair.split('=').map(Number);
        args.ceiling[n] = speed;
      }
    } else {
      const name = key.replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
      if (!(name in args) || !Number.isInteger(Number(value)) || Number(value) < 1) {
        throw new Error(`bad option ${key} ${value}`);
      }
      args[name] = Number(value);
    }
  }
  if (args.servers.length === 0) throw new Error('give at least one --server LABEL=URL');
  return args;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const needed = args.rounds * args.streams.reduce((a, n) => a + n, 0);
  for (const s of args.servers) {
    await warmUp(s.url);
    s.prompts = await makePrompts(s.url, args.promptTokens, needed);
    s.results = {};
  }
  let next = 0;
  for (const n of args.streams) {
    for (let round = 0; round < args.rounds; ++round) {
      const order = round % 2 ? [...args.servers].reverse() : args.servers;
      for (const s of order) {
        (s.results[n] ??= []).push(await concurrentRound(s.url, s.prompts.slice(next, next + n), args.maxTokens));
      }
      next += n;
    }
  }
  const counted = new Set(args.servers.flatMap((s) => Object.values(s.results).flat().flatMap((r) => r.prompt_tokens)));
  const f = (x, w = 9) => (x === undefined ? '-' : x.toFixed(1)).padStart(w);
  console.log(`streamed /v1/completions, ${[...counted].join('/')}-token prompts, ${args.maxTokens} tokens, ` +
              `medians of ${args.rounds} rounds`);
  console.log('streams  server           TTFT ms  tok/s/stream  tok/s aggregate  share of ceiling');
  for (const n of args.streams) {
    const ceiling = args.ceiling[n];
    for (const s of args.servers) {
      const rs = s.results[n];
      const aggregate = median(rs.map((r) => r.aggregate_tokens_per_s));
      const share = ceiling ? (aggregate / ceiling).toFixed(3).padStart(16) : '-'.padStart(16);
      console.log(`${String(n).padStart(7)}  ${s.label.padEnd(14)} ${f(median(rs.map((r) => r.ttft_ms)))}  ` +
                  `${f(median(rs.map((r) => r.tokens_per_s)), 12)}  ${f(aggregate, 15)}  ${share}`);
    }
    if (ceiling) console.log(`${String(n).padStart(7)}  ${'batched-bench'.padEnd(14)} ${'-'.padStart(9)}  ${'-'.padStart(12)}  ${f(ceiling, 15)}  ${'1.000'.padStart(16)}`);
  }
}

try {
  await main();
} finally {
  closeConnections();
}
