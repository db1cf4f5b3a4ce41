// The Khorasan Atlas map page.
//
// Everything comes from the server's public OGC API Features endpoints (api.js); nothing is
// fetched from another origin. Start-up, in order:
//   1. build the map, panes, controls and the time bar (no data yet);
//   2. fetch /collections and every layer in parallel, drawing each as it arrives;
//   3. when all are in, apply the time range from the URL and resolve `window.atlas.ready`.
// The incidents drawn are always exactly those the API returns for the chosen `datetime`.
import 'leaflet/dist/leaflet.css';
import 'leaflet.markercluster/dist/MarkerCluster.css';
import './app.css';
import L from 'leaflet';
import 'leaflet.markercluster';
import markerIcon from 'leaflet/dist/images/marker-icon.png';
import markerIcon2x from 'leaflet/dist/images/marker-icon-2x.png';
import markerShadow from 'leaflet/dist/images/marker-shadow.png';

import { getAllItems, getJSON, getRadius, sameOriginPath } from './api.js';
import { escapeHtml as e, fmtDate, fmtDistance, fmtMonth, intOrNull, num } from './format.js';
import { CountriesCanvas } from './basemap.js';
import { PlaceLabels, labelPoint } from './labels.js';
import { formatHash, monthParam, parseHash } from './permalink.js';
import { incidentPopup, khorasanPopup, provincePopup, wilayatPopup } from './popups.js';
import {
  KHORASAN_COLOR, PROVINCE_CLASSES, TARGETS, deathsDiameter, provinceColor, targetCategory, yearColor,
} from './style.js';
import { TimeBar } from './timebar.js';

// Leaflet finds its default marker images through a CSS trick that breaks once a bundler
// renames them; give it the bundled URLs (served under /map/assets/) directly.
delete L.Icon.Default.prototype._getIconUrl;
L.Icon.Default.mergeOptions({ iconUrl: markerIcon, iconRetinaUrl: markerIcon2x, shadowUrl: markerShadow });

const $ = (id) => document.getElementById(id);
const LAYER_KEYS = ['countries', 'places', 'provinces', 'khorasan', 'wilayat', 'incidents'];
const DEFAULT_LAYERS = new Set(['countries', 'places', 'provinces', 'khorasan', 'incidents']);
// Afghanistan, Pakistan and the Khorasan approximation.
const DEFAULT_BOUNDS = L.latLngBounds([24.5, 56.5], [40.8, 75.5]);
/** Padding that keeps a fitted area clear of the legend (bottom right) and the layer button. */
const fitPadding = () => (narrow() ? { padding: [10, 10] } : { paddingTopLeft: [20, 20], paddingBottomRight: [230, 20] });
const narrow = () => window.matchMedia('(max-width: 700px)').matches;

// ---------------------------------------------------------------------------------------------
// State
// ---------------------------------------------------------------------------------------------
const state = {
  colorBy: 'year',
  years: [2015, 2026],
  allIncidents: [], // every incident (no time filter), for the time bar's rug
  shown: [], // the incidents drawn now: exactly the API's answer for the current datetime
  matched: 0, // numberMatched of that answer
  provincesJoinOk: false, // incidents carry a `province` that matches provinces' names
  errors: [],
};
let pending = 0; // requests and debounced actions in flight (for atlas.idle())
let idleWaiters = [];
function busy(delta) {
  pending += delta;
  if (pending === 0) {
    const w = idleWaiters;
    idleWaiters = [];
    setTimeout(() => w.forEach((f) => f()), 0);
  }
}

function showError(message) {
  state.errors.push(message);
  const b = $('banner');
  b.textContent = `Could not load part of the map: ${message}`;
  b.hidden = false;
}

let toastTimer;
function toast(message) {
  const t = $('toast');
  t.textContent = message;
  t.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.hidden = true; }, 3500);
}

// ---------------------------------------------------------------------------------------------
// Map, panes, renderers
// ---------------------------------------------------------------------------------------------
const map = L.map('map', {
  minZoom: 2,
  maxZoom: 11,
  zoomSnap: 0.25,
  zoomDelta: 0.5,
  worldCopyJump: false,
  maxBounds: [[-85, -240], [85, 240]],
  keyboard: true,
});
map.attributionControl.setPrefix('<a href="https://leafletjs.com" title="A JavaScript library for interactive maps">Leaflet</a>');

const panes = [['basemap', 200], ['provinces', 350], ['wilayat', 380], ['khorasan', 390], ['radius', 395], ['labels', 450]];
for (const [name, z] of panes) {
  const p = map.createPane(name);
  p.style.zIndex = String(z);
}
const provinceRenderer = L.canvas({ pane: 'provinces', padding: 0.3 });
const khorasanRenderer = L.svg({ pane: 'khorasan', padding: 0.3 });
const wilayatRenderer = L.svg({ pane: 'wilayat', padding: 0.3 });

