// The web UI in a real browser (Debian's chromium, driven by playwright-core) against a
// running node:
//
//   node tests/webui/browser.test.mjs [BASE_URL [SCREENSHOT]]
//
// BASE_URL defaults to $LLAMANET_BASE_URL, SCREENSHOT (a .png path) to $WEBUI_SCREENSHOT or
// none. The chat view is saved at SCREENSHOT, the network view and a phone-width view beside
// it (-network.png, -phone.png), and a chat with tool calls (-tools.png). $CHROMIUM_PATH overrides /usr/bin/chromium.
import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { chromium } from 'playwright-core';

const baseUrl = (process.argv[2] || process.env.LLAMANET_BASE_URL || '').replace(/\/$/, '');
const screenshot = process.argv[3] || process.env.WEBUI_SCREENSHOT || '';
const kAnswerTimeoutMs = 60_000;
// The swarm routes may not exist on this node yet; the page says so, and the browser logs
// the 404 as a console error that is expected here.
const kOptionalRoutes = /\/(nodes|dht\/status)$/;

if (!baseUrl) {
  console.error('usage: node browser.test.mjs BASE_URL [SCREENSHOT] (or set LLAMANET_BASE_URL)');
  process.exit(2);
}

let browser;
let page;
let consoleErrors = [];

function shotPath(suffix) {
  return screenshot.replace(/(\.png)?$/, `${suffix}.png`);
}

// Fails on console errors and uncaught exceptions since the last check, except failed loads
// of URLs matching `allowed`.
function assertNoConsoleErrors(allowed = kOptionalRoutes) {
  const unexpected = consoleErrors.filter((e) => !(e.text.startsWith('Failed to load resource') && allowed.test(e.url)));
  consoleErrors = [];
  assert.deepEqual(unexpected, []);
}

const lastAnswer = () => page.locator('.message-assistant').last();

// The routes that stream an answer, and the settings every chat of this test uses. The node
// starts generating before it starts the response, and its stream hands a slow reader all the
// text so far in one event: a short answer from the tiny model (~1000 tokens/s) can be
// complete before the first event is written, and then arrives as a single event. 256 tokens
// take a good fraction of a second, far longer than the node needs to start the response.
// Temperature 0 makes the answer the same each run.
const kChatRoutes = /\/(v1\/chat\/completions|generate\/stream)$/;
const kMaxTokens = 256;

