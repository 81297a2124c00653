// The settings form: which API, model, max tokens, temperature, output format, tools and API
// key a chat uses. The API key lives in sessionStorage only (this tab, until it closes):
// never in localStorage, never in a URL.
import { ApiError, getJson } from './api.js';

const kKeyStorage = 'llamanet.apiKey';
const kAnyModel = 'llamanet';
const kMaxTools = 64;

// The tools in the box as {tools} (null when the box is empty), or {error} saying what is
// wrong. Only the shape the node needs is checked: the node checks the rest.
function parseTools(text) {
  if (!text.trim()) return { tools: null };
  let tools;
  try {
    tools = JSON.parse(text);
  } catch (e) {
    return { error: `The tools are not JSON: ${e.message}` };
  }
  if (!Array.isArray(tools) || tools.length === 0 || tools.length > kMaxTools) {
    return { error: `The tools are a list of 1 to ${kMaxTools}: [{"type": "function", "function": {"name": …}}]` };
  }
  const bad = tools.findIndex((t) => t?.type !== 'function' || typeof t.function?.name !== 'string' ||
    !t.function.name);
  if (bad >= 0) return { error: `Tool ${bad + 1} needs "type": "function" and a "function" with a "name".` };
  return { tools };
}

export class Settings {
  constructor(form) {
    this.form = form;
    this.model = form.querySelector('#model');
    this.modelNote = form.querySelector('#model-note');
    this.jsonOutput = form.querySelector('#json-output');
    this.toolsInput = form.querySelector('#tools');
    this.toolsInput.addEventListener('input', () => this.checkTools());
    this.apiKeyInput = form.querySelector('#api-key');
    this.apiKeyInput.value = sessionStorage.getItem(kKeyStorage) ?? '';
    this.apiKeyInput.addEventListener('change', () => {
      const key = this.apiKeyInput.value.trim();
      if (key) sessionStorage.setItem(kKeyStorage, key);
      else sessionStorage.removeItem(kKeyStorage);
      this.loadModels();
    });
    form.addEventListener('change', (e) => {
      if (e.target.name === 'api') this.showApi();
    });
    form.addEventListener('submit', (e) => e.preventDefault());
    this.showApi();
  }

  get apiKey() {
    return this.apiKeyInput.value.trim();
  }

  // The values for one request; null (after pointing the user at the field) when one is invalid.
  // JSON output and tools go only through the OpenAI API.
  read() {
    const tools = this.checkTools();
    if (!this.form.reportValidity()) return null;
    const openai = this.form.elements.api.value === 'openai';
    return {
      api: this.form.elements.api.value,
      model: this.model.value,
      maxTokens: Number(this.form.elements['max-tokens'].value),
      temperature: Number(this.form.elements.temperature.value),
      json: openai && this.jsonOutput.checked,
      tools: openai ? tools : null,
      apiKey: this.apiKey,
    };
  }

  // Marks the tools box invalid while it holds no usable list; returns the list (or null).
  checkTools() {
    const { tools = null, error = '' } = parseTools(this.toolsInput.value);
    this.toolsInput.setCustomValidity(error);
    return tools;
  }

  showApi() {
    const native = this.form.elements.api.value === 'native';
    this.model.disabled = native;
    this.jsonOutput.disabled = native;
    this.toolsInput.disabled = native;
    this.modelNote.textContent = native ? "The native API always answers with this node's model." : '';
  }

  // Fills the model list from GET /v1/models (every model of the swarm).
  async loadModels() {
    try {
      const list = await getJson('/v1/models', { apiKey: this.apiKey });
      const ids = [...new Set((list.data ?? []).map((m) => m.id).filter((id) => id && id !== kAnyModel))];
      const chosen = this.model.value;
      this.model.replaceChildren(new Option('Any model (llamanet)', kAnyModel), ...ids.map((id) => new Option(id, id)));
      this.model.value = ids.includes(chosen) ? chosen : kAnyModel;
      this.showApi();
    } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      this.modelNote.textContent = e.status === 401
        ? 'Enter the API key to list the models.'
        : `The model list could not be loaded: ${e.message}`;
    }
  }
}