const layers = {
  countries: new CountriesCanvas({
    attribution: '<a href="https://www.naturalearthdata.com/">Natural Earth</a>',
  }),
  places: new PlaceLabels({
    attribution: '<a href="https://www.geonames.org/">GeoNames, geonames.org</a> (CC BY 4.0)',
  }),
  provinces: L.geoJSON(null, {
    renderer: provinceRenderer,
    style: (f) => provinceStyle(f),
    onEachFeature: (f, layer) => {
      layer.bindTooltip(() => provinceTooltip(layer.feature), { sticky: true, direction: 'top', className: 'prov-tip' });
      layer.on('click', (ev) => {
        if (radiusTool.active) return; // the click sets the radius centre instead
        L.popup({ maxWidth: 300 }).setLatLng(ev.latlng).setContent(provincePopup(withRangeCount(layer.feature))).openOn(map);
      });
      layer.on('mouseover', () => layer.setStyle({ weight: 2, color: '#3a2a1c' }));
      layer.on('mouseout', () => layer.setStyle(provinceStyle(layer.feature)));
    },
  }),
  khorasan: L.layerGroup([]),
  wilayat: L.geoJSON(null, {
    renderer: wilayatRenderer,
    style: (f) => wilayatStyle(f),
    onEachFeature: (f, layer) => {
      layer.bindPopup(() => wilayatPopup(layer.feature), { maxWidth: 360 });
      layer.bindTooltip(() => e(layer.feature.properties.name), { sticky: true, className: 'prov-tip' });
    },
  }),
  incidents: L.markerClusterGroup({
    maxClusterRadius: (z) => (z <= 4 ? 55 : z <= 6 ? 42 : z <= 8 ? 30 : 20),
    showCoverageOnHover: false,
    spiderfyOnMaxZoom: true,
    spiderfyDistanceMultiplier: 1.5,
    zoomToBoundsOnClick: true,
    iconCreateFunction: clusterIcon,
    attribution: 'Attacks: sources cited in each popup',
  }),
};
const khorasanShapes = L.geoJSON(null, {
  renderer: khorasanRenderer,
  style: (f) => ({
    color: KHORASAN_COLOR,
    weight: f.properties.zone === 'core' ? 2.6 : 1.8,
    dashArray: f.properties.zone === 'core' ? '8 5' : '3 5',
    fillOpacity: 1,
    className: `khorasan-shape khorasan-${f.properties.zone === 'core' ? 'core' : 'oxus'}`,
  }),
  onEachFeature: (f, layer) => layer.bindPopup(() => khorasanPopup(layer.feature), { maxWidth: 380 }),
});
const khorasanLabels = L.layerGroup();
layers.khorasan.addLayer(khorasanShapes).addLayer(khorasanLabels);

const LAYER_TITLES = {
  countries: '<span class="lc-sw lc-countries"></span>Countries (basemap)',
  places: '<span class="lc-sw lc-places"></span>Place names',
  provinces: '<span class="lc-sw lc-provinces"></span>Provinces: attacks per province',
  khorasan: '<span class="lc-sw lc-khorasan"></span>Historical Khorasan (approximate)',
  wilayat: '<span class="lc-sw lc-wilayat"></span>IS &ldquo;Wilayat Khurasan&rdquo; claim',
  incidents: '<span class="lc-sw lc-incidents"></span>ISIS-K attacks',
};

// A DivIcon that also carries an accessible name and data-* attributes on its element.
const LabeledDivIcon = L.DivIcon.extend({
  createIcon(old) {
    const el = L.DivIcon.prototype.createIcon.call(this, old);
    if (this.options.label) {
      el.setAttribute('aria-label', this.options.label);
      el.title = this.options.label;
    }
    for (const [k, v] of Object.entries(this.options.data || {})) el.dataset[k] = String(v);
    return el;
  },
});

// ---------------------------------------------------------------------------------------------
// Styles
// ---------------------------------------------------------------------------------------------
function provinceNameKeys(p) {
  return [p.name, p.iso_3166_2].filter(Boolean).map((s) => String(s).toLowerCase());
}
function incidentProvinceKey(p) {
  const v = p.province;
  if (v && typeof v === 'object') return String(v.name || v.iso_3166_2 || '').toLowerCase();
  return v ? String(v).toLowerCase() : '';
}
let rangeCounts = null; // Map province key -> attacks in the current time range, or null = all dates
function rangeCount(feature) {
  const p = feature.properties || {};
  if (!rangeCounts) return intOrNull(p.incident_count) ?? 0;
  return provinceNameKeys(p).reduce((n, k) => n + (rangeCounts.get(k) || 0), 0);
}
function withRangeCount(feature) {
  const p = { ...feature.properties, incident_count: rangeCount(feature) };
  return { ...feature, properties: p, rangeLabel: rangeCounts ? $('time-range-label').textContent : null };
}
function provinceStyle(f) {
  // Lighter when zoomed in, so streets-level views are not a wall of brown.
  const z = map.getZoom();
  const fillOpacity = z >= 8 ? 0.35 : z >= 7 ? 0.55 : 0.85;
  return { color: '#ffffff', weight: z >= 7 ? 1.5 : 0.9, opacity: 0.9, fillColor: provinceColor(rangeCount(f)), fillOpacity };
}
function provinceTooltip(f) {
  const n = rangeCount(f);
  return `<strong>${e(f.properties.name)}</strong><br>${num(n)} attack${n === 1 ? '' : 's'}${rangeCounts ? ' in the selected period' : ''}`;
}
function wilayatStyle(f) {
  const p = f.properties || {};
  const pakistan = /pakistan/i.test(p.wilayah || '');
  const late = /^2019/.test(p.phase || '') || (p.period_start || '') >= '2019';
  return {
    color: pakistan ? '#6b6b6b' : '#1b1b1b',
    weight: pakistan ? 1.6 : 2.4,
    dashArray: pakistan ? '2 6' : late ? '12 4 2 4' : '1 5',
    lineCap: 'round',
    fill: false,
    className: 'wilayat-shape',
  };
}
function incidentColor(p) {
  if (state.colorBy === 'target') return targetCategory(p.target_type).color;
  const y = +(String(p.date || '').slice(0, 4)) || state.years[0];
  return yearColor(y, state.years[0], state.years[1]);
}
function incidentIcon(feature) {
  const p = feature.properties || {};
  const deaths = intOrNull(p.deaths);
  const d = deathsDiameter(deaths);
  const color = incidentColor(p);
  const killed = deaths == null ? 'toll not reported' : `${num(deaths)} killed`;
  return new LabeledDivIcon({
    className: `incident-marker${deaths == null ? ' unknown' : ''}`,
    html: `<span class="dot" style="--c:${color}"></span>`,
    iconSize: [d, d],
    label: `${fmtDate(p.date)}: ${p.title || 'attack'}, ${p.place || ''}, ${killed}`,
    data: { id: p.id ?? '', fid: feature.id ?? '' },
  });
}
function clusterIcon(cluster) {
  const children = cluster.getAllChildMarkers();
  let deaths = 0;
  let unknown = 0;
  for (const m of children) {
    const d = intOrNull(m.feature && m.feature.properties.deaths);
    if (d == null) unknown += 1; else deaths += d;
  }
  const n = children.length;
  const size = Math.round(30 + 10 * Math.log10(n + 1));
  return new LabeledDivIcon({
    className: 'incident-cluster',
    html: `<div><b>${n}</b><small>${num(deaths)}${unknown ? '+' : ''}&#8201;†</small></div>`,
    iconSize: [size, size],
    label: `${n} attacks, ${num(deaths)}${unknown ? ' or more' : ''} killed. Activate to zoom in.`,
    data: { count: n, deaths },
  });
}

