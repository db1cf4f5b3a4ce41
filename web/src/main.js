// The Khorasan Atlas map page: creates each part of the page and wires them together.
//
// Everything comes from the server's public OGC API Features endpoints (api.js); nothing is
// fetched from another origin. Start-up, in order:
//   1. build the map, layers, controls and the time bar (no data yet);
//   2. fetch /collections and every layer in parallel, drawing each as it arrives;
//   3. when all are in, apply the time range from the URL and resolve `window.atlas.ready`.
// The incidents drawn are always exactly those the API returns for the chosen `datetime`.
import 'leaflet/dist/leaflet.css';
import 'leaflet.markercluster/dist/MarkerCluster.css';
import './app.css';

import * as api from './api.js';
import { createActivity } from './activity.js';
import { createBeyondView } from './beyond.js';
import { fmtMonth, num } from './format.js';
import { createIncidentsLayer } from './incidents.js';
import { createLayerSwitch } from './layer-switch.js';
import { createLegend } from './legend.js';
import { createLiveUpdates } from './live-updates.js';
import { REGION_BBOX, createMapView } from './map-view.js';
import { createNotices } from './notices.js';
import { createOperatingLayer } from './operating.js';
import { createPanel } from './panel.js';
import { timeDomain } from './period.js';
import { parseHash } from './permalink.js';
import { createProvincesLayer } from './provinces.js';
import { createRadiusTool } from './radius-tool.js';
import { createReferenceLayers } from './reference-layers.js';
import { createTimeFilter } from './time-filter.js';
import { createViewLink } from './view-link.js';

const $ = (id) => document.getElementById(id);

const activity = createActivity();
const notices = createNotices({ banner: $('banner'), toast: $('toast') });
const mapView = createMapView({ container: 'map', fitAll: () => incidents.fitAll() });
const { map, narrow } = mapView;
const colorOf = (p) => legend.colorOf(p);

const reference = createReferenceLayers({
  map, api, activity, notices, onWilayatShown: (shown) => legend.showWilayat(shown),
});
const provinces = createProvincesLayer({
  map, clickTaken: () => radius.active(), periodLabel: () => timeFilter.label(),
});
const operating = createOperatingLayer({
  map, api, notices, clickTaken: () => radius.active(), periodLabel: () => timeFilter.label(),
});
const beyond = createBeyondView({
  map, regionBbox: REGION_BBOX, fitRegion: () => mapView.fitRegion(), fitPadding: mapView.fitPadding,
});
const incidents = createIncidentsLayer({
  map,
  api,
  notices,
  colorOf,
  fitPadding: mapView.fitPadding,
  stats: $('time-stats'),
  onDrawn: (shown) => {
    const counted = provinces.countPeriod(timeFilter.range().full ? null : shown);
    legend.setProvinceRange(counted ? timeFilter.label() : null);
  },
});
const layerSwitch = createLayerSwitch({
  map, layers: { ...reference.layers, provinces: provinces.layer, operating: operating.layer, incidents: incidents.layer },
});
const legend = createLegend({
  map,
  narrow,
  onColorBy: () => {
    incidents.recolor();
    timeFilter.renderRug();
    radius.render();
    viewLink.schedule();
  },
  onDerivation: () => reference.showDerivation(),
});
const timeFilter = createTimeFilter({
  els: {
    panel: $('time-panel'), from: $('time-from'), to: $('time-to'), fill: $('time-fill'), histo: $('time-histo'),
    ticks: $('time-ticks'), label: $('time-range-label'), play: $('time-play'), reset: $('time-reset'),
  },
  activity,
  incidents,
  colorOf,
  onApplied: (datetime) => { radius.followPeriod(datetime); return operating.load(datetime); },
  onRangeChange: () => viewLink.schedule(),
});
const panel = createPanel({
  map,
  narrow,
  els: {
    panel: $('panel'), about: $('about'), radius: $('radius'), aboutButton: $('btn-about'),
    close: $('panel-close'), count: $('about-count'), derivation: $('about-derivation'),
  },
  onLeaveRadius: () => radius.stop(),
  onDerivation: () => reference.showDerivation(),
});
const radius = createRadiusTool({
  map,
  api,
  activity,
  els: {
    button: $('btn-radius'), km: $('radius-km'), centre: $('radius-centre'), clear: $('radius-clear'),
    status: $('radius-status'), list: $('radius-list'),
  },
  panel,
  period: () => ({ datetime: timeFilter.datetime(), label: timeFilter.label() }),
  colorOf,
  showIncident: (feature) => incidents.show(feature),
  onChange: () => viewLink.schedule(),
});
const viewLink = createViewLink({
  mapView, layerSwitch, timeFilter, legend, radius, button: $('btn-permalink'), toast: notices.toast,
});
const live = createLiveUpdates({ api, refresh: reloadIncidents, toast: notices.toast });