// Installed in the page once: wraps fetch() so that a successful answer stream is handed to
// the page one SSE event at a time, and, while window.streamTap.armed, holds the stream right
// after the first event that carries visible text until the test calls
// window.streamTap.release(). The tiny model writes ~1000 tokens/s, so a whole answer often
// arrives in one network read; holding it mid-answer is what lets the test see, without
// depending on timing, whether the page shows text before the answer is complete. The node's
// bytes go to the page unchanged; the tap only counts the events that carry text (a tool
// call's name or arguments count as text).
function installStreamTap() {
  const chatRoutes = /\/(v1\/chat\/completions|generate\/stream)$/;
  const textOf = (data) => {
    try {
      const event = JSON.parse(data);
      const delta = event.choices?.[0]?.delta;
      const calls = (delta?.tool_calls ?? []).map((c) => `${c.function?.name ?? ''}${c.function?.arguments ?? ''}`);
      return (delta?.content ?? event.text ?? '') + calls.join('');
    } catch {
      return '';
    }
  };
  window.streamTap = { armed: false };
  const realFetch = window.fetch.bind(window);
  window.fetch = async (input, init) => {
    const response = await realFetch(input, init);
    const url = new URL(input instanceof Request ? input.url : String(input), location.href);
    if (!response.ok || !response.body || !chatRoutes.test(url.pathname)) return response;
    const tap = window.streamTap;
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    const encoder = new TextEncoder();
    const events = [];  // complete events (with their blank line) not yet handed on
    let buffer = '';
    let text = '';
    let done = false;
    const body = new ReadableStream({
      async pull(controller) {
        while (events.length === 0 && !done) {
          const { value, done: end } = await reader.read();
          if (end) {
            done = true;
            buffer += decoder.decode();
            if (buffer) events.push(buffer);
            break;
          }
          buffer += decoder.decode(value, { stream: true });
          for (let end; (end = buffer.indexOf('\n\n')) >= 0; buffer = buffer.slice(end + 2)) {
            events.push(buffer.slice(0, end + 2));
          }
        }
        if (events.length === 0) {
          controller.close();
          return;
        }
        const event = events.shift();
        controller.enqueue(encoder.encode(event));
        const piece = event.split('\n').filter((l) => l.startsWith('data:')).map((l) => textOf(l.slice(5).trim())).join('');
        if (!piece) return;
        tap.textEvents += 1;
        text += piece;
        if (tap.armed && !tap.paused && !tap.released && text.trim()) {
          tap.paused = true;
          await new Promise((resolve) => { tap.release = resolve; });
          tap.released = true;
        }
      },
      cancel(reason) {
        return reader.cancel(reason);
      },
    }, { highWaterMark: 0 });
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}

// Waits until no answer is streaming, so that no request of an earlier chat is still running.
async function waitIdle() {
  await page.waitForFunction(() => !document.querySelector('.message-assistant[aria-busy="true"]') &&
    !document.getElementById('send').disabled, null, { timeout: kAnswerTimeoutMs });
}

// Types `text`, sends it with Enter through `api` and waits for the whole answer. A streamed
// answer is held after its first piece of text (see installStreamTap) until the page has
// rendered that piece (or, given `onHeld`, until `await onHeld(answer)` returns), then let
// go. Returns how many times the answer's body was rendered (while held, and in all), its
// meta line, error text and HTML, the HTML shown while held, how many SSE events carried
// text, and the request bodies sent.
async function chat(text, { api = 'openai', onHeld = null } = {}) {
  await waitIdle();
  await page.check(`#api-${api}`);
  await page.fill('#max-tokens', String(kMaxTokens));
  await page.fill('#temperature', '0');
  await page.evaluate(() => {
    window.streamTap = { armed: true, paused: false, released: false, release: null, textEvents: 0 };
    window.renders = 0;
    window.observer?.disconnect();
    window.observer = new MutationObserver((records) => {
      window.renders += records.filter((r) => r.target.matches?.('.message-assistant .message-body')).length;
    });
    window.observer.observe(document.getElementById('messages'), { childList: true, subtree: true });
  });
  const requests = [];
  const onRequest = (request) => kChatRoutes.test(new URL(request.url()).pathname) && requests.push(request);
  page.on('request', onRequest);
  try {
    const answers = await page.locator('.message-assistant').count();
    await page.fill('#prompt', text);
    await page.press('#prompt', 'Enter');
    const answer = page.locator('.message-assistant').nth(answers);
    await answer.waitFor();
    // Either the stream is held mid-answer, or the answer ended without streaming text.
    await page.waitForFunction((n) => window.streamTap.paused ||
      document.querySelectorAll('.message-assistant')[n]?.getAttribute('aria-busy') === 'false',
    answers, { timeout: kAnswerTimeoutMs });
    let held = null;
    if (await page.evaluate(() => window.streamTap.paused)) {
      // The page has the first piece and nothing more: it must show it while still busy.
      if (onHeld) await onHeld(answer);
      else await page.waitForFunction(() => window.renders > 0, null, { timeout: 5_000 }).catch(() => {});
      held = {
        renders: await page.evaluate(() => window.renders),
        busy: await answer.getAttribute('aria-busy'),
        html: await answer.locator('.message-body').innerHTML(),
      };
      await page.evaluate(() => window.streamTap.release());
    }
    await page.waitForFunction((n) =>
      document.querySelectorAll('.message-assistant')[n]?.getAttribute('aria-busy') === 'false',
    answers, { timeout: kAnswerTimeoutMs });
    const alert = answer.locator('[role=alert]');
    return {
      held,
      textEvents: await page.evaluate(() => window.streamTap.textEvents),
      renders: await page.evaluate(() => window.renders),
      meta: await answer.locator('.message-meta').innerText(),
      error: (await alert.isVisible()) ? await alert.innerText() : '',
      html: await answer.locator('.message-body').innerHTML(),
      bodies: requests.map((r) => r.postDataJSON()),
    };
  } finally {
    page.off('request', onRequest);
    // A chat that failed while its stream was held must not keep the page busy for the next.
    await page.evaluate(() => {
      window.streamTap.armed = false;
      window.streamTap.release?.();
    }).catch(() => {});
  }
}

// The answer streamed: its text came in more than one SSE event, the page showed the first
// piece while the rest had not arrived yet (and the answer was still busy), and rendered
// again when the rest came.
function assertStreamed(result) {
  assert.equal(result.error, '');
  assert.match(result.meta, /^node \S+ · [1-9][\d,]* tokens?/);
  assert.ok(result.textEvents >= 2, `the answer's text came in ${result.textEvents} SSE event(s), not streamed`);
  assert.ok(result.held, 'the answer ended before any text was streamed');
  assert.ok(result.held.renders >= 1 && result.held.html.trim() !== '',
    `the page showed nothing of the answer while it streamed (${result.held.renders} render(s))`);
  assert.equal(result.held.busy, 'true', 'the answer was marked finished while it streamed');
  assert.ok(result.renders >= 2, `the answer appeared in ${result.renders} render(s), not streamed`);
  assert.notEqual(result.html.trim(), '');
}

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
  page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  page.setDefaultTimeout(15_000);
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push({ text: m.text(), url: m.location().url }));
  page.on('pageerror', (e) => consoleErrors.push({ text: `uncaught: ${e.message}`, url: '' }));
  const response = await page.goto(`${baseUrl}/`);
  assert.equal(response.status(), 200, `GET ${baseUrl}/ answered ${response.status()}: does this node serve the web UI?`);
  assert.match(response.headers()['content-security-policy'], /default-src 'self'/);
  await page.evaluate(installStreamTap);
});

