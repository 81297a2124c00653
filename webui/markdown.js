// Model output is untrusted. It is parsed as Markdown (marked) with any raw HTML in it shown
// as text, never parsed as markup; the result is then sanitized (DOMPurify) down to the plain
// formatting tags that Markdown makes, as a second line of defence. No scripts, event
// handlers, styles, forms, images or frames survive, and links open in a new tab without a
// referrer. (Letting raw HTML reach DOMPurify would also make Chrome log a CSP violation for
// every handler in it, though nothing would run.)
import { Marked } from './vendor/marked.esm.js';
import DOMPurify from './vendor/purify.es.mjs';

const kEntities = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
const escapeHtml = (text) => text.replace(/[&<>"']/g, (c) => kEntities[c]);

const markdown = new Marked({
  gfm: true,
  breaks: true,
  renderer: {
    html: ({ text, block }) => (block ? `<pre><code>${escapeHtml(text)}</code></pre>` : escapeHtml(text)),
  },
});

const kSanitize = {
  ALLOWED_TAGS: [
    'a', 'b', 'blockquote', 'br', 'code', 'del', 'em', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'hr', 'i', 'li',
    'ol', 'p', 'pre', 's', 'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'th', 'thead', 'tr', 'ul',
  ],
  ALLOWED_ATTR: ['href', 'title', 'start', 'align'],
  ALLOW_DATA_ATTR: false,
  RETURN_DOM_FRAGMENT: true,
};

DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.tagName === 'A') {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

// Returns a DocumentFragment of safe nodes for `text`; the caller appends it.
export function renderMarkdown(text) {
  return DOMPurify.sanitize(markdown.parse(text, { async: false }), kSanitize);
}
