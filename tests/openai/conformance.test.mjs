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

test('BadRequestError for bad input', async () => {
  const cases = [
    [() => client.completions.create({ model, prompt: 'x', max_tokens: 0 }), 'max_tokens'],
    [() => client.completions.create({ model, prompt: 'x', max_tokens: 100000 }), 'max_tokens'],
    [() => client.completions.create({ model, prompt: '' }), 'prompt'],
    [() => client.completions.create({ model, prompt: 'x', temperature: 3 }), 'temperature'],
    [() => client.completions.create({ model, prompt: 'x', top_p: 2 }), 'top_p'],
    [() => client.completions.create({ model, prompt: 'word '.repeat(600) }), 'prompt'],
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
