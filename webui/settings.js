// The settings form: which API, model, max tokens, temperature and API key a chat uses. The
// API key lives in sessionStorage only (this tab, until it closes): never in localStorage,
// never in a URL.
import { ApiError, getJson } from './api.js';

const kKeyStorage = 'llamanet.apiKey';
const kAnyModel = 'llamanet';

export class Settings {
  constructor(form) {
    this.form = form;
    this.model = form.querySelector('#model');
    this.modelNote = form.querySelector('#model-note');
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
  read() {
    if (!this.form.reportValidity()) return null;
    return {
      api: this.form.elements.api.value,
      model: this.model.value,
      maxTokens: Number(this.form.elements['max-tokens'].value),
      temperature: Number(this.form.elements.temperature.value),
      apiKey: this.apiKey,
    };
  }

  showApi() {
    const native = this.form.elements.api.value === 'native';
    this.model.disabled = native;
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