// ---------------------------------------------------------------------------------------------
// Controls: zoom-to-all, layers, scale, legend
// ---------------------------------------------------------------------------------------------
const FitControl = L.Control.extend({
  options: { position: 'topleft' },
  onAdd() {
    const div = L.DomUtil.create('div', 'leaflet-bar fit-control');
    div.innerHTML = '<a href="#" role="button" id="btn-fit" data-testid="fit-button" title="Show all attacks" aria-label="Zoom to show all attacks">&#10530;</a>'
      + '<a href="#" role="button" id="btn-region" data-testid="region-button" title="Back to Afghanistan and Pakistan" aria-label="Zoom to Afghanistan, Pakistan and Khorasan">&#8962;</a>';
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.on(div.querySelector('#btn-fit'), 'click', (ev) => { L.DomEvent.preventDefault(ev); fitIncidents(); });
    L.DomEvent.on(div.querySelector('#btn-region'), 'click', (ev) => { L.DomEvent.preventDefault(ev); map.fitBounds(DEFAULT_BOUNDS, fitPadding()); });
    return div;
  },
});
new FitControl().addTo(map);

const layerControl = L.control.layers(null, {}, { collapsed: true, position: 'topright' });
for (const key of LAYER_KEYS) layerControl.addOverlay(layers[key], LAYER_TITLES[key]);
layerControl.addTo(map);
layerControl.getContainer().setAttribute('data-testid', 'layer-control');
layerControl.getContainer().setAttribute('aria-label', 'Layers');

L.control.scale({ metric: true, imperial: false, maxWidth: 140, position: 'bottomleft' }).addTo(map);

const Legend = L.Control.extend({
  options: { position: 'bottomright' },
  onAdd() {
    const div = L.DomUtil.create('div', 'legend leaflet-bar');
    div.setAttribute('data-testid', 'legend');
    div.innerHTML = `<details ${narrow() ? '' : 'open'}>
      <summary>Legend</summary>
      <section aria-labelledby="lg-attacks">
        <h4 id="lg-attacks">ISIS-K attacks</h4>
        <fieldset class="colorby"><legend>Colour by</legend>
          <label><input type="radio" name="colorby" value="year" id="color-year" data-testid="color-year" checked> year</label>
          <label><input type="radio" name="colorby" value="target" id="color-target" data-testid="color-target"> target</label>
        </fieldset>
        <div id="legend-colors" class="legend-colors"></div>
        <div class="legend-sizes" aria-label="Dot size shows people killed">
          ${[1, 10, 50, 150].map((d) => `<span class="sz"><i style="width:${deathsDiameter(d)}px;height:${deathsDiameter(d)}px"></i>${d}</span>`).join('')}
          <span class="sz"><i class="unknown" style="width:${deathsDiameter(null)}px;height:${deathsDiameter(null)}px"></i>?</span>
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
          <li>${lineSample('#1b1b1b', 2.4, '1 5')} 2015 – May 2019: Afghanistan and Pakistan</li>
          <li>${lineSample('#1b1b1b', 2.4, '12 4 2 4')} since May 2019: Afghanistan</li>
          <li>${lineSample('#6b6b6b', 1.6, '2 6')} IS &ldquo;Pakistan Province&rdquo; since 2019</li>
        </ul>
      </section>
    </details>`;
    L.DomEvent.disableClickPropagation(div);
    L.DomEvent.disableScrollPropagation(div);
    div.querySelectorAll('input[name=colorby]').forEach((r) => r.addEventListener('change', () => setColorBy(r.value)));
    div.querySelector('#legend-derivation').addEventListener('click', showDerivation);
    return div;
  },
});
new Legend().addTo(map);

function lineSample(color, width, dash) {
  return `<svg width="28" height="8" aria-hidden="true"><line x1="2" y1="4" x2="26" y2="4" stroke="${color}" stroke-width="${width}" stroke-dasharray="${dash}" stroke-linecap="round"/></svg>`;
}
map.on('overlayadd overlayremove layeradd layerremove', (ev) => {
  if (ev.layer !== layers.wilayat) return;
  const el = $('legend-wilayat');
  if (el) el.hidden = !map.hasLayer(layers.wilayat);
  if (map.hasLayer(layers.wilayat)) loadWilayat();
});

// The Wilayat Khurasan layer is off by default, so it is fetched the first time it is shown.
let wilayatLoad = null;
function loadWilayat() {
  if (!wilayatLoad) {
    busy(+1);
    wilayatLoad = getAllItems('wilayat_khorasan')
      .then((r) => { layers.wilayat.addData(r.features); })
      .catch((err) => { wilayatLoad = null; showError(err.message); })
      .finally(() => busy(-1));
  }
  return wilayatLoad;
}