after(async () => {
  await browser?.close();
});

// A test that failed before it checked the console leaves its errors to itself.
beforeEach(() => {
  consoleErrors = [];
});

test('the page loads without console errors', async () => {
  await page.waitForFunction(() => document.getElementById('node-badge').textContent !== '');
  assert.equal(await page.title(), 'LlamaNet');
  assertNoConsoleErrors();
});

test('Shift+Enter adds a line and sends nothing', async () => {
  await page.fill('#prompt', 'one');
  await page.press('#prompt', 'Shift+Enter');
  await page.type('#prompt', 'two');
  assert.equal(await page.inputValue('#prompt'), 'one\ntwo');
  assert.equal(await page.locator('.message').count(), 0);
  await page.fill('#prompt', '');
  assertNoConsoleErrors();
});

test('a chat streams through the OpenAI API', async () => {
  const result = await chat('Say hello.', { api: 'openai' });
  assertStreamed(result);
  assert.equal(result.bodies.length, 1);
  assert.equal(result.bodies[0].stream, true);
  assert.equal(result.bodies[0].max_tokens, kMaxTokens);
  assertNoConsoleErrors();
});

test('a chat streams through the native API, with the history', async () => {
  // A chat of its own: one answer through the OpenAI API, then one through the native API,
  // which must get the whole history in its prompt.
  await waitIdle();
  await page.click('#new-chat');
  assertStreamed(await chat('Say hello.', { api: 'openai' }));
  const result = await chat('And once more.', { api: 'native' });
  assertStreamed(result);
  assert.equal(await page.locator('.message-user').count(), 2);
  assert.equal(result.bodies.length, 1);
  assert.match(result.bodies[0].prompt, /^User: Say hello\.\n\nAssistant: [^]*\n\nUser: And once more\.\n\nAssistant:$/);
  assertNoConsoleErrors();
});

const kHostile = '**bold** <img src=x onerror="window.pwned=1"><script>window.pwned=2</script>' +
  '[link](javascript:window.pwned=3) <a href="#" onclick="window.pwned=4">a</a><style>body{display:none}</style>';

// What no rendered answer may contain: elements that run code, load things or restyle the page.
const kDangerous = 'script, style, img, iframe, object, form, [onerror], [onclick], [style], a[href^="javascript:" i]';

