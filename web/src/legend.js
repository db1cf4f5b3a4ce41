// The legend (bottom right) and the "colour by" choice it holds: year or target category.
// It owns that choice and the years the colour ramp spans; what is drawn in those colours
// (markers, rug, radius list) is redrawn by whoever listens to `onColorBy`.
import L from 'leaflet';
import { escapeHtml as e } from './format.js';
import {
  PROVINCE_CLASSES, TARGETS, WILAYAT_LINES, deathsDiameter, incidentColor, yearColor,
} from './style.js';

function lineSample({ color, weight, dash }) {
  return `<svg width="28" height="8" aria-hidden="true"><line x1="2" y1="4" x2="26" y2="4" stroke="${color}" stroke-width="${weight}" stroke-dasharray="${dash}" stroke-linecap="round"/></svg>`;
}

function legendHtml(open) {
  const size = (d) => `width:${deathsDiameter(d)}px;height:${deathsDiameter(d)}px`;
  return `<details ${open ? 'open' : ''}>
      <summary>Legend</summary>
      <section aria-labelledby="lg-attacks">
        <h4 id="lg-attacks">ISIS-K attacks</h4>
        <fieldset class="colorby"><legend>Colour by</legend>
          <label><input type="radio" name="colorby" value="year" id="color-year" data-testid="color-year" checked> year</label>
          <label><input type="radio" name="colorby" value="target" id="color-target" data-testid="color-target"> target</label>
        </fieldset>
        <div id="legend-colors" class="legend-colors"></div>
        <div class="legend-sizes" aria-label="Dot size shows people killed">
          ${[1, 10, 50, 150].map((d) => `<span class="sz"><i style="${size(d)}"></i>${d}</span>`).join('')}
          <span class="sz"><i class="unknown" style="${size(null)}"></i>?</span>
          <span class="cap">people killed (? = not reported)</span>
        </div>
        <div class="legend-cluster"><span class="incident-cluster demo" aria-hidden="true"><div><b>12</b><small>340&#8201;†</small></div></span>
          <span>group of 12 attacks, 340 killed; click to expand</span></div>
      </section>
      <section aria-labelledby="lg-prov">
        <h4 id="lg-prov">Attacks per province <span id="legend-prov-range" class="muted">(all dates)</span></h4>
        <div class="legend-classes">${PROVINCE_CLASSES.map((c) => `<span><i style="background:${c.color}"></i>${c.label}</span>`).join('')}</div>
      </section>
      <section aria-labelledby="lg-kh">
        <h4 id="lg-kh">Historical Khorasan</h4>
        <p class="legend-kh"><i class="sw-khorasan"></i><span>An <strong>approximation</strong> from modern provinces.
          <button type="button" class="linklike" id="legend-derivation" data-testid="legend-derivation">How it was drawn</button></span></p>
      </section>
      <section aria-labelledby="lg-wil" class="legend-wilayat" id="legend-wilayat" hidden>
        <h4 id="lg-wil">IS &ldquo;Wilayat Khurasan&rdquo; (claimed area)</h4>
        <ul>
          ${['early', 'late', 'pakistan'].map((k) => `<li>${lineSample(WILAYAT_LINES[k])} ${WILAYAT_LINES[k].legendHtml}</li>`).join('\n          ')}
        </ul>
      </section>
    </details>`;
}

/**
 * Adds the legend to `map`. `onColorBy(mode)` runs after the colouring changed;
 * `onDerivation()` when "How it was drawn" is activated.
 */
export function createLegend({ map, narrow, onColorBy, onDerivation }) {
  const scheme = { by: 'year', years: [2015, 2026] };
  let container = null;
  const find = (selector) => container && container.querySelector(selector);

  function renderColors() {
    const el = find('#legend-colors');
    if (!el) return;
    if (scheme.by === 'target') {
      el.innerHTML = `<ul class="legend-cats">${TARGETS.map((t) => `<li><i style="background:${t.color}"></i>${e(t.label)}</li>`).join('')}</ul>
      <p class="cap">Grouped on this page from each attack's target description.</p>`;
    } else {
      const [y0, y1] = scheme.years;
      const cells = [];
      for (let y = y0; y <= y1; y += 1) {
        const lbl = y === y0 || y === y1 || (y - y0) % 3 === 0 ? String(y) : '';
        cells.push(`<span title="${y}"><i style="background:${yearColor(y, y0, y1)}"></i><small>${lbl}</small></span>`);
      }
      el.innerHTML = `<div class="legend-years">${cells.join('')}</div>`;
    }
  }

  function setColorBy(mode) {
    scheme.by = mode === 'target' ? 'target' : 'year';
    const radio = find(`#color-${scheme.by}`);
    if (radio) radio.checked = true;
    renderColors();
    onColorBy(scheme.by);
  }

  const Legend = L.Control.extend({
    options: { position: 'bottomright' },
    onAdd() {
      const div = L.DomUtil.create('div', 'legend leaflet-bar');
      div.setAttribute('data-testid', 'legend');
      div.innerHTML = legendHtml(!narrow());
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.disableScrollPropagation(div);
      div.querySelectorAll('input[name=colorby]').forEach((r) => r.addEventListener('change', () => setColorBy(r.value)));
      div.querySelector('#legend-derivation').addEventListener('click', onDerivation);
      return div;
    },
  });
  container = new Legend().addTo(map).getContainer();
  renderColors();

  return {
    /** 'year' or 'target'. */
    colorBy: () => scheme.by,
    setColorBy,
    /** The years the year ramp spans. */
    setYears(first, last) {
      scheme.years = [first, last];
      renderColors();
    },
    /** Colour of an incident (its properties) under the current scheme. */
    colorOf: (p) => incidentColor(p, scheme),
    /** Says which period the province shading counts (null = all dates). */
    setProvinceRange(label) {
      const el = find('#legend-prov-range');
      if (el) el.textContent = label ? `(${label})` : '(all dates)';
    },
    /** Shows the Wilayat key while that layer is on the map. */
    showWilayat(shown) {
      const el = find('#legend-wilayat');
      if (el) el.hidden = !shown;
    },
  };
}