function renderColorLegend() {
  const el = $('legend-colors');
  if (!el) return;
  if (state.colorBy === 'target') {
    el.innerHTML = `<ul class="legend-cats">${TARGETS.map((t) => `<li><i style="background:${t.color}"></i>${e(t.label)}</li>`).join('')}</ul>
      <p class="cap">Grouped on this page from each attack's target description.</p>`;
  } else {
    const [y0, y1] = state.years;
    const cells = [];
    for (let y = y0; y <= y1; y += 1) {
      const lbl = y === y0 || y === y1 || (y - y0) % 3 === 0 ? String(y) : '';
      cells.push(`<span title="${y}"><i style="background:${yearColor(y, y0, y1)}"></i><small>${lbl}</small></span>`);
    }
    el.innerHTML = `<div class="legend-years">${cells.join('')}</div>`;
  }
}

function setColorBy(mode) {
  state.colorBy = mode === 'target' ? 'target' : 'year';
  const radio = $(`color-${state.colorBy}`);
  if (radio) radio.checked = true;
  for (const entry of markers.values()) entry.marker.setIcon(incidentIcon(entry.marker.feature));
  renderColorLegend();
  renderRug();
  renderRadiusList();
  scheduleHash();
}

// ---------------------------------------------------------------------------------------------
// Incidents
// ---------------------------------------------------------------------------------------------
const markers = new Map(); // feature id -> { marker, json }

function featureKey(f) { return f.id ?? (f.properties && f.properties.id); }

function markerFor(f) {
  const key = featureKey(f);
  const json = JSON.stringify(f);
  let entry = markers.get(key);
  const latlng = L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]);
  if (!entry) {
    const marker = L.marker(latlng, {
      icon: incidentIcon(f),
      keyboard: true,
      riseOnHover: true,
      zIndexOffset: -10 * (intOrNull(f.properties.deaths) || 0),
    });
    marker.feature = f;
    marker.bindPopup(() => incidentPopup(marker.feature), { maxWidth: 340, minWidth: 240, autoPanPadding: [24, 24], className: 'incident-popup' });
    entry = { marker, json };
    markers.set(key, entry);
  } else if (entry.json !== json) {
    entry.marker.feature = f;
    entry.marker.setLatLng(latlng);
    entry.marker.setIcon(incidentIcon(f));
    entry.json = json;
  }
  return entry.marker;
}

function drawIncidents(features) {
  const points = features.filter((f) => f.geometry && f.geometry.type === 'Point');
  state.shown = points;
  const group = layers.incidents;
  group.clearLayers();
  group.addLayers(points.map(markerFor));
  updateStats();
  updateProvinceCounts();
}

function updateStats() {
  const shown = state.shown;
  let deaths = 0;
  let injuries = 0;
  let unknown = 0;
  for (const f of shown) {
    const d = intOrNull(f.properties.deaths);
    const i = intOrNull(f.properties.injuries);
    if (d == null) unknown += 1; else deaths += d;
    if (i != null) injuries += i;
  }
  const n = state.matched;
  $('time-stats').innerHTML = `<strong data-testid="stat-count" id="stat-count">${num(n)}</strong> attack${n === 1 ? '' : 's'}`
    + ` · <strong data-testid="stat-deaths">${num(deaths)}</strong> killed`
    + ` · <strong>${num(injuries)}</strong> injured`
    + (unknown ? ` <span class="muted">(toll not reported for ${unknown})</span>` : '');
}

function updateProvinceCounts() {
  const range = timebar.range();
  if (range.full || !state.provincesJoinOk) {
    rangeCounts = null;
  } else {
    rangeCounts = new Map();
    for (const f of state.shown) {
      const k = incidentProvinceKey(f.properties);
      if (k) rangeCounts.set(k, (rangeCounts.get(k) || 0) + 1);
    }
  }
  layers.provinces.setStyle(provinceStyle);
  const lbl = $('legend-prov-range');
  if (lbl) lbl.textContent = rangeCounts ? `(${$('time-range-label').textContent})` : '(all dates)';
}

/** Checks that counting incidents by their joined `province` reproduces the server's incident_count. */
function checkProvinceJoin() {
  const counts = new Map();
  for (const f of state.allIncidents) {
    const k = incidentProvinceKey(f.properties);
    if (k) counts.set(k, (counts.get(k) || 0) + 1);
  }
  const provs = [];
  layers.provinces.eachLayer((l) => provs.push(l.feature));
  state.provincesJoinOk = provs.length > 0 && counts.size > 0 && provs.every((f) => {
    const server = intOrNull(f.properties.incident_count);
    const mine = provinceNameKeys(f.properties).reduce((n, k) => n + (counts.get(k) || 0), 0);
    return server == null || server === mine;
  });
}

/** The `datetime` parameter for the current time range, or null when the range is everything. */
function datetimeParam() {
  const r = timebar.range();
  if (r.full) return null;
  const start = r.openStart ? '..' : `${monthParam(r.from)}-01`;
  let end = '..';
  if (!r.openEnd) {
    const y = Math.floor(r.to / 12);
    const m = r.to % 12;
    const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
    end = `${monthParam(r.to)}-${String(last).padStart(2, '0')}`;
  }
  return `${start}/${end}`;
}

let filterSeq = 0;
let filterAbort = null;
async function loadIncidents() {
  const seq = ++filterSeq;
  if (filterAbort) filterAbort.abort();
  const ctrl = new AbortController();
  filterAbort = ctrl;
  const dt = datetimeParam();
  busy(+1);
  $('time-panel').classList.add('loading');
  try {
    const res = await getAllItems('incidents', dt ? { datetime: dt } : {}, { signal: ctrl.signal });
    if (seq !== filterSeq) return;
    state.matched = res.numberMatched;
    drawIncidents(res.features);
    state.loadedDatetime = dt;
    // Keep the radius list in step with the period shown.
    if (radiusTool.centre && (radiusTool.sent || {}).datetime !== dt) runRadius(radiusTool.centre);
  } catch (err) {
    if (err.name !== 'AbortError') showError(err.message);
  } finally {
    if (seq === filterSeq) $('time-panel').classList.remove('loading');
    busy(-1);
  }
}

