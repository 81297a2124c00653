// The conversation: sends the history with each new message, streams the answer into the
// view (as sanitized Markdown, or as JSON and tool calls in readable blocks), takes back what
// called tools returned, and keeps the history for this page's life.
import { ApiError, streamChat } from './api.js';
import { el } from './dom.js';
import { formatCount, formatRate } from './format.js';
import { formatJsonAnswer, jsonBlock, renderToolCalls } from './json_view.js';
import { renderMarkdown } from './markdown.js';

// The most characters of one tool result the page sends back.
const kMaxToolResultChars = 32768;

// A busy node (429/503) is retried this many times, each after its Retry-After.
const kBusyRetries = 5;

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}

// Tokens per second after the first token, as the node measures it; the first token waits
// for the prompt, which says nothing about generation speed. NaN while there is no span to
// measure (tokens that arrive in one piece have no rate).
function rate(tokens, firstMs, nowMs) {
  const seconds = (nowMs - firstMs) / 1000;
  return firstMs > 0 && tokens > 1 && seconds >= 0.01 ? (tokens - 1) / seconds : NaN;
}

// One assistant message in the view, updated as it streams in: its text, then its tool
// calls. Below them: the meta line (node, tokens, speed), a transient status (waiting,
// retrying) and any error. An answer that is a JSON object or array is shown re-indented;
// with `json` (JSON output was asked for) the text is monospace even before it parses.
class AnswerView {
  constructor(list, onRender, { json = false } = {}) {
    this.body = el('div', { className: 'message-body markdown' });
    this.calls = el('div', { className: 'tool-calls', hidden: true });
    this.meta = el('div', { className: 'message-meta small text-body-secondary' });
    this.status = el('div', { className: 'message-status small text-body-secondary', role: 'status' });
    this.error = el('div', { className: 'alert alert-danger py-2 px-3 mb-0 mt-2 small', role: 'alert', hidden: true });
    this.article = el('article', { className: 'message message-assistant' },
      el('div', { className: 'message-role' }, 'Assistant'), this.body, this.calls, this.meta, this.status, this.error);
    this.article.setAttribute('aria-busy', 'true');
    this.json = json;
    this.text = '';
    this.toolCalls = [];
    this.frame = 0;
    this.onRender = onRender;
    list.append(this.article);
  }

  // Renders at most once per frame: re-parsing the whole answer per token would be wasteful.
  update(text, toolCalls) {
    this.text = text;
    this.toolCalls = toolCalls;
    this.frame ||= requestAnimationFrame(() => this.render());
  }

  render() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    const json = formatJsonAnswer(this.text);
    if (json !== null) this.body.replaceChildren(jsonBlock(json));
    else if (this.json && this.text) this.body.replaceChildren(jsonBlock(this.text));
    else this.body.replaceChildren(renderMarkdown(this.text));
    // Calls without text: the body would only show the "…" of an answer still to come.
    this.body.hidden = !this.text && this.toolCalls.length > 0;
    this.calls.replaceChildren(...renderToolCalls(this.toolCalls));
    this.calls.hidden = this.toolCalls.length === 0;
    this.onRender();
  }

  setMeta(text) {
    this.meta.textContent = text;
    this.status.textContent = '';
  }

  setStatus(text) {
    this.status.textContent = text;
  }

  // Ends the stream; `note` is added to the meta line, `error` shown as an alert.
  finish({ note = '', error = '' } = {}) {
    this.render();
    this.article.setAttribute('aria-busy', 'false');
    this.body.hidden = !this.text;
    this.status.textContent = '';
    if (note) this.meta.textContent = [this.meta.textContent, note].filter(Boolean).join(' · ');
    this.error.textContent = error;
    this.error.hidden = !error;
  }
}

// The form under an answer that called tools: one box per call for what it returned, and a
// button that sends them all back (OpenAI's API wants a result for every call).
let toolResultBoxes = 0;
function toolResultsForm(calls) {
  const fields = calls.map((call, i) => {
    const id = `tool-result-${++toolResultBoxes}`;
    return el('div', { className: 'mb-2' },
      el('label', { className: 'form-label small mb-1', htmlFor: id },
        'What ', el('code', {}, call.function.name || `call ${i + 1}`), ' returned'),
      el('textarea', {
        id, className: 'form-control form-control-sm font-monospace tool-result', rows: 2,
        maxLength: kMaxToolResultChars, required: true, spellcheck: false,
      }));
  });
  const fieldset = el('fieldset', {}, ...fields,
    el('button', { type: 'submit', className: 'btn btn-sm btn-outline-primary' }, 'Send results'));
  return el('form', { className: 'tool-results mt-2', autocomplete: 'off' }, fieldset);
}