test('markdown rendering shows HTML as text and drops script links', async () => {
  const result = await page.evaluate(async ({ text, dangerous }) => {
    const { renderMarkdown } = await import('/static/markdown.js');
    const div = document.createElement('div');
    div.append(renderMarkdown(text));
    return { html: div.innerHTML, text: div.textContent, dangerous: div.querySelectorAll(dangerous).length };
  }, { text: kHostile, dangerous: kDangerous });
  assert.match(result.html, /<strong>bold<\/strong>/);
  assert.equal(result.dangerous, 0, result.html);
  assert.match(result.text, /<img src=x onerror="window.pwned=1">/);
  assertNoConsoleErrors();
});

// Answers every chat request through the OpenAI route with `handler` while `action` runs;
// the route is in place before the action starts and gone when it ends, however it ends.
async function withChatRoute(handler, action) {
  await waitIdle();
  await page.route('**/v1/chat/completions', handler);
  try {
    return await action();
  } finally {
    await page.unroute('**/v1/chat/completions', handler);
  }
}

test('model output with HTML is not executed in the chat', async () => {
  const chunk = (content) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] })}\n\n`;
  const result = await withChatRoute((route) => route.fulfill({
    status: 200,
    headers: { 'Content-Type': 'text/event-stream', 'X-LlamaNet-Node': 'hostile-node' },
    body: [...kHostile.match(/.{1,12}/gs).map(chunk), 'data: [DONE]\n\n'].join(''),
  }), () => chat('Render something hostile.', { api: 'openai' }));
  // Twelve characters an event: held after the first, this also shows, without any timing,
  // that the page renders an answer while it streams.
  assertStreamed(result);
  assert.match(result.meta, /^node hostile-node/);
  assert.match(result.html, /<strong>bold<\/strong>/);
  assert.equal(await lastAnswer().locator(kDangerous).count(), 0, result.html);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.ok(await page.locator('#messages').isVisible());
  assertNoConsoleErrors();
});

test('errors are shown in plain words, and a busy node is retried', async () => {
  const failed = await withChatRoute((route) => route.fulfill({
    status: 400,
    contentType: 'application/json',
    body: JSON.stringify({ error: { message: "'max_tokens' is too large", type: 'invalid_request_error' } }),
  }), () => chat('This one fails.', { api: 'openai' }));
  assert.equal(failed.bodies.length, 1);
  assert.match(failed.error, /Not answered: 'max_tokens' is too large\./);
  assert.equal(await page.inputValue('#prompt'), 'This one fails.');

  let busy = 0;
  const retried = await withChatRoute((route) => {
    if (busy++ > 0) return route.fallback();
    return route.fulfill({
      status: 429,
      headers: { 'Content-Type': 'application/json', 'Retry-After': '1' },
      body: JSON.stringify({ error: { message: 'the queue is full' } }),
    });
  }, () => chat('Try again.', { api: 'openai' }));
  assertStreamed(retried);
  assert.equal(retried.bodies.length, 2, 'the busy node was not asked again');
  assertNoConsoleErrors(new RegExp(`${kOptionalRoutes.source}|/v1/chat/completions$`));
  if (screenshot) await page.screenshot({ path: screenshot });
});

// One event of an OpenAI stream: a chat.completion.chunk with `delta` and `finish`.
const sseEvent = (delta, finish = null) =>
  `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const sseAnswer = (events) => ({
  status: 200,
  headers: { 'Content-Type': 'text/event-stream', 'X-LlamaNet-Node': 'tool-node' },
  body: [...events, 'data: [DONE]\n\n'].join(''),
});

const kTools = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'The weather in a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
}];
const kHostileName = '<img src=x onerror="window.pwned=5">';

