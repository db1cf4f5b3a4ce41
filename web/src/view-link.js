// The view in the URL: keeps the hash (see permalink.js for its format) in step with the map,
// applies a hash on load and when it changes, and copies a link to the view.
import { formatHash, parseHash } from './permalink.js';

const HASH_DELAY_MS = 150;

/**
 * Ties the hash to the map view (`mapView`), the visible layers (`layerSwitch`), the period
 * (`timeFilter`), the colouring (`legend`) and the radius search (`radius`). The hash is
 * written only after `enable()`, so start-up does not overwrite the link it was opened with.
 */
export function createViewLink({ mapView, layerSwitch, timeFilter, legend, radius, button, toast }) {
  const { map } = mapView;
  let enabled = false;
  let timer = null;

  function current() {
    const c = map.getCenter();
    const r = timeFilter.range();
    return formatHash({
      view: { zoom: map.getZoom(), lat: c.lat, lng: c.lng },
      from: r.openStart ? null : r.from,
      to: r.openEnd ? null : r.to,
      layers: new Set(layerSwitch.visible()),
      color: legend.colorBy(),
      radius: radius.circle(),
    });
  }

  /** Rewrites the hash shortly (several changes in a row write it once). */
  function schedule() {
    if (!enabled) return;
    clearTimeout(timer);
    timer = setTimeout(() => {
      const h = current();
      if (h !== window.location.hash) window.history.replaceState(null, '', h);
    }, HASH_DELAY_MS);
  }

  /** Applies a parsed hash (view, layers, colouring, period); returns true when the period changed. */
  function apply(h, { initial }) {
    if (h.view) map.setView([h.view.lat, h.view.lng], h.view.zoom, { animate: false });
    else if (initial) mapView.fitRegion({ animate: false });
    layerSwitch.apply(h.layers);
    if (h.color && h.color !== legend.colorBy()) legend.setColorBy(h.color);
    const before = timeFilter.range();
    timeFilter.setRange(h.from, h.to);
    const after = timeFilter.range();
    return before.from !== after.from || before.to !== after.to;
  }

  async function copy() {
    const url = window.location.origin + window.location.pathname + current();
    window.history.replaceState(null, '', current());
    try {
      await navigator.clipboard.writeText(url);
      toast('Link to this view copied.');
    } catch {
      const input = document.createElement('input');
      input.value = url;
      document.body.appendChild(input);
      input.select();
      let ok = false;
      try { ok = document.execCommand('copy'); } catch { ok = false; }
      input.remove();
      toast(ok ? 'Link to this view copied.' : `Copy this link: ${url}`);
    }
  }

  map.on('moveend overlayadd overlayremove', schedule);
  window.addEventListener('hashchange', () => {
    const h = parseHash(window.location.hash);
    if (apply(h, { initial: false })) timeFilter.schedule(0);
    if (h.radius) radius.restore(h.radius);
  });
  button.addEventListener('click', copy);

  return {
    schedule,
    apply,
    /** Starts writing the hash, and writes it now. */
    enable() {
      enabled = true;
      schedule();
    },
  };
}
