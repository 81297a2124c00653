// The official OpenAI SDK against a running llamanet-node (run_sdk_suite.sh starts one with
// --parallel 2 --max-queue 0 --api-key $LLAMANET_API_KEY and sets LLAMANET_BASE_URL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const baseURL = `${process.env.LLAMANET_BASE_URL}/v1`;
const apiKey = process.env.LLAMANET_API_KEY;
// No retries: a 429 must surface as RateLimitError, not be waited out.
const client = new OpenAI({ baseURL, apiKey, maxRetries: 0, timeout: 120_000 });

let model;

// A short greedy request that must succeed: the node keeps serving after each error.
async function stillServing() {
  const c = await client.completions.create({ model, prompt: 'still there?', max_tokens: 2 });
  assert.equal(c.choices.length, 1);
}

test('models.list lists the node model', async () => {
  const page = await client.models.list();
  assert.equal(page.data.length, 1);
  const m = page.data[0];
  assert.equal(m.object, 'model');
  assert.equal(m.owned_by, 'llamanet');
  assert.equal(typeof m.created, 'number');
  model = m.id;
  const again = await client.models.retrieve(model);
  assert.equal(again.id, model);
});

test('completions.create answers with choices and real usage', async () => {
  const c = await client.completions.create({
    model, prompt: ['Hello', 'Goodbye world'], n: 1, max_tokens: 5, temperature: 0,
    ignore_eos: true, seed: 7, stop: ['\n\n\n'], presence_penalty: 0.1, frequency_penalty: 0.1,
    logit_bias: { '10': -100 }, user: 'sdk',
  });
  assert.match(c.id, /^cmpl-/);
  assert.equal(c.object, 'text_completion');
  assert.equal(c.model, model);
  assert.deepEqual(c.choices.map((ch) => ch.index), [0, 1]);
  for (const ch of c.choices) {
    assert.equal(typeof ch.text, 'string');
    assert.equal(ch.finish_reason, 'length');
    assert.equal(ch.logprobs, null);
  }
  assert.equal(c.usage.completion_tokens, 10);
  assert.ok(c.usage.prompt_tokens >= 3);
  assert.equal(c.usage.total_tokens, c.usage.prompt_tokens + c.usage.completion_tokens);

  const echoed = await client.completions.create({ model, prompt: 'Echo', max_tokens: 3, echo: true });
  assert.ok(echoed.choices[0].text.startsWith('Echo'));
});

test('completions.create with stream: true', async () => {
  const whole = await client.completions.create({ model, prompt: 'Stream me', max_tokens: 12, temperature: 0, ignore_eos: true });
  const stream = await client.completions.create({
    model, prompt: 'Stream me', max_tokens: 12, temperature: 0, ignore_eos: true, stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let finish = null;
  let usage = null;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'text_completion');
    if (chunk.usage) usage = chunk.usage;
    for (const ch of chunk.choices) {
      assert.equal(ch.index, 0);
      text += ch.text;
      if (ch.finish_reason) finish = ch.finish_reason;
    }
  }
  assert.equal(text, whole.choices[0].text);
  assert.equal(finish, 'length');
  const { prompt_tokens_details: wholeDetails, ...wholeCounts } = whole.usage;
  const { prompt_tokens_details: details, ...counts } = usage;
  assert.deepEqual(counts, wholeCounts);
  // The same prompt again: all of it but the last token comes from the prefix cache.
  assert.equal(typeof wholeDetails.cached_tokens, 'number');
  assert.equal(details.cached_tokens, usage.prompt_tokens - 1);
});

test('chat.completions.create, whole and with stream: true', async () => {
  const messages = [
    { role: 'system', content: 'You are terse.' },
    { role: 'user', content: [{ type: 'text', text: 'Say hi' }] },
  ];
  const whole = await client.chat.completions.create({ model, messages, max_completion_tokens: 10, temperature: 0, ignore_eos: true });
  assert.match(whole.id, /^chatcmpl-/);
  assert.equal(whole.object, 'chat.completion');
  assert.equal(whole.choices[0].message.role, 'assistant');
  assert.equal(whole.choices[0].finish_reason, 'length');
  assert.equal(whole.usage.completion_tokens, 10);

  const stream = await client.chat.completions.create({ model, messages, max_tokens: 10, temperature: 0, ignore_eos: true, stream: true });
  let content = '';
  let role = null;
  let finish = null;
  let chunks = 0;
  for await (const chunk of stream) {
    assert.equal(chunk.object, 'chat.completion.chunk');
    const ch = chunk.choices[0];
    assert.equal(ch.index, 0);
    if (chunks++ === 0) role = ch.delta.role;
    content += ch.delta.content ?? '';
    if (ch.finish_reason) finish = ch.finish_reason;
  }
  assert.equal(role, 'assistant');
  assert.equal(finish, 'length');
  assert.equal(content, whole.choices[0].message.content);
});