export class Chat {
  constructor(root, settings) {
    this.settings = settings;
    this.list = root.querySelector('#messages');
    this.empty = root.querySelector('#messages-empty');
    this.form = root.querySelector('#chat-form');
    this.input = root.querySelector('#prompt');
    this.sendButton = root.querySelector('#send');
    this.stopButton = root.querySelector('#stop');
    this.history = [];
    // The form for the results of the newest answer's tool calls, while they are not sent.
    this.pendingResults = null;
    this.controller = null;
    // Whether the view follows the newest text: it stops while the user reads further up.
    this.follow = true;
    this.list.addEventListener('scroll', () => {
      const { scrollHeight, scrollTop, clientHeight } = this.list;
      this.follow = scrollHeight - scrollTop - clientHeight < 40;
    });

    this.form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.send();
    });
    this.input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        this.form.requestSubmit();
      }
    });
    this.stopButton.addEventListener('click', () => this.controller?.abort());
    root.querySelector('#new-chat').addEventListener('click', () => this.clear());
  }

  clear() {
    this.controller?.abort();
    this.dropToolResults();
    this.history = [];
    this.list.replaceChildren(this.empty);
    this.input.focus();
  }

  async send() {
    const content = this.input.value.trim();
    if (!content || this.controller) return;
    const options = this.settings.read();
    if (!options) return;
    this.dropToolResults();
    this.empty.remove();
    this.list.append(el('article', { className: 'message message-user' },
      el('div', { className: 'message-role' }, 'You'), el('div', { className: 'message-body' }, content)));
    this.input.value = '';
    await this.reply([{ role: 'user', content }], options, {
      hint: 'Your message is back in the box to send again.',
      restore: () => {
        if (!this.input.value) this.input.value = content;
      },
    });
  }

  // Streams the answer to the history and `added` (the user's message, or tool results); both
  // join the history once answered. When it fails, or is stopped before any text, `restore`
  // gives back what was sent, as `hint` says.
  async reply(added, options, { hint, restore }) {
    const view = new AnswerView(this.list, () => this.scrollToEnd(), { json: options.json });
    this.setBusy(new AbortController());
    this.follow = true;
    this.scrollToEnd();
    const signal = this.controller.signal;
    // "New chat" replaces this.history: an answer that ends after it goes to the old one.
    const history = this.history;
    try {
      const { text, toolCalls } = await this.answer(view, [...history, ...added], options, signal);
      const answer = { role: 'assistant', content: text };
      if (toolCalls.length) answer.tool_calls = toolCalls;
      history.push(...added, answer);
      view.finish();
      if (toolCalls.length && history === this.history) this.askToolResults(view, toolCalls);
    } catch (e) {
      if (e instanceof ApiError) {
        const message = e.message.replace(/\.$/, '');
        const keyHint = e.status === 401 ? ' Enter the API key in Settings.' : '';
        view.finish({ error: `Not answered: ${message}.${keyHint} ${hint}` });
        restore();
      } else if (signal.aborted) {
        // What was shown before Stop stays part of the conversation; half a tool call does not.
        // Nothing shown: what was sent comes back, unless "New chat" left this conversation.
        if (view.text) history.push(...added, { role: 'assistant', content: view.text });
        else if (history === this.history) restore();
        view.finish({ note: 'stopped' });
      } else {
        view.finish({ error: `Not answered: ${e.message}` });
        throw e;
      }
    } finally {
      this.setBusy(null);
      this.scrollToEnd();
    }
  }

  // Puts the tool results form under `view`; once sent, it stays, read-only, as the record of
  // what the tools returned. Only the newest answer's calls can get results.
  askToolResults(view, toolCalls) {
    const form = toolResultsForm(toolCalls);
    const fieldset = form.querySelector('fieldset');
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const options = this.settings.read();
      if (!options || this.controller || this.pendingResults !== form) return;
      const boxes = [...form.querySelectorAll('textarea')];
      const results = toolCalls.map((call, i) => ({ role: 'tool', tool_call_id: call.id, content: boxes[i].value }));
      fieldset.disabled = true;
      this.pendingResults = null;
      this.reply(results, options, {
        hint: 'The results are still in their boxes to send again.',
        restore: () => {
          fieldset.disabled = false;
          this.pendingResults = form;
        },
      });
    });
    this.pendingResults = form;
    view.article.insertBefore(form, view.meta);
    this.scrollToEnd();
  }

  // A new message or chat moves on from calls still waiting for results.
  dropToolResults() {
    this.pendingResults?.remove();
    this.pendingResults = null;
  }

  // Streams one answer into `view`, retrying while the node is busy and nothing has streamed.
  async answer(view, messages, options, signal) {
    for (let attempt = 1; ; ++attempt) {
      try {
        return await this.stream(view, messages, options, signal);
      } catch (e) {
        const streamed = view.text || view.toolCalls.length;
        if (!(e instanceof ApiError) || !e.retryable || streamed || attempt > kBusyRetries) throw e;
        const wait = Math.max(1, e.retryAfter);
        view.setStatus(`The node is busy (${e.message}): retrying in ${wait}s (try ${attempt} of ${kBusyRetries})`);
        await sleep(wait * 1000, signal);
      }
    }
  }

  async stream(view, messages, options, signal) {
    view.setStatus('Waiting for the first token…');
    let text = '';
    let toolCalls = [];
    let first = 0;
    for await (const piece of streamChat(options.api, { ...options, messages, signal })) {
      const now = performance.now();
      if ((piece.text || piece.toolCalls.length) && !first) first = now;
      text += piece.text;
      toolCalls = piece.toolCalls;
      view.update(text, toolCalls);
      const tokens = `${formatCount(piece.tokens)} ${piece.tokens === 1 ? 'token' : 'tokens'}`;
      const parts = [piece.nodeId ? `node ${piece.nodeId}` : 'node unknown', tokens];
      const speed = rate(piece.tokens, first, now);
      if (Number.isFinite(speed)) parts.push(formatRate(speed));
      view.setMeta(parts.join(' · '));
    }
    return { text, toolCalls: structuredClone(toolCalls) };
  }

  setBusy(controller) {
    this.controller = controller;
    this.sendButton.disabled = controller !== null;
    this.stopButton.disabled = controller === null;
    if (!controller) this.input.focus();
  }

  scrollToEnd() {
    if (this.follow) this.list.scrollTop = this.list.scrollHeight;
  }
}
