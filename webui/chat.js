// The conversation: sends the history with each new message, streams the answer into the
// view (as sanitized Markdown), and keeps the history for this page's life.
import { ApiError, streamChat } from './api.js';
import { el } from './dom.js';
import { formatCount, formatRate } from './format.js';
import { renderMarkdown } from './markdown.js';

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

// One assistant message in the view, updated as its text streams in. Below the text: the
// meta line (node, tokens, speed), a transient status (waiting, retrying) and any error.
class AnswerView {
  constructor(list, onRender) {
    this.body = el('div', { className: 'message-body markdown' });
    this.meta = el('div', { className: 'message-meta small text-body-secondary' });
    this.status = el('div', { className: 'message-status small text-body-secondary', role: 'status' });
    this.error = el('div', { className: 'alert alert-danger py-2 px-3 mb-0 mt-2 small', role: 'alert', hidden: true });
    this.article = el('article', { className: 'message message-assistant' },
      el('div', { className: 'message-role' }, 'Assistant'), this.body, this.meta, this.status, this.error);
    this.article.setAttribute('aria-busy', 'true');
    this.text = '';
    this.frame = 0;
    this.onRender = onRender;
    list.append(this.article);
  }

  // Renders at most once per frame: re-parsing the whole answer per token would be wasteful.
  setText(text) {
    this.text = text;
    this.frame ||= requestAnimationFrame(() => this.render());
  }

  render() {
    cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.body.replaceChildren(renderMarkdown(this.text));
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
    this.history = [];
    this.list.replaceChildren(this.empty);
    this.input.focus();
  }

  async send() {
    const content = this.input.value.trim();
    if (!content || this.controller) return;
    const options = this.settings.read();
    if (!options) return;
    const user = { role: 'user', content };
    this.empty.remove();
    this.list.append(el('article', { className: 'message message-user' },
      el('div', { className: 'message-role' }, 'You'), el('div', { className: 'message-body' }, content)));
    const view = new AnswerView(this.list, () => this.scrollToEnd());
    this.input.value = '';
    this.setBusy(new AbortController());
    this.follow = true;
    this.scrollToEnd();
    const signal = this.controller.signal;
    // "New chat" replaces this.history: an answer that ends after it goes to the old one.
    const history = this.history;
    try {
      const answer = await this.answer(view, [...history, user], options, signal);
      history.push(user, { role: 'assistant', content: answer });
      view.finish();
    } catch (e) {
      if (e instanceof ApiError) {
        const message = e.message.replace(/\.$/, '');
        const hint = e.status === 401 ? ' Enter the API key in Settings.' : '';
        view.finish({ error: `Not answered: ${message}.${hint} Your message is back in the box to send again.` });
        if (!this.input.value) this.input.value = content;
      } else if (signal.aborted) {
        // What was shown before Stop stays part of the conversation.
        if (view.text) history.push(user, { role: 'assistant', content: view.text });
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

  // Streams one answer into `view`, retrying while the node is busy and nothing has streamed.
  async answer(view, messages, options, signal) {
    for (let attempt = 1; ; ++attempt) {
      try {
        return await this.stream(view, messages, options, signal);
      } catch (e) {
        if (!(e instanceof ApiError) || !e.retryable || view.text || attempt > kBusyRetries) throw e;
        const wait = Math.max(1, e.retryAfter);
        view.setStatus(`The node is busy (${e.message}): retrying in ${wait}s (try ${attempt} of ${kBusyRetries})`);
        await sleep(wait * 1000, signal);
      }
    }
  }

  async stream(view, messages, options, signal) {
    view.setStatus('Waiting for the first token…');
    let text = '';
    let first = 0;
    for await (const piece of streamChat(options.api, { ...options, messages, signal })) {
      const now = performance.now();
      if (piece.text && !first) first = now;
      text += piece.text;
      view.setText(text);
      const tokens = `${formatCount(piece.tokens)} ${piece.tokens === 1 ? 'token' : 'tokens'}`;
      const parts = [piece.nodeId ? `node ${piece.nodeId}` : 'node unknown', tokens];
      const speed = rate(piece.tokens, first, now);
      if (Number.isFinite(speed)) parts.push(formatRate(speed));
      view.setMeta(parts.join(' · '));
    }
    return text;
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