test('chat.completions.stream() helper through finalChatCompletion()', async () => {
  const params = { model, messages: [{ role: 'user', content: 'Tell me a story' }], max_tokens: 16, temperature: 0, ignore_eos: true };
  const whole = await client.chat.completions.create(params);
  const runner = client.chat.completions.stream(params);
  let deltas = '';
  runner.on('content', (delta) => { deltas += delta; });
  const final = await runner.finalChatCompletion();
  assert.equal(final.choices[0].message.role, 'assistant');
  assert.equal(final.choices[0].message.content, whole.choices[0].message.content);
  assert.equal(final.choices[0].finish_reason, 'length');
  assert.equal(deltas, whole.choices[0].message.content);
});

test('embeddings.create: floats by default (sent as base64 and decoded by the SDK), float and base64 alike', async () => {
  const texts = ['The quick brown fox', 'jumps over the lazy dog'];
  const auto = await client.embeddings.create({ model, input: texts, user: 'sdk' });
  assert.equal(auto.object, 'list');
  assert.equal(auto.model, model);
  assert.deepEqual(auto.data.map((d) => d.index), [0, 1]);
  assert.ok(auto.usage.prompt_tokens >= 4);
  assert.equal(auto.usage.total_tokens, auto.usage.prompt_tokens);
  for (const d of auto.data) {
    assert.equal(d.object, 'embedding');
    assert.ok(Array.isArray(d.embedding) && d.embedding.length > 0);
    const norm = Math.sqrt(d.embedding.reduce((s, x) => s + x * x, 0));
    assert.ok(Math.abs(norm - 1) < 1e-4, `norm ${norm}`);
  }
  const floats = await client.embeddings.create({ model, input: texts, encoding_format: 'float' });
  assert.deepEqual(floats.data.map((d) => d.embedding), auto.data.map((d) => d.embedding));
  const b64 = await client.embeddings.create({ model, input: texts[0], encoding_format: 'base64' });
  const bytes = Buffer.from(b64.data[0].embedding, 'base64');
  const decoded = Array.from(new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4));
  assert.equal(decoded.length, floats.data[0].embedding.length);
  decoded.forEach((x, i) => assert.ok(Math.abs(x - floats.data[0].embedding[i]) < 1e-4, `${i}`));
  for (const [body, param] of [
    [{ model, input: 'x', dimensions: 8 }, 'dimensions'],
    [{ model, input: 'x', temperature: 1 }, 'temperature'],
    [{ model, input: [] }, 'input'],
    [{ model, input: 'word '.repeat(2000) }, 'input'],
  ]) {
    await assert.rejects(() => client.embeddings.create(body), (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError, `${param}: ${err}`);
      assert.equal(err.param, param);
      return true;
    });
  }
  await assert.rejects(() => client.embeddings.create({ model: 'gpt-4', input: 'x' }), OpenAI.NotFoundError);
});

test('BadRequestError for bad input', async () => {
  const cases = [
    [() => client.completions.create({ model, prompt: 'x', max_tokens: 0 }), 'max_tokens'],
    [() => client.completions.create({ model, prompt: 'x', max_tokens: 100000 }), 'max_tokens'],
    [() => client.completions.create({ model, prompt: '' }), 'prompt'],
    [() => client.completions.create({ model, prompt: 'x', temperature: 3 }), 'temperature'],
    [() => client.completions.create({ model, prompt: 'x', top_p: 2 }), 'top_p'],
    [() => client.completions.create({ model, prompt: 'word '.repeat(2500) }), 'prompt'],
    [() => client.chat.completions.create({ model, messages: [] }), 'messages'],
    [() => client.chat.completions.create({ model, messages: [{ role: 'wizard', content: 'x' }] }), 'messages.[0].role'],
    [() => client.chat.completions.create({ model, messages: 'hello' }), 'messages'],
  ];
  for (const [call, param] of cases) {
    await assert.rejects(call, (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError, `${param}: ${err}`);
      assert.equal(err.status, 400);
      assert.equal(err.type, 'invalid_request_error');
      assert.equal(err.param, param);
      return true;
    });
    await stillServing();
  }
});