test('tool calls stream in as readable blocks, and their results go back', async () => {
  await waitIdle();
  await page.click('#new-chat');
  await page.check('#api-openai');
  await page.fill('#tools', JSON.stringify(kTools, null, 2));
  const city = 'Paris <img src=x onerror="window.pwned=6">';
  // The first call's arguments arrive in pieces that are not JSON on their own; the second
  // call's never are, and its name is markup.
  const args = ['{"city":', ` ${JSON.stringify(city)},`, ' "days": [1, 2]}'];
  const stream = [
    sseEvent({ role: 'assistant', content: null }),
    sseEvent({ tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '' } }] }),
    ...args.map((a) => sseEvent({ tool_calls: [{ index: 0, function: { arguments: a } }] })),
    sseEvent({ tool_calls: [{ index: 1, id: 'call_2', type: 'function', function: { name: kHostileName, arguments: '' } }] }),
    sseEvent({ tool_calls: [{ index: 1, function: { arguments: 'not json <b>x</b>' } }] }),
    sseEvent({}, 'tool_calls'),
  ];
  // The answer to the results comes in one piece (not streamed), and is JSON with a number
  // that JSON.parse would round.
  const json = '{"city":"Paris","temp_c":21,"note":"<script>window.pwned=7</script>","id":12345678901234567890}';
  const completion = {
    object: 'chat.completion',
    choices: [{ index: 0, message: { role: 'assistant', content: json }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 40, completion_tokens: 21, total_tokens: 61 },
  };
  const bodies = [];
  try {
    await withChatRoute((route) => {
      bodies.push(route.request().postDataJSON());
      if (bodies.length === 1) return route.fulfill(sseAnswer(stream));
      return route.fulfill({
        status: 200,
        headers: { 'Content-Type': 'application/json', 'X-LlamaNet-Node': 'tool-node' },
        body: JSON.stringify(completion),
      });
    }, async () => {
      let heldText = '';
      const result = await chat('What is the weather in Paris?', {
        onHeld: async (answer) => {
          // Held after the first call's name: the block is there before the stream ends.
          await answer.locator('.tool-call-name', { hasText: 'get_weather' }).waitFor();
          assert.equal(await answer.getAttribute('aria-busy'), 'true');
          heldText = await answer.innerText();
        },
      });
      assert.match(heldText, /get_weather/);
      assert.equal(result.error, '');
      assert.match(result.meta, /^node tool-node · /);
      assert.deepEqual(bodies[0].tools, kTools);
      assert.equal(bodies[0].response_format, undefined);

      // The conversation is new: its first answer is the one with the calls.
      const answer = page.locator('.message-assistant').first();
      assert.ok(await answer.locator('.message-body').isHidden(), 'an answer with only tool calls shows an empty body');
      const calls = answer.locator('.tool-call');
      assert.equal(await calls.count(), 2);
      assert.equal(await calls.nth(0).locator('.tool-call-name').textContent(), 'get_weather');
      assert.match(await calls.nth(0).innerText(), /call_1/);
      assert.equal(await calls.nth(0).locator('pre.json-block').textContent(),
        `{\n  "city": ${JSON.stringify(city)},\n  "days": [\n    1,\n    2\n  ]\n}`);
      assert.equal(await calls.nth(1).locator('.tool-call-name').textContent(), kHostileName);
      assert.equal(await calls.nth(1).locator('pre.json-block').textContent(), 'not json <b>x</b>');

      const boxes = answer.locator('.tool-results textarea');
      assert.equal(await boxes.count(), 2);
      await boxes.nth(0).fill('{"temp_c": 21}');
      await boxes.nth(1).fill('done');
      await answer.locator('.tool-results button[type=submit]').click();
      const next = page.locator('.message-assistant').nth(1);
      await page.waitForFunction(() => document.querySelectorAll('.message-assistant')[1]?.getAttribute('aria-busy') === 'false');
      assert.equal(await next.locator('[role=alert]').isVisible(), false);
      assert.ok(await boxes.nth(0).isDisabled(), 'results once sent can still be edited');

      assert.equal(bodies.length, 2);
      assert.deepEqual(bodies[1].messages.slice(1), [
        {
          role: 'assistant',
          content: '',
          tool_calls: [
            { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: args.join('') } },
            { id: 'call_2', type: 'function', function: { name: kHostileName, arguments: 'not json <b>x</b>' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '{"temp_c": 21}' },
        { role: 'tool', tool_call_id: 'call_2', content: 'done' },
      ]);
      assert.deepEqual(bodies[1].tools, kTools);
      assert.equal(await next.locator('.message-body pre.json-block').textContent(),
        '{\n  "city": "Paris",\n  "temp_c": 21,\n  "note": "<script>window.pwned=7</script>",\n  "id": 12345678901234567890\n}');
      assert.match(await next.locator('.message-meta').innerText(), /^node tool-node · 21 tokens/);
      if (screenshot) await page.screenshot({ path: shotPath('-tools') });
    });
  } finally {
    await page.fill('#tools', '');
  }
  const dangerous = await page.$$eval('#messages :is(.message-body, .tool-calls)',
    (parts, selector) => parts.flatMap((p) => [...p.querySelectorAll(selector)].map((e) => e.outerHTML)), kDangerous);
  assert.deepEqual(dangerous, []);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assertNoConsoleErrors();
});

test('tool results that fail to go through stay in their boxes, and go once when sent again', async () => {
  await waitIdle();
  await page.click('#new-chat');
  await page.check('#api-openai');
  await page.fill('#tools', JSON.stringify(kTools));
  const call = {
    index: 0, id: 'call_9', type: 'function', function: { name: 'get_weather', arguments: '{"city": "Oslo"}' },
  };
  const bodies = [];
  try {
    await withChatRoute((route) => {
      bodies.push(route.request().postDataJSON());
      if (bodies.length === 1) {
        return route.fulfill(sseAnswer([sseEvent({ tool_calls: [call] }), sseEvent({}, 'tool_calls')]));
      }
      if (bodies.length === 2) {
        return route.fulfill({
          status: 400,
          contentType: 'application/json',
          body: JSON.stringify({ error: { message: 'the tool result is not welcome', type: 'invalid_request_error' } }),
        });
      }
      return route.fulfill(sseAnswer([sseEvent({ content: 'It is cold in Oslo.' })]));
    }, async () => {
      await chat('Weather in Oslo?', { onHeld: (answer) => answer.locator('.tool-call').waitFor() });
      const answer = page.locator('.message-assistant').first();
      const box = answer.locator('.tool-results textarea');
      const send = answer.locator('.tool-results button[type=submit]');
      await box.fill('-3 C');
      await send.click();
      const failed = page.locator('.message-assistant').nth(1);
      await failed.locator('[role=alert]', { hasText: 'the tool result is not welcome' }).waitFor();
      assert.match(await failed.locator('[role=alert]').innerText(), /still in their boxes/);
      await waitIdle();
      assert.ok(await box.isEnabled(), 'the results cannot be sent again');
      assert.equal(await box.inputValue(), '-3 C');
      await send.click();
      await page.locator('.message-assistant').nth(2).locator('.message-body', { hasText: 'It is cold in Oslo.' }).waitFor();
      await waitIdle();
      assert.ok(await box.isDisabled());
    });
  } finally {
    await page.fill('#tools', '');
  }
  assert.equal(bodies.length, 3);
  assert.deepEqual(bodies[2].messages, bodies[1].messages);
  assert.deepEqual(bodies[2].messages.map((m) => m.role), ['user', 'assistant', 'tool']);
  assert.deepEqual(bodies[2].messages[2], { role: 'tool', tool_call_id: 'call_9', content: '-3 C' });
  assertNoConsoleErrors(new RegExp(`${kOptionalRoutes.source}|/v1/chat/completions$`));
});

test('JSON output is asked for, and shown re-indented as it streams', async () => {
  await waitIdle();
  await page.click('#new-chat');
  await page.check('#api-openai');
  await page.check('#json-output');
  const json = '{"name": "<script>window.pwned=8</script>", "list": [1, {"a": null}], "empty": {}}';
  try {
    const result = await withChatRoute(
      (route) => route.fulfill(sseAnswer(json.match(/.{1,8}/gs).map((content) => sseEvent({ content })))),
      () => chat('Answer in JSON.', { api: 'openai' }));
    assertStreamed(result);
    assert.deepEqual(result.bodies[0].response_format, { type: 'json_object' });
    assert.equal(result.bodies[0].tools, undefined);
    // Before it parses, the answer is already monospace rather than Markdown.
    assert.match(result.held.html, /^<pre class="json-block"><code>\{"name":/);
    assert.equal(await lastAnswer().locator('.message-body pre.json-block').textContent(),
      '{\n  "name": "<script>window.pwned=8</script>",\n  "list": [\n    1,\n    {\n      "a": null\n    }\n  ],\n  "empty": {}\n}');
    assert.equal(await lastAnswer().locator(kDangerous).count(), 0);
    assert.equal(await page.evaluate(() => window.pwned), undefined);
  } finally {
    await page.uncheck('#json-output');
  }
  assertNoConsoleErrors();
});

test('the tools box takes only a list of function tools, and only for the OpenAI API', async () => {
  await waitIdle();
  await page.check('#api-openai');
  const validity = () => page.$eval('#tools', (box) => box.validationMessage);
  for (const [text, message] of [
    ['{"type": "function"', /not JSON/],
    ['{"type": "function", "function": {"name": "f"}}', /a list of 1 to 64/],
    ['[]', /a list of 1 to 64/],
    ['[{"type": "function", "function": {}}]', /Tool 1 needs "type": "function" and a "function" with a "name"/],
  ]) {
    await page.fill('#tools', text);
    assert.match(await validity(), message, text);
  }
  const answers = await page.locator('.message-assistant').count();
  await page.fill('#prompt', 'Not sent while the tools are wrong.');
  await page.press('#prompt', 'Enter');
  assert.equal(await page.locator('.message-assistant').count(), answers);
  assert.equal(await page.inputValue('#prompt'), 'Not sent while the tools are wrong.');
  await page.fill('#tools', '');
  assert.equal(await validity(), '');
  await page.fill('#prompt', '');

  await page.check('#api-native');
  assert.ok(await page.locator('#tools').isDisabled());
  assert.ok(await page.locator('#json-output').isDisabled());
  await page.check('#api-openai');
  assert.ok(await page.locator('#tools').isEnabled());
  assertNoConsoleErrors();
});

test('JSON is re-indented with its exact characters, and tool call deltas are checked', async () => {
  const result = await page.evaluate(async () => {
    const { formatJson, formatJsonAnswer } = await import('/static/json_view.js');
    const { mergeToolCallDeltas } = await import('/static/tool_calls.js');
    const merged = [];
    mergeToolCallDeltas(merged, [{ index: 0, id: 'a', function: { name: 'f', arguments: '{"x"' } }]);
    mergeToolCallDeltas(merged, [{ index: 0, id: 'a', function: { arguments: ': 1}' } }, { index: 1, function: { name: 'g' } }]);
    const refused = [
      [{ index: 2 }], [{ index: -1 }], [{ index: '0' }], { index: 0 }, [{ index: 0, function: 'f' }],
      [{ index: 0, function: { arguments: 7 } }], [{ index: 0, function: { name: 'x'.repeat(257) } }],
      [{ index: 0, function: { arguments: 'x'.repeat(256 * 1024 + 1) } }],
    ].filter((deltas) => {
      try {
        mergeToolCallDeltas([], deltas);
        return false;
      } catch (e) {
        return e.name === 'ToolCallError' && e.message !== '';
      }
    }).length;
    const deep = formatJson(`${'['.repeat(100)}${']'.repeat(100)}`);
    return {
      strings: formatJson('{"a{,:[":"b\\"]},","c":[ ]}'),
      numbers: formatJson('[1e400, -0.10, 12345678901234567890]'),
      scalar: formatJson(' "text" '),
      answerScalar: formatJsonAnswer('"text"'),
      broken: [formatJson('{"a": 1'), formatJson(''), formatJson('{} {}'), formatJsonAnswer('{a: 1}')],
      deepestIndent: Math.max(...deep.split('\n').map((line) => line.length)),
      merged,
      refused,
    };
  });
  assert.equal(result.strings, '{\n  "a{,:[": "b\\"]},",\n  "c": []\n}');
  assert.equal(result.numbers, '[\n  1e400,\n  -0.10,\n  12345678901234567890\n]');
  assert.equal(result.scalar, '"text"');
  assert.equal(result.answerScalar, null);
  assert.deepEqual(result.broken, [null, null, null, null]);
  assert.ok(result.deepestIndent <= 2 * 16 + 2, `a deep array is indented ${result.deepestIndent} characters`);
  assert.deepEqual(result.merged, [
    { id: 'a', type: 'function', function: { name: 'f', arguments: '{"x": 1}' } },
    { id: '', type: 'function', function: { name: 'g', arguments: '' } },
  ]);
  assert.equal(result.refused, 8);
  assertNoConsoleErrors();
});

test('the native prompt spells out tool calls and their results', async () => {
  const prompt = await page.evaluate(async () => {
    const { flattenChat } = await import('/static/api.js');
    return flattenChat([
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: '', tool_calls: [{ id: 'c', type: 'function', function: { name: 'w', arguments: '{}' } }] },
      { role: 'tool', tool_call_id: 'c', content: 'sunny' },
    ]);
  });
  assert.equal(prompt, 'User: Weather?\n\nAssistant: (calls w with {})\n\nTool: sunny\n\nAssistant:');
  assertNoConsoleErrors();
});

test('the network tab shows this node', async () => {
  const info = await (await fetch(`${baseUrl}/info`)).json();
  await page.click('#tab-network');
  assert.ok(await page.locator('#panel-network').isVisible());
  assert.ok(await page.locator('#panel-chat').isHidden());
  await page.locator('#this-node', { hasText: info.node_id }).waitFor();
  await page.locator('#this-node', { hasText: info.model }).waitFor();
  // The node list: this node's row, or the words for a node without /nodes yet.
  const nodes = page.locator('#nodes');
  await nodes.locator('table, p').first().waitFor();
  if (await nodes.locator('table').count()) {
    await nodes.locator('tr', { hasText: info.node_id }).waitFor();
  } else {
    assert.match(await nodes.innerText(), /not available on this node yet/i);
  }
  await page.locator('#dht').locator('dl, p').first().waitFor();
  if (screenshot) await page.screenshot({ path: shotPath('-network'), fullPage: true });
  assertNoConsoleErrors();
});

test('the network tab says when a large swarm is listed in part', async () => {
  const summaries = await page.evaluate(async () => {
    const { swarmSummary } = await import('/static/monitor.js');
    const three = [{ model: 'a' }, { model: 'a' }, { model: 'b' }];
    return [
      swarmSummary({ nodes: three, total_count: 3, sampled: false, swarm: { nodes: 3, nodes_estimated: false, models: 2 } }, three),
      swarmSummary({ nodes: three, total_count: 3, sampled: true, swarm: { nodes: 1234, nodes_estimated: true, models: 5 } }, three),
      swarmSummary({ nodes: three, total_count: 3 }, three),
    ];
  });
  assert.deepEqual(summaries, ['3 nodes · 2 models', '3 of about 1,234 nodes (a sample) · 5 models', '3 nodes · 2 models']);
  const info = await (await fetch(`${baseUrl}/info`)).json();
  const sampled = async (route) => route.fulfill({
    contentType: 'application/json',
    body: JSON.stringify({
      nodes: [{ node_id: info.node_id, ip: '127.0.0.1', port: 1, model: info.model, load: 0, tps: 0, uptime: 1, last_seen: Date.now() / 1000 }],
      total_count: 1, sampled: true, swarm: { nodes: 5000, nodes_estimated: true, models: 7 }, timestamp: Date.now() / 1000,
    }),
  });
  await page.route('**/nodes', sampled);
  try {
    await page.click('#tab-network');
    await page.locator('#nodes-updated', { hasText: '1 of about 5,000 nodes (a sample) · 7 models' }).waitFor();
  } finally {
    await page.unroute('**/nodes', sampled);
  }
  assertNoConsoleErrors();
});

test('the page fits a phone screen', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('#tab-chat');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  if (screenshot) await page.screenshot({ path: shotPath('-phone') });
  assertNoConsoleErrors();
});
