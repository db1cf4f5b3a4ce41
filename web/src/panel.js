// The side panel, showing either "About" or the radius tool's form and list: opening,
// closing (button, ×, Escape), and the About section's live figures and links.

/**
 * `els` are the panel's elements (panel, about, radius, aboutButton, close, count,
 * derivation). `onLeaveRadius()` runs when the panel closes or shows something other than the
 * radius form; `onDerivation()` when "How it was drawn" is activated.
 */
export function createPanel({ map, narrow, els, onLeaveRadius, onDerivation }) {
  function open(which) {
    els.panel.hidden = false;
    els.about.hidden = which !== 'about';
    els.radius.hidden = which !== 'radius';
    els.aboutButton.setAttribute('aria-expanded', String(which === 'about'));
    if (which !== 'radius') onLeaveRadius();
    document.body.classList.add('panel-open');
    map.invalidateSize();
  }

  function close() {
    els.panel.hidden = true;
    els.aboutButton.setAttribute('aria-expanded', 'false');
    document.body.classList.remove('panel-open');
    onLeaveRadius();
    map.invalidateSize();
  }

  els.aboutButton.addEventListener('click', () => {
    if (!els.panel.hidden && !els.about.hidden) close(); else open('about');
  });
  els.close.addEventListener('click', close);
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !els.panel.hidden && !document.querySelector('.leaflet-popup')) close();
  });
  els.derivation.addEventListener('click', () => { if (narrow()) close(); onDerivation(); });

  return {
    open,
    close,
    /** Height of the map the panel covers: on phones it sits over the bottom of the map. */
    coveredHeight: () => (narrow() && !els.panel.hidden ? els.panel.offsetHeight : 0),
    /** The number of attacks the About text quotes. */
    setCount(text) { els.count.textContent = text; },
  };
}