test('NotFoundError for an unknown model', async () => {
  for (const call of [
    () => client.completions.create({ model: 'gpt-4', prompt: 'x' }),
    () => client.chat.completions.create({ model: 'gpt-4', messages: [{ role: 'user', content: 'x' }] }),
  ]) {
    await assert.rejects(call, (err) => {
      assert.ok(err instanceof OpenAI.NotFoundError, String(err));
      assert.equal(err.status, 404);
      assert.equal(err.code, 'model_not_found');
      return true;
    });
  }
  await stillServing();
});

test('AuthenticationError for a wrong key', async () => {
  const wrong = new OpenAI({ baseURL, apiKey: 'not-the-key', maxRetries: 0 });
  await assert.rejects(() => wrong.models.list(), (err) => {
    assert.ok(err instanceof OpenAI.AuthenticationError, String(err));
    assert.equal(err.status, 401);
    return true;
  });
  const health = await fetch(`${process.env.LLAMANET_BASE_URL}/health`);
  assert.equal(health.status, 200);
  await stillServing();
});

test('RateLimitError when every slot is busy, and an aborted stream frees them', async () => {
  // n: 2 takes both slots (the node has no queue) until this stream is aborted.
  const controller = new AbortController();
  const holder = await client.completions.create(
    { model, prompt: 'hold', max_tokens: 400, ignore_eos: true, n: 2, stream: true },
    { signal: controller.signal });
  const it = holder[Symbol.asyncIterator]();
  await it.next();  // both generations are admitted once the first chunk arrives
  await assert.rejects(() => client.completions.create({ model, prompt: 'x', max_tokens: 2 }), (err) => {
    assert.ok(err instanceof OpenAI.RateLimitError, String(err));
    assert.equal(err.status, 429);
    assert.equal(err.headers.get('retry-after'), '1');
    return true;
  });
  controller.abort();  // closes the connection
  // The node notices at its next write and frees both slots.
  for (let i = 0; ; ++i) {
    try {
      await client.completions.create({ model, prompt: 'x', max_tokens: 2, n: 2 });
      break;
    } catch (err) {
      if (!(err instanceof OpenAI.RateLimitError) || i >= 100) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
});

test('a body over the size limit is 413', async () => {
  await assert.rejects(() => client.completions.create({ model, prompt: 'x'.repeat(5 << 20) }), (err) => {
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 413);
    return true;
  });
  await stillServing();
});

// Structured output, tools and logprobs on the random-weights model: the grammar decides what
// may be written, so whatever the weights say, answers parse. Strings and lists are bounded so
// that the model (which rarely closes a string of its own accord) finishes within max_tokens.
const personSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', maxLength: 8 },
    mood: { type: 'string', enum: ['happy', 'sad', 'calm'] },
    age: { type: 'integer', minimum: 0, maximum: 150 },
    tags: { type: 'array', items: { type: 'string', maxLength: 5 }, maxItems: 2 },
    home: {
      type: 'object',
      properties: { city: { type: 'string', maxLength: 8 }, floor: { type: 'integer', minimum: 0, maximum: 9 } },
      required: ['city', 'floor'], additionalProperties: false,
    },
  },
  required: ['name', 'mood', 'age', 'tags', 'home'],
  additionalProperties: false,
};

function assertPerson(p) {
  assert.deepEqual(Object.keys(p).sort(), ['age', 'home', 'mood', 'name', 'tags']);
  assert.equal(typeof p.name, 'string');
  assert.ok(['happy', 'sad', 'calm'].includes(p.mood), p.mood);
  assert.ok(Number.isInteger(p.age) && p.age >= 0 && p.age <= 150, String(p.age));
  assert.ok(Array.isArray(p.tags) && p.tags.length <= 2 && p.tags.every((t) => typeof t === 'string'));
  assert.deepEqual(Object.keys(p.home).sort(), ['city', 'floor']);
  assert.equal(typeof p.home.city, 'string');
  assert.ok(Number.isInteger(p.home.floor));
}

const jsonSchemaFormat = { type: 'json_schema', json_schema: { name: 'person', strict: true, schema: personSchema } };