let filterTimer = null;
function scheduleFilter(delay = 120) {
  if (filterTimer) { clearTimeout(filterTimer); busy(-1); }
  busy(+1);
  filterTimer = setTimeout(() => {
    filterTimer = null;
    loadIncidents().finally(() => busy(-1));
  }, delay);
  scheduleHash();
}

function fitIncidents() {
  const b = layers.incidents.getBounds();
  return new Promise((resolve) => {
    if (!b.isValid()) { resolve(); return; }
    map.once('moveend', () => resolve());
    map.fitBounds(b, { ...fitPadding(), animate: false });
  });
}

/** Opens the popup of an incident: its marker when drawn (expanding its cluster), else a plain popup. */
function showIncident(feature) {
  const entry = markers.get(featureKey(feature));
  if (entry && layers.incidents.hasLayer(entry.marker) && map.hasLayer(layers.incidents)) {
    layers.incidents.zoomToShowLayer(entry.marker, () => entry.marker.openPopup());
    return;
  }
  const [lon, lat] = feature.geometry.coordinates;
  L.popup({ maxWidth: 340, minWidth: 240, className: 'incident-popup' })
    .setLatLng([lat, lon])
    .setContent(`<p class="pop-kicker">Not drawn now (outside the chosen period or layer hidden)</p>${incidentPopup(feature)}`)
    .openOn(map);
}

// ---------------------------------------------------------------------------------------------
// Time bar and play
// ---------------------------------------------------------------------------------------------
const timebar = new TimeBar({
  from: $('time-from'), to: $('time-to'), fill: $('time-fill'), histo: $('time-histo'), ticks: $('time-ticks'), label: $('time-range-label'),
}, () => scheduleFilter());

function renderRug() {
  timebar.setRug(state.allIncidents.map((f) => {
    const m = /^(\d{4})-(\d{2})/.exec(f.properties.date || '');
    return { month: m ? +m[1] * 12 + (+m[2] - 1) : timebar.min, deaths: intOrNull(f.properties.deaths), color: incidentColor(f.properties) };
  }));
}

const play = { on: false, timer: null };
function setPlaying(on) {
  play.on = on;
  const btn = $('time-play');
  btn.setAttribute('aria-pressed', String(on));
  btn.setAttribute('aria-label', on ? 'Pause' : 'Play: step through time');
  btn.querySelector('.play-icon').innerHTML = on ? '&#10074;&#10074;' : '&#9654;';
  btn.querySelector('.play-text').textContent = on ? 'Pause' : 'Play';
  if (!on && play.timer) { clearTimeout(play.timer); play.timer = null; }
}
async function playStep() {
  if (!play.on) return;
  const r = timebar.range();
  const width = r.to - r.from;
  const step = Math.max(1, Math.round((width + 1) / 6));
  if (r.to >= timebar.max) { setPlaying(false); return; }
  const to = Math.min(timebar.max, r.to + step);
  timebar.setRange(to - width, to);
  scheduleHash();
  await loadIncidents();
  if (play.on) play.timer = setTimeout(playStep, 650);
}
$('time-play').addEventListener('click', () => {
  if (play.on) { setPlaying(false); return; }
  let r = timebar.range();
  // From "all dates", or from the end, start again with a one-year window at the beginning.
  if (r.full) { timebar.setRange(timebar.min, Math.min(timebar.max, timebar.min + 11)); r = timebar.range(); } else if (r.openEnd) {
    const width = r.to - r.from;
    timebar.setRange(timebar.min, timebar.min + width);
  }
  setPlaying(true);
  scheduleHash();
  loadIncidents().then(() => { if (play.on) play.timer = setTimeout(playStep, 650); });
});
$('time-reset').addEventListener('click', () => {
  setPlaying(false);
  timebar.setRange(timebar.min, timebar.max);
  scheduleFilter(0);
});

// ---------------------------------------------------------------------------------------------
// Radius tool
// ---------------------------------------------------------------------------------------------
const radiusTool = {
  active: false, centre: null, km: 50, circle: null, dot: null, result: null, seq: 0, sent: null,
};

function setRadiusActive(on) {
  radiusTool.active = on;
  $('btn-radius').setAttribute('aria-pressed', String(on));
  map.getContainer().classList.toggle('radius-mode', on);
  if (on) openPanel('radius');
}

function clearRadius() {
  radiusTool.centre = null;
  radiusTool.result = null;
  radiusTool.seq += 1;
  if (radiusTool.circle) { radiusTool.circle.remove(); radiusTool.circle = null; }
  if (radiusTool.dot) { radiusTool.dot.remove(); radiusTool.dot = null; }
  $('radius-status').textContent = '';
  $('radius-list').innerHTML = '';
  scheduleHash();
}

function readKm() {
  const v = Number($('radius-km').value);
  if (!Number.isFinite(v) || v <= 0) return null;
  return Math.min(5000, v);
}

