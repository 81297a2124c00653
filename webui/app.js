// The page's entry point: tabs, settings, chat and the network monitor.
import { Chat } from './chat.js';
import { Monitor } from './monitor.js';
import { Settings } from './settings.js';

// Tabs as WAI-ARIA describes them: click or arrow keys move between them.
function setUpTabs() {
  const tabs = [...document.querySelectorAll('[role=tab]')];
  const select = (tab) => {
    for (const t of tabs) {
      const selected = t === tab;
      t.classList.toggle('active', selected);
      t.setAttribute('aria-selected', String(selected));
      t.tabIndex = selected ? 0 : -1;
      document.getElementById(t.getAttribute('aria-controls')).hidden = !selected;
    }
    tab.focus();
  };
  tabs.forEach((tab, i) => {
    tab.addEventListener('click', () => select(tab));
    tab.addEventListener('keydown', (e) => {
      const step = { ArrowRight: 1, ArrowLeft: -1 }[e.key];
      if (step) select(tabs[(i + step + tabs.length) % tabs.length]);
    });
  });
}

setUpTabs();
const settings = new Settings(document.getElementById('settings'));
settings.loadModels();
new Chat(document.getElementById('panel-chat'), settings);
new Monitor(document.getElementById('panel-network'), document.getElementById('node-badge')).start();