test('chat.completions.parse() with a strict JSON schema, whole and streamed', async () => {
  for (const seed of [1, 2, 3]) {
    const params = {
      // Room for the worst case: the grammar allows up to 23 whitespace characters between JSON tokens.
      model, messages: [{ role: 'user', content: 'Describe a person.' }], max_tokens: 900, temperature: 1, seed,
      response_format: jsonSchemaFormat,
    };
    const parsed = await client.chat.completions.parse(params);
    const message = parsed.choices[0].message;
    assert.equal(parsed.choices[0].finish_reason, 'stop', message.content);
    assertPerson(message.parsed);
    assert.deepEqual(JSON.parse(message.content), message.parsed);

    const runner = client.chat.completions.stream(params);
    const final = await runner.finalChatCompletion();
    assert.equal(final.choices[0].message.content, message.content, 'a seeded stream answers as the whole does');
    assertPerson(JSON.parse(final.choices[0].message.content));
  }
});

test('response_format json_object answers a JSON object', async () => {
  for (const seed of [4, 5]) {
    const c = await client.chat.completions.create({
      model, messages: [{ role: 'user', content: 'Reply in JSON.' }], max_tokens: 300, temperature: 0.2, seed,
      response_format: { type: 'json_object' },
      logit_bias: {},
    });
    const text = c.choices[0].message.content;
    if (c.choices[0].finish_reason === 'stop') {
      const value = JSON.parse(text);
      assert.equal(typeof value, 'object');
      assert.ok(value !== null && !Array.isArray(value));
    } else {
      assert.equal(c.choices[0].finish_reason, 'length');
      assert.match(text.trimStart(), /^\{/, 'even cut short, the answer is the start of an object');
    }
  }
});

const weatherTool = {
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    strict: true,
    parameters: {
      type: 'object',
      properties: { city: { type: 'string', maxLength: 10 }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
      required: ['city', 'unit'], additionalProperties: false,
    },
  },
};
const timeTool = {
  type: 'function',
  function: { name: 'get_time', parameters: { type: 'object', properties: { zone: { type: 'string', enum: ['utc', 'cet'] } }, required: ['zone'] } },
};

function assertWeatherCall(call) {
  assert.equal(call.type, 'function');
  assert.match(call.id, /^call_/);
  assert.equal(call.function.name, 'get_weather');
  const args = JSON.parse(call.function.arguments);
  assert.equal(typeof args.city, 'string');
  assert.ok(['celsius', 'fahrenheit'].includes(args.unit), args.unit);
}

test('tools: required and named calls parse, whole and through the stream helper, and results go back', async () => {
  for (const [seed, toolChoice] of [[1, 'required'], [2, { type: 'function', function: { name: 'get_weather' } }]]) {
    const params = {
      model, messages: [{ role: 'user', content: 'Weather in Oslo?' }], max_tokens: 400, temperature: 1, seed,
      tools: toolChoice === 'required' ? [weatherTool] : [weatherTool, timeTool], tool_choice: toolChoice,
      parallel_tool_calls: false,
    };
    const whole = await client.chat.completions.create(params);
    const choice = whole.choices[0];
    assert.equal(choice.finish_reason, 'tool_calls');
    assert.equal(choice.message.tool_calls.length, 1);
    assertWeatherCall(choice.message.tool_calls[0]);

    const runner = client.chat.completions.stream(params);
    const done = [];
    runner.on('tool_calls.function.arguments.done', (event) => done.push(event));
    const final = await runner.finalChatCompletion();
    assert.equal(final.choices[0].finish_reason, 'tool_calls');
    const streamed = final.choices[0].message.tool_calls;
    assert.equal(streamed.length, 1);
    assertWeatherCall(streamed[0]);
    assert.equal(streamed[0].function.arguments, choice.message.tool_calls[0].function.arguments);
    assert.equal(done.length, 1);
    assert.equal(done[0].name, 'get_weather');
    assert.deepEqual(done[0].parsed_arguments, JSON.parse(streamed[0].function.arguments));

    // The call and its result go back; the node renders them with the model's template.
    const next = await client.chat.completions.create({
      model, max_tokens: 4, temperature: 0, tools: [weatherTool],
      messages: [
        { role: 'user', content: 'Weather in Oslo?' },
        choice.message,
        { role: 'tool', tool_call_id: choice.message.tool_calls[0].id, content: '{"temperature": 3}' },
      ],
    });
    assert.equal(next.choices.length, 1);
    assert.ok(next.usage.prompt_tokens > whole.usage.prompt_tokens);
  }
});

test('tools: tool_choice none answers in words, and a parallel request may call more than once', async () => {
  const none = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'Hi' }], max_tokens: 8, temperature: 0, ignore_eos: true,
    tools: [weatherTool], tool_choice: 'none',
  });
  assert.equal(none.choices[0].message.tool_calls, undefined);
  assert.equal(typeof none.choices[0].message.content, 'string');
  assert.equal(none.choices[0].finish_reason, 'length');

  const parallel = await client.chat.completions.create({
    model, messages: [{ role: 'user', content: 'Weather and time?' }], max_tokens: 600, temperature: 1, seed: 3,
    tools: [weatherTool, timeTool], tool_choice: 'required', parallel_tool_calls: true,
  });
  // The random model may go on calling until max_tokens: a call cut short is dropped.
  const calls = parallel.choices[0].message.tool_calls ?? [];
  assert.ok(['tool_calls', 'length'].includes(parallel.choices[0].finish_reason));
  if (parallel.choices[0].finish_reason === 'tool_calls') assert.ok(calls.length >= 1);
  assert.equal(new Set(calls.map((c) => c.id)).size, calls.length, 'every call has its own id');
  for (const call of calls) {
    assert.ok(['get_weather', 'get_time'].includes(call.function.name));
    JSON.parse(call.function.arguments);
  }
});

