// The web UI in a real browser (Debian's chromium, driven by playwright-core) against a
// running node:
//
//   node tests/webui/browser.test.mjs [BASE_URL [SCREENSHOT]]
//
// BASE_URL defaults to $LLAMANET_BASE_URL, SCREENSHOT (a .png path) to $WEBUI_SCREENSHOT or
// none. The chat view is saved at SCREENSHOT, the network view and a phone-width view beside
// it (-network.png, -phone.png). $CHROMIUM_PATH overrides /usr/bin/chromium.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
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

// Types `text`, sends it with Enter and waits for the whole answer. Returns how many times the
// answer's body was re-rendered while streaming, its meta line and its error text.
async function chat(text) {
  await page.evaluate(() => {
    window.renders = 0;
    window.observer?.disconnect();
    window.observer = new MutationObserver((records) => {
      window.renders += records.filter((r) => r.target.matches?.('.message-assistant .message-body')).length;
    });
    window.observer.observe(document.getElementById('messages'), { childList: true, subtree: true });
  });
  const answers = await page.locator('.message-assistant').count();
  await page.fill('#prompt', text);
  await page.press('#prompt', 'Enter');
  await page.locator('.message-assistant').nth(answers).waitFor();
  await page.waitForSelector('.message-assistant:last-child[aria-busy="false"]', { timeout: kAnswerTimeoutMs });
  const answer = lastAnswer();
  return {
    renders: await page.evaluate(() => window.renders),
    meta: await answer.locator('.message-meta').innerText(),
    error: (await answer.locator('[role=alert]').isVisible()) ? await answer.locator('[role=alert]').innerText() : '',
    html: await answer.locator('.message-body').innerHTML(),
  };
}

function assertStreamed(result) {
  assert.equal(result.error, '');
  assert.match(result.meta, /^node \S+ · [1-9][\d,]* tokens?/);
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
});

after(async () => {
  await browser?.close();
});

test('the page loads without console errors', async () => {
  await page.waitForFunction(() => document.getElementById('node-badge').textContent !== '');
  assert.equal(await page.title(), 'LlamaNet');
  await page.fill('#max-tokens', '24');
  assertNoConsoleErrors();
});

test('Shift+Enter adds a line and sends nothing', async () => {
  await page.fill('#prompt', 'one');
  await page.press('#prompt', 'Shift+Enter');
  await page.type('#prompt', 'two');
  assert.equal(await page.inputValue('#prompt'), 'one\ntwo');
  assert.equal(await page.locator('.message').count(), 0);
  await page.fill('#prompt', '');
});

test('a chat streams through the OpenAI API', async () => {
  await page.check('#api-openai');
  assertStreamed(await chat('Say hello.'));
  assertNoConsoleErrors();
});

test('a chat streams through the native API, with the history', async () => {
  await page.check('#api-native');
  assertStreamed(await chat('And once more.'));
  assert.equal(await page.locator('.message-user').count(), 2);
  assertNoConsoleErrors();
  await page.check('#api-openai');
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

test('model output with HTML is not executed in the chat', async () => {
  const chunk = (content) => `data: ${JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content } }] })}\n\n`;
  await page.route('**/v1/chat/completions', (route) => route.fulfill({
    status: 200,
    headers: { 'Content-Type': 'text/event-stream', 'X-LlamaNet-Node': 'hostile-node' },
    body: [...kHostile.match(/.{1,12}/gs).map(chunk), 'data: [DONE]\n\n'].join(''),
  }));
  const result = await chat('Render something hostile.');
  await page.unroute('**/v1/chat/completions');
  assert.equal(result.error, '');
  assert.match(result.meta, /^node hostile-node/);
  assert.match(result.html, /<strong>bold<\/strong>/);
  assert.equal(await lastAnswer().locator(kDangerous).count(), 0, result.html);
  assert.equal(await page.evaluate(() => window.pwned), undefined);
  assert.ok(await page.locator('#messages').isVisible());
  assertNoConsoleErrors();
});

test('errors are shown in plain words, and a busy node is retried', async () => {
  await page.route('**/v1/chat/completions', (route) => route.fulfill({
    status: 400,
    contentType: 'application/json',
    body: JSON.stringify({ error: { message: "'max_tokens' is too large", type: 'invalid_request_error' } }),
  }));
  const failed = await chat('This one fails.');
  assert.match(failed.error, /Not answered: 'max_tokens' is too large\./);
  assert.equal(await page.inputValue('#prompt'), 'This one fails.');
  await page.unroute('**/v1/chat/completions');

  let busy = true;
  await page.route('**/v1/chat/completions', (route) => {
    if (!busy) return route.fallback();
    busy = false;
    return route.fulfill({
      status: 429,
      headers: { 'Content-Type': 'application/json', 'Retry-After': '1' },
      body: JSON.stringify({ error: { message: 'the queue is full' } }),
    });
  });
  assertStreamed(await chat('Try again.'));
  await page.unroute('**/v1/chat/completions');
  assertNoConsoleErrors(new RegExp(`${kOptionalRoutes.source}|/v1/chat/completions$`));
  if (screenshot) await page.screenshot({ path: screenshot });
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

test('the page fits a phone screen', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.click('#tab-chat');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  if (screenshot) await page.screenshot({ path: shotPath('-phone') });
  assertNoConsoleErrors();
});