async function runRadius(centre) {
  const km = readKm();
  if (km == null) { $('radius-status').textContent = 'Enter a radius in kilometres.'; return; }
  radiusTool.centre = centre.wrap();
  radiusTool.km = km;
  const c = radiusTool.centre;
  if (!radiusTool.circle) {
    radiusTool.circle = L.circle(c, { radius: km * 1000, pane: 'radius', interactive: false, color: '#1d3c5a', weight: 2, fillColor: '#1d3c5a', fillOpacity: 0.08 }).addTo(map);
    radiusTool.dot = L.circleMarker(c, { pane: 'radius', radius: 4, color: '#fff', weight: 2, fillColor: '#1d3c5a', fillOpacity: 1, interactive: false }).addTo(map);
  } else {
    radiusTool.circle.setLatLng(c).setRadius(km * 1000);
    radiusTool.dot.setLatLng(c);
  }
  const seq = ++radiusTool.seq;
  radiusTool.sent = { lon: +c.lng.toFixed(6), lat: +c.lat.toFixed(6), km, datetime: datetimeParam() };
  $('radius-status').textContent = 'Searching…';
  $('radius-list').innerHTML = '';
  busy(+1);
  try {
    const fc = await getRadius('incidents', radiusTool.sent.lon, radiusTool.sent.lat, km, { datetime: radiusTool.sent.datetime });
    if (seq !== radiusTool.seq) return;
    radiusTool.result = fc;
    renderRadiusList();
  } catch (err) {
    if (seq === radiusTool.seq) $('radius-status').textContent = `The radius search failed: ${err.message}`;
  } finally {
    busy(-1);
  }
  scheduleHash();
}

function renderRadiusList() {
  const fc = radiusTool.result;
  if (!fc) return;
  const feats = fc.features || [];
  const c = radiusTool.centre;
  const n = typeof fc.numberMatched === 'number' ? fc.numberMatched : feats.length;
  let deaths = 0;
  for (const f of feats) deaths += intOrNull(f.properties.deaths) || 0;
  const where = `${Math.abs(c.lat).toFixed(2)}° ${c.lat >= 0 ? 'N' : 'S'}, ${Math.abs(c.lng).toFixed(2)}° ${c.lng >= 0 ? 'E' : 'W'}`;
  const period = radiusTool.sent && radiusTool.sent.datetime ? $('time-range-label').textContent : 'all dates';
  $('radius-status').innerHTML = n === 0
    ? `No attacks within ${num(radiusTool.km)} km of ${where} (${e(period)}).`
    : `<strong>${num(n)}</strong> attack${n === 1 ? '' : 's'} within ${num(radiusTool.km)} km of ${where} (${e(period)}, ${num(deaths)} killed), nearest first:`;
  $('radius-list').innerHTML = feats.map((f, i) => {
    const p = f.properties;
    const d = intOrNull(p.deaths);
    return `<li data-testid="radius-item" data-id="${e(p.id)}" data-fid="${e(f.id)}" data-distance-m="${e(p.distance_m)}">
      <button type="button" data-index="${i}"><i class="dot" style="--c:${incidentColor(p)}"></i>
      <span class="r-dist">${fmtDistance(Number(p.distance_m) || 0)}</span>
      <span class="r-main"><span class="r-title">${e(p.title)}</span>
      <span class="r-meta">${e(fmtDate(p.date))} · ${e(p.place)} · ${d == null ? 'toll not reported' : `${num(d)} killed`}</span></span></button></li>`;
  }).join('');
}
$('radius-list').addEventListener('click', (ev) => {
  const btn = ev.target.closest('button[data-index]');
  if (!btn || !radiusTool.result) return;
  const f = radiusTool.result.features[+btn.dataset.index];
  if (f) showIncident(f);
});

map.on('click', (ev) => { if (radiusTool.active) runRadius(ev.latlng); });
$('btn-radius').addEventListener('click', () => {
  if (radiusTool.active) { closePanel(); } else { setRadiusActive(true); }
});
/** Centre of the part of the map not covered by the panel (on phones it covers the bottom). */
function visibleCentre() {
  const size = map.getSize();
  const covered = narrow() && !$('panel').hidden ? $('panel').offsetHeight : 0;
  return map.containerPointToLatLng([size.x / 2, Math.max(20, (size.y - covered) / 2)]);
}
$('radius-centre').addEventListener('click', () => { setRadiusActive(true); runRadius(visibleCentre()); });
$('radius-clear').addEventListener('click', clearRadius);
$('radius-km').addEventListener('change', () => { if (radiusTool.centre) runRadius(radiusTool.centre); });
$('radius-km').addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter') { ev.preventDefault(); runRadius(radiusTool.centre || visibleCentre()); }
});

// ---------------------------------------------------------------------------------------------
// Side panel (about / radius)
// ---------------------------------------------------------------------------------------------
function openPanel(which) {
  $('panel').hidden = false;
  $('about').hidden = which !== 'about';
  $('radius').hidden = which !== 'radius';
  $('btn-about').setAttribute('aria-expanded', String(which === 'about'));
  if (which !== 'radius' && radiusTool.active) { setRadiusActive(false); clearRadius(); }
  document.body.classList.add('panel-open');
  map.invalidateSize();
}
function closePanel() {
  $('panel').hidden = true;
  $('btn-about').setAttribute('aria-expanded', 'false');
  document.body.classList.remove('panel-open');
  if (radiusTool.active) { setRadiusActive(false); clearRadius(); }
  map.invalidateSize();
}
$('btn-about').addEventListener('click', () => {
  if (!$('panel').hidden && !$('about').hidden) closePanel(); else openPanel('about');
});
$('panel-close').addEventListener('click', closePanel);
document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape' && !$('panel').hidden && !document.querySelector('.leaflet-popup')) closePanel();
});

let khorasanCore = null; // { feature, latlng } of the core polygon, for "how it was drawn"
function showDerivation() {
  if (!khorasanCore) return;
  if (!map.hasLayer(layers.khorasan)) map.addLayer(layers.khorasan);
  L.popup({ maxWidth: 380 }).setLatLng(khorasanCore.latlng).setContent(khorasanPopup(khorasanCore.feature)).openOn(map);
}
$('about-derivation').addEventListener('click', () => { if (narrow()) closePanel(); showDerivation(); });