test('logprobs on chat and completions, whole and streamed, and a seed repeats', async () => {
  const chat = { model, messages: [{ role: 'user', content: 'Count' }], max_tokens: 6, temperature: 1, seed: 11,
    ignore_eos: true, logprobs: true, top_logprobs: 3 };
  const whole = await client.chat.completions.create(chat);
  const content = whole.choices[0].logprobs.content;
  assert.equal(content.length, whole.usage.completion_tokens);
  for (const t of content) {
    assert.equal(typeof t.token, 'string');
    assert.ok(t.logprob <= 0);
    assert.ok(Array.isArray(t.bytes));
    assert.equal(t.top_logprobs.length, 3);
    assert.ok(t.top_logprobs[0].logprob >= t.top_logprobs[2].logprob);
  }
  const again = await client.chat.completions.create(chat);
  assert.equal(again.choices[0].message.content, whole.choices[0].message.content, 'the same seed answers the same');
  assert.deepEqual(again.choices[0].logprobs.content.map((t) => t.token), content.map((t) => t.token));

  const stream = await client.chat.completions.create({ ...chat, stream: true });
  const streamed = [];
  for await (const chunk of stream) {
    for (const c of chunk.choices) if (c.logprobs) streamed.push(...c.logprobs.content);
  }
  assert.deepEqual(streamed.map((t) => t.token), content.map((t) => t.token));

  const completion = await client.completions.create({ model, prompt: 'Once', max_tokens: 5, temperature: 0,
    ignore_eos: true, logprobs: 2 });
  const lp = completion.choices[0].logprobs;
  assert.equal(lp.tokens.length, 5);
  assert.equal(lp.token_logprobs.length, 5);
  assert.equal(lp.top_logprobs.length, 5);
  assert.equal(lp.text_offset[0], 0);
  assert.equal(lp.tokens.join(''), completion.choices[0].text);

  const completionStream = await client.completions.create({ model, prompt: 'Once', max_tokens: 5, temperature: 0,
    ignore_eos: true, logprobs: 2, stream: true });
  const streamedTokens = [];
  const offsets = [];
  for await (const chunk of completionStream) {
    for (const c of chunk.choices) {
      if (!c.logprobs) continue;
      streamedTokens.push(...c.logprobs.tokens);
      offsets.push(...c.logprobs.text_offset);
      assert.equal(c.logprobs.top_logprobs.length, c.logprobs.tokens.length);
    }
  }
  assert.deepEqual(streamedTokens, lp.tokens);
  assert.deepEqual(offsets, lp.text_offset);
});

test('an argument the node does not support is a 400 naming it; labels are accepted', async () => {
  await assert.rejects(() => client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }],
    max_tokens: 2, modalities: ['audio'] }), (err) => {
    assert.ok(err instanceof OpenAI.BadRequestError, String(err));
    assert.equal(err.param, 'modalities');
    assert.match(err.message, /Unrecognized request argument supplied: modalities/);
    return true;
  });
  const labelled = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'x' }],
    max_tokens: 2, user: 'u1', metadata: { team: 'a' }, store: false, service_tier: 'auto' });
  assert.equal(labelled.choices.length, 1);
  assert.equal(labelled.usage.prompt_tokens_details.cached_tokens >= 0, true);
});
