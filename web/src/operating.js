// Where ISIS-K operated in the chosen period: the operating_provinces rows whose period
// overlaps the time slider's `datetime`, coloured by kind, with a legend of the kinds. Each
// row is a whole province, so a province with several rows is drawn once per row.
import L from 'leaflet';
import { escapeHtml as e, num } from './format.js';
import { operatingPopup } from './popups.js';
import { OPERATING_KINDS, operatingKind } from './style.js';

const COLLECTION = 'operating_provinces';

/** Creates the layer (not yet on the map); `load(datetime)` draws the rows of a period. */
export function createOperatingLayer({ map, api, notices, clickTaken, periodLabel }) {
  let seq = 0;
  let matched = null;
  const layer = L.geoJSON(null, {
    pane: 'operating',
    style: (f) => {
      const k = operatingKind(f.properties.kind);
      return { color: k.color, weight: 1.5, opacity: 0.9, fillColor: k.color, fillOpacity: 0.18, dashArray: f.properties.end == null ? null : '4 3' };
    },
    onEachFeature: (f, l) => {
      l.on('click', (ev) => {
        if (clickTaken()) return;
        L.DomEvent.stopPropagation(ev);
        // Rows of one province share its polygon: show every row drawn there.
        const here = layer.getLayers().map((x) => x.feature).filter((g) => g.properties.iso_3166_2 === f.properties.iso_3166_2);
        L.popup({ maxWidth: 320, maxHeight: 360 }).setLatLng(ev.latlng).setContent(here.map(operatingPopup).join('')).openOn(map);
      });
    },
  });

  const Legend = L.Control.extend({
    options: { position: 'bottomleft' },
    onAdd() {
      const div = L.DomUtil.create('div', 'legend operating-legend');
      div.dataset.testid = 'operating-legend';
      L.DomEvent.disableClickPropagation(div);
      return div;
    },
  });
  const legend = new Legend();

  function renderLegend() {
    const div = legend.getContainer();
    if (!div) return;
    const rows = OPERATING_KINDS.map((k) => `<li><span class="sw" style="background:${k.color}" aria-hidden="true"></span> <strong>${e(k.label)}</strong>: ${e(k.meaning)}</li>`).join('');
    div.innerHTML = `<p><strong>Where ISIS-K operated</strong>, ${e(periodLabel())}: <span data-testid="operating-count">${matched == null ? '…' : num(matched)}</span> province rows</p>
<ul>${rows}</ul>
<p class="note">Polygons are whole provinces, even where reports name a few districts. Dashed: the last report found, not a known end.</p>`;
  }

  layer.on('add', () => { legend.addTo(map); renderLegend(); });
  layer.on('remove', () => legend.remove());

  return {
    layer,
    /** Draws the rows whose period overlaps `datetime` (null: all rows). */
    async load(datetime) {
      const mine = ++seq;
      try {
        const r = await api.getAllItems(COLLECTION, datetime ? { datetime } : {});
        if (mine !== seq) return;
        layer.clearLayers();
        layer.addData(r.features);
        matched = r.numberMatched;
        renderLegend();
      } catch (err) {
        notices.error(err.message);
      }
    },
    /** Rows drawn. */
    count: () => layer.getLayers().length,
    /** numberMatched of the answer drawn. */
    matched: () => matched,
  };
}