/** After a live change: everything derived from the incidents, fetched again. */
async function reloadIncidents() {
  activity.busy(+1);
  try {
    const [all, provs] = await Promise.all([api.getAllItems('incidents'), api.getAllItems('provinces')]);
    provinces.setFeatures(provs.features);
    provinces.checkJoin(all.features);
    timeFilter.setRugIncidents(all.features);
    beyond.setIncidents(all.features);
    await timeFilter.apply();
    await radius.refresh();
  } catch (err) {
    notices.error(err.message);
  } finally {
    activity.busy(-1);
  }
}

const timings = { loadMs: null, readyAt: null };

async function start() {
  const t0 = performance.now();
  const initialHash = parseHash(window.location.hash);
  viewLink.apply({ ...initialHash, from: null, to: null, color: null }, { initial: true });
  if (!initialHash.view && !narrow() && !initialHash.radius) panel.open('about');

  // Everything in parallel; each layer is drawn as soon as it arrives.
  const failed = (err) => { notices.error(err.message); return null; };
  const collections = api.getCollections().catch(failed);
  const referenceDrawn = reference.load();
  const provincesDrawn = api.getAllItems('provinces').then((r) => provinces.setFeatures(r.features), failed);
  const allIncidents = api.getAllItems('incidents').catch(failed);

  const [doc, all] = await Promise.all([collections, allIncidents]);
  const features = (all && all.features) || [];
  const [first, last] = timeDomain(doc, 'incidents', features);
  timeFilter.setDomain(first, last);
  legend.setYears(Math.floor(first / 12), Math.floor(last / 12));
  timeFilter.setRugIncidents(features);
  beyond.setIncidents(features);

  // The first drawing of incidents: reuse the unfiltered answer when the URL has no time range.
  const h = parseHash(window.location.hash);
  timeFilter.setRange(h.from, h.to);
  if (h.color) legend.setColorBy(h.color);
  await provincesDrawn;
  provinces.checkJoin(features);
  if (all && timeFilter.range().full) {
    incidents.draw(all);
    await operating.load(timeFilter.datetime());
  } else await timeFilter.apply();
  panel.setCount(num(all ? all.numberMatched : incidents.matched()));
  await referenceDrawn;
  if (h.radius) await radius.restore(h.radius);
  viewLink.enable();
  if (doc) live.subscribe(doc);
  timings.loadMs = Math.round(performance.now() - t0);
  timings.readyAt = Math.round(performance.now());
  document.documentElement.dataset.ready = 'true';
}

const ready = start().catch((err) => { notices.error(err.message); });

// Read-only hook for the browser tests (and curious readers).
window.atlas = Object.freeze({
  /** Resolves when every layer and the first set of incidents are drawn. */
  ready,
  /** Incidents in the drawn (filtered) set: markers in the cluster group, clusters expanded. */
  incidentCount: () => incidents.count(),
  /** Operating-province rows drawn, and the API's numberMatched for them. */
  operatingCount: () => operating.count(),
  operatingMatched: () => operating.matched(),
  /** Attacks outside the default view, as the page counts them: { total, byCountry }. */
  beyondCounts: () => beyond.counts(),
  /** The default view as [west, south, east, north]. */
  regionBbox: () => [...REGION_BBOX],
  /** numberMatched of the API answer the map is drawing. */
  matchedCount: () => incidents.matched(),
  /** The `datetime` query parameter for the current time range (null = all dates). */
  datetime: () => timeFilter.datetime(),
  /** Current time range as month strings, e.g. { from: '2015-04', to: '2026-02' }. */
  timeRange: () => timeFilter.months(),
  /** Resolves once no request or debounced update is pending. */
  idle: () => activity.idle(),
  /** The last radius query as sent to the API ({ lon, lat, km, datetime }), or null. */
  radiusQuery: () => radius.query(),
  /** Zooms to all drawn incidents; resolves when the map has moved. */
  fitIncidents: () => incidents.fitAll(),
  /** Container pixel of a lat/lon, e.g. to click there. */
  pointOf: (lat, lon) => { const p = map.latLngToContainerPoint([lat, lon]); return { x: p.x, y: p.y }; },
  /** Zoom and centre. */
  view: () => { const c = map.getCenter(); return { zoom: map.getZoom(), lat: c.lat, lon: c.lng }; },
  /** Layer keys currently on the map. */
  visibleLayers: () => layerSwitch.visible(),
  /** Errors shown to the user so far. */
  errors: () => notices.errors(),
  /** Milliseconds from script start to everything drawn. */
  loadMs: () => timings.loadMs,
  /** Milliseconds from navigation start to everything drawn. */
  readyAt: () => timings.readyAt,
  fmtMonth,
});
