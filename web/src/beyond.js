// Attacks beyond Khorasan: the default view stays on Afghanistan and Pakistan, and this box
// says how many attacks (all dates) lie outside it, by country, with a button that zooms out
// to every attack and one that comes back.
import L from 'leaflet';
import { countOutside } from './beyond-count.js';
import { escapeHtml as e, num } from './format.js';

/** `regionBbox` is the default view; `fitRegion()` returns to it; `fitPadding()` as the map's. */
export function createBeyondView({ map, regionBbox, fitRegion, fitPadding }) {
  let features = [];
  const Box = L.Control.extend({
    options: { position: 'topleft' },
    onAdd() {
      const div = L.DomUtil.create('div', 'leaflet-bar beyond-control');
      div.dataset.testid = 'beyond';
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.on(div, 'click', (ev) => {
        const t = ev.target.closest && ev.target.closest('button');
        if (!t) return;
        if (t.dataset.action === 'all') fitAll(); else fitRegion();
      });
      return div;
    },
  });
  const box = new Box().addTo(map);

  function fitAll() {
    const points = features
      .filter((f) => f.geometry && f.geometry.type === 'Point')
      .map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]);
    if (points.length) map.fitBounds(L.latLngBounds(points), fitPadding());
  }

  function render() {
    const { total, byCountry } = countOutside(features, regionBbox);
    const list = byCountry
      .map(([c, n]) => `<li data-country="${e(c)}"><span class="n" data-testid="beyond-country-count">${num(n)}</span> ${e(c)}</li>`)
      .join('');
    box.getContainer().innerHTML = `<p><strong data-testid="beyond-count">${num(total)}</strong> attack${total === 1 ? '' : 's'} (all dates) outside the default view of Afghanistan, Pakistan and Khorasan:</p>
<ul>${list}</ul>
<button type="button" data-action="all" data-testid="beyond-button">Beyond Khorasan: show all</button>
<button type="button" data-action="region">Back to Khorasan</button>`;
  }

  return {
    /** Counts `all` (every incident, all dates). */
    setIncidents(all) {
      features = all;
      render();
    },
    /** The counts shown: { total, byCountry }. */
    counts: () => countOutside(features, regionBbox),
    fitAll,
  };
}