// ---------------------------------------------------------------------------------------------
// Permalink
// ---------------------------------------------------------------------------------------------
let hashReady = false;
let hashTimer = null;
function currentHash() {
  const c = map.getCenter();
  const r = timebar.range();
  const visible = new Set(LAYER_KEYS.filter((k) => map.hasLayer(layers[k])));
  return formatHash({
    view: { zoom: map.getZoom(), lat: c.lat, lng: c.lng },
    from: r.openStart ? null : r.from,
    to: r.openEnd ? null : r.to,
    layers: visible,
    color: state.colorBy,
    radius: radiusTool.centre ? { lat: radiusTool.centre.lat, lng: radiusTool.centre.lng, km: radiusTool.km } : null,
  });
}
function scheduleHash() {
  if (!hashReady) return;
  clearTimeout(hashTimer);
  hashTimer = setTimeout(() => {
    const h = currentHash();
    if (h !== window.location.hash) window.history.replaceState(null, '', h);
  }, 150);
}
map.on('moveend overlayadd overlayremove', scheduleHash);
map.on('zoomend', () => layers.provinces.setStyle(provinceStyle));

function applyLayersFromHash(set) {
  for (const k of LAYER_KEYS) {
    const want = set ? set.has(k) : DEFAULT_LAYERS.has(k);
    if (want && !map.hasLayer(layers[k])) map.addLayer(layers[k]);
    if (!want && map.hasLayer(layers[k])) map.removeLayer(layers[k]);
  }
}

/** Applies a parsed hash; returns true when the time range changed. */
function applyHash(h, { initial }) {
  if (h.view) map.setView([h.view.lat, h.view.lng], h.view.zoom, { animate: false });
  else if (initial) map.fitBounds(DEFAULT_BOUNDS, { ...fitPadding(), animate: false });
  applyLayersFromHash(h.layers);
  if (h.color && h.color !== state.colorBy) setColorBy(h.color);
  const before = timebar.range();
  timebar.setRange(h.from ?? timebar.min, h.to ?? timebar.max);
  const after = timebar.range();
  return before.from !== after.from || before.to !== after.to;
}

window.addEventListener('hashchange', () => {
  const h = parseHash(window.location.hash);
  if (applyHash(h, { initial: false })) scheduleFilter(0);
  if (h.radius) { setRadiusActive(true); $('radius-km').value = String(h.radius.km); runRadius(L.latLng(h.radius.lat, h.radius.lng)); }
});

