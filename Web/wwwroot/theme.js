// The console's theme: the system's, light or dark. Fluent UI's design theme element applies it and remembers it in
// local storage ("aiprompts-theme"); these buttons only tell it which. Works on every page, interactive or not.
const element = () => document.querySelector('fluent-design-theme');

function mark() {
  const mode = element()?.getAttribute('mode') || 'system';
  for (const button of document.querySelectorAll('[data-theme-choice]')) {
    button.setAttribute('aria-pressed', String(button.dataset.themeChoice === mode));
  }
}

document.addEventListener('click', event => {
  const button = event.target.closest?.('[data-theme-choice]');
  const theme = element();
  if (!button || !theme) {
    return;
  }
  theme.mode = button.dataset.themeChoice === 'system' ? null : button.dataset.themeChoice;
  mark();
});

// After the element has read the stored choice, and after each enhanced navigation.
customElements.whenDefined('fluent-design-theme').then(() => setTimeout(mark, 0));
document.addEventListener('DOMContentLoaded', mark);
window.Blazor?.addEventListener?.('enhancedload', mark);