async function copyLink() {
  const url = window.location.origin + window.location.pathname + currentHash();
  window.history.replaceState(null, '', currentHash());
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
$('btn-permalink').addEventListener('click', copyLink);

// ---------------------------------------------------------------------------------------------
// Live updates (Server-Sent Events), used only when the server advertises the stream
// ---------------------------------------------------------------------------------------------
let liveTimer = null;
function onLiveChange(data) {
  let msg = data;
  if (typeof data === 'string') {
    try { msg = JSON.parse(data); } catch { return; }
  }
  if (!msg || !['create', 'update', 'delete', 'resync'].includes(msg.type)) return;
  clearTimeout(liveTimer);
  liveTimer = setTimeout(refreshAfterChange, 250);
  if (msg.type === 'resync') return;
  const verb = { create: 'added', update: 'updated', delete: 'removed' }[msg.type];
  const title = msg.feature && msg.feature.properties && msg.feature.properties.title;
  toast(`Attack ${verb}${title ? `: ${title}` : ''}. Map updated.`);
}
async function refreshAfterChange() {
  busy(+1);
  try {
    const [all, provs] = await Promise.all([getAllItems('incidents'), getAllItems('provinces')]);
    state.allIncidents = all.features;
    layers.provinces.clearLayers();
    layers.provinces.addData(provs.features);
    checkProvinceJoin();
    renderRug();
    await loadIncidents();
    if (radiusTool.centre) await runRadius(radiusTool.centre);
  } catch (err) {
    showError(err.message);
  } finally {
    busy(-1);
  }
}
function subscribeLive(collectionsDoc) {
  if (!('EventSource' in window)) return;
  const inc = (collectionsDoc.collections || []).find((c) => c.id === 'incidents');
  const all = [...((inc && inc.links) || []), ...(collectionsDoc.links || [])];
  const link = all.find((l) => l && l.type === 'text/event-stream' && /incidents/.test(l.href || ''));
  if (!link) return;
  const es = new EventSource(sameOriginPath(link.href));
  es.onmessage = (ev) => onLiveChange(ev.data);
  for (const t of ['create', 'update', 'delete']) es.addEventListener(t, (ev) => onLiveChange(ev.data));
  es.onerror = () => { if (es.readyState === EventSource.CLOSED) es.close(); };
}

// ---------------------------------------------------------------------------------------------
// Start-up
// ---------------------------------------------------------------------------------------------
function monthOf(iso) {
  const m = /^(\d{4})-(\d{2})/.exec(iso || '');
  return m ? +m[1] * 12 + (+m[2] - 1) : null;
}

async function start() {
  const t0 = performance.now();
  const initialHash = parseHash(window.location.hash);
  applyHash({ ...initialHash, from: null, to: null, color: null }, { initial: true });
  if (!initialHash.view && !narrow() && !initialHash.radius) openPanel('about');
  renderColorLegend();

  // Everything in parallel; each layer is drawn as soon as it arrives.
  const load = (key, fn) => fn().catch((err) => { showError(err.message); return null; });
  const collections = load('collections', () => getJSON('/collections'));
  // Only the properties the page uses (index.html preloads these exact URLs).
  const countries = load('countries', () => getAllItems('countries', { properties: 'name' })).then((r) => {
    if (r) { layers.countries.setFeatures(r.features); layers.places.setCountries(r.features); }
  });
  const places = load('places', () => getAllItems('places', { properties: 'name,population' })).then((r) => { if (r) layers.places.setPlaces(r.features); });
  const provinces = load('provinces', () => getAllItems('provinces')).then((r) => { if (r) layers.provinces.addData(r.features); });
  const khorasan = load('khorasan', () => getAllItems('khorasan')).then((r) => {
    if (!r) return;
    khorasanShapes.addData(r.features);
    const reserved = []; // keep place names off the Khorasan labels
    for (const f of r.features) {
      const pt = labelPoint(f.geometry);
      if (!pt) continue;
      const core = (f.properties || {}).zone === 'core';
      const latlng = L.latLng(pt.lat, pt.lon);
      if (core) khorasanCore = { feature: f, latlng };
      const label = L.marker(latlng, {
        icon: new LabeledDivIcon({
          className: `khorasan-label${core ? '' : ' minor'}`,
          html: core
            ? '<div class="kl"><b>Historical Khorasan</b><span>approximation: how it was drawn <i class="info">i</i></span></div>'
            : '<div class="kl"><b>Oxus borderlands</b><span>sometimes counted in Khorasan <i class="info">i</i></span></div>',
          iconSize: null,
          label: `${f.properties.name}. Approximation; activate for how it was drawn.`,
          data: { testid: core ? 'khorasan-label' : 'khorasan-label-oxus' },
        }),
        keyboard: true,
        zIndexOffset: -2000,
      });
      label.on('click', () => L.popup({ maxWidth: 380 }).setLatLng(latlng).setContent(khorasanPopup(f)).openOn(map));
      khorasanLabels.addLayer(label);
      reserved.push({ latlng, w: core ? 210 : 170, h: core ? 34 : 28 });
    }
    layers.places.setReserved(reserved);
  });
  const wilayat = map.hasLayer(layers.wilayat) ? loadWilayat() : null;
  const allIncidents = load('incidents', () => getAllItems('incidents'));

  // The time domain: the collection's temporal extent, else the incidents' own dates.
  const [doc, all] = await Promise.all([collections, allIncidents]);
  const incCollection = doc && (doc.collections || []).find((c) => c.id === 'incidents');
  const interval = incCollection && incCollection.extent && incCollection.extent.temporal
    && incCollection.extent.temporal.interval && incCollection.extent.temporal.interval[0];
  const dates = ((all && all.features) || []).map((f) => f.properties.date).filter(Boolean).sort();
  const lo = monthOf(interval && interval[0]) ?? monthOf(dates[0]) ?? 2015 * 12;
  const hi = monthOf(interval && interval[1]) ?? monthOf(dates[dates.length - 1]) ?? lo;
  timebar.setDomain(lo, Math.max(lo, hi));
  state.years = [Math.floor(lo / 12), Math.floor(Math.max(lo, hi) / 12)];
  state.allIncidents = (all && all.features) || [];
  renderColorLegend();
  renderRug();

  // The first drawing of incidents: reuse the unfiltered answer when the URL has no time range.
  const h = parseHash(window.location.hash);
  timebar.setRange(h.from ?? timebar.min, h.to ?? timebar.max);
  if (h.color) setColorBy(h.color);
  await provinces;
  checkProvinceJoin();
  if (all && timebar.range().full) {
    state.matched = all.numberMatched;
    drawIncidents(all.features);
  } else {
    await loadIncidents();
  }
  $('about-count').textContent = num(all ? all.numberMatched : state.matched);
  await Promise.all([countries, places, khorasan, wilayat]);
  if (h.radius) {
    $('radius-km').value = String(h.radius.km);
    setRadiusActive(true);
    await runRadius(L.latLng(h.radius.lat, h.radius.lng));
  }
  hashReady = true;
  scheduleHash();
  if (doc) subscribeLive(doc);
  state.loadMs = Math.round(performance.now() - t0);
  state.readyAt = Math.round(performance.now());
  document.documentElement.dataset.ready = 'true';
}

const ready = start().catch((err) => { showError(err.message); });

// ---------------------------------------------------------------------------------------------
// Read-only hook for the browser tests (and curious readers)
// ---------------------------------------------------------------------------------------------
window.atlas = Object.freeze({
  /** Resolves when every layer and the first set of incidents are drawn. */
  ready,
  /** Incidents in the drawn (filtered) set: markers in the cluster group, clusters expanded. */
  incidentCount: () => layers.incidents.getLayers().length,
  /** numberMatched of the API answer the map is drawing. */
  matchedCount: () => state.matched,
  /** The `datetime` query parameter for the current time range (null = all dates). */
  datetime: () => datetimeParam(),
  /** Current time range as month strings, e.g. { from: '2015-04', to: '2026-02' }. */
  timeRange: () => { const r = timebar.range(); return { from: monthParam(r.from), to: monthParam(r.to), full: r.full }; },
  /** Resolves once no request or debounced update is pending. */
  idle: () => new Promise((resolve) => { if (pending === 0) setTimeout(resolve, 0); else idleWaiters.push(resolve); }),
  /** The last radius query as sent to the API ({ lon, lat, km, datetime }), or null. */
  radiusQuery: () => (radiusTool.centre && radiusTool.sent ? { ...radiusTool.sent } : null),
  /** Zooms to all drawn incidents; resolves when the map has moved. */
  fitIncidents: () => fitIncidents(),
  /** Container pixel of a lat/lon, e.g. to click there. */
  pointOf: (lat, lon) => { const p = map.latLngToContainerPoint([lat, lon]); return { x: p.x, y: p.y }; },
  /** Zoom and centre. */
  view: () => { const c = map.getCenter(); return { zoom: map.getZoom(), lat: c.lat, lon: c.lng }; },
  /** Layer keys currently on the map. */
  visibleLayers: () => LAYER_KEYS.filter((k) => map.hasLayer(layers[k])),
  /** Errors shown to the user so far. */
  errors: () => [...state.errors],
  /** Milliseconds from script start to everything drawn. */
  loadMs: () => state.loadMs,
  /** Milliseconds from navigation start to everything drawn. */
  readyAt: () => state.readyAt,
  fmtMonth,
});
