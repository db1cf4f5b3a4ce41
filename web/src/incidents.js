// The incidents layer: one marker per attack, clustered when zoomed out, with its popup; the
// counts under the time bar. What is drawn is always exactly one API answer (all dates, or
// the items for one `datetime`); which `datetime` is the time filter's business.
import L from 'leaflet';
import 'leaflet.markercluster';
import { fmtDate, intOrNull, num } from './format.js';
import { LabeledDivIcon } from './labeled-icon.js';
import { incidentPopup } from './popups.js';
import { deathsDiameter } from './style.js';

const POPUP = { maxWidth: 340, minWidth: 240, className: 'incident-popup' };

function featureKey(f) { return f.id ?? (f.properties && f.properties.id); }

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

/** "<n> attacks · <d> killed · <i> injured" for the features drawn, `matched` being the API's count. */
function statsHtml(features, matched) {
  let deaths = 0;
  let injuries = 0;
  let unknown = 0;
  for (const f of features) {
    const d = intOrNull(f.properties.deaths);
    const i = intOrNull(f.properties.injuries);
    if (d == null) unknown += 1; else deaths += d;
    if (i != null) injuries += i;
  }
  return `<strong data-testid="stat-count" id="stat-count">${num(matched)}</strong> attack${matched === 1 ? '' : 's'}`
    + ` · <strong data-testid="stat-deaths">${num(deaths)}</strong> killed`
    + ` · <strong>${num(injuries)}</strong> injured`
    + (unknown ? ` <span class="muted">(toll not reported for ${unknown})</span>` : '');
}

/**
 * Creates the layer (not yet on the map). `colorOf(properties)` colours a marker; `stats` is
 * the element for the counts; `onDrawn(features)` runs after each drawing.
 */
export function createIncidentsLayer({ map, api, notices, colorOf, fitPadding, stats, onDrawn }) {
  const markers = new Map(); // feature key -> { marker, json }
  let shown = []; // the point features drawn now
  let matched = 0; // numberMatched of the answer drawn
  let loadSeq = 0;
  let loadAbort = null;

  const group = L.markerClusterGroup({
    maxClusterRadius: (z) => (z <= 4 ? 55 : z <= 6 ? 42 : z <= 8 ? 30 : 20),
    showCoverageOnHover: false,
    spiderfyOnMaxZoom: true,
    spiderfyDistanceMultiplier: 1.5,
    zoomToBoundsOnClick: true,
    iconCreateFunction: clusterIcon,
    attribution: 'Attacks: sources cited in each popup',
  });

  function icon(feature) {
    const p = feature.properties || {};
    const deaths = intOrNull(p.deaths);
    const d = deathsDiameter(deaths);
    const killed = deaths == null ? 'toll not reported' : `${num(deaths)} killed`;
    return new LabeledDivIcon({
      className: `incident-marker${deaths == null ? ' unknown' : ''}`,
      html: `<span class="dot" style="--c:${colorOf(p)}"></span>`,
      iconSize: [d, d],
      label: `${fmtDate(p.date)}: ${p.title || 'attack'}, ${p.place || ''}, ${killed}`,
      data: { id: p.id ?? '', fid: feature.id ?? '' },
    });
  }

  /** The marker of a feature, made once and updated when the feature changed. */
  function markerFor(f) {
    const key = featureKey(f);
    const json = JSON.stringify(f);
    let entry = markers.get(key);
    const latlng = L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]);
    if (!entry) {
      const marker = L.marker(latlng, {
        icon: icon(f),
        keyboard: true,
        riseOnHover: true,
        zIndexOffset: -10 * (intOrNull(f.properties.deaths) || 0),
      });
      marker.feature = f;
      marker.bindPopup(() => incidentPopup(marker.feature), { ...POPUP, autoPanPadding: [24, 24] });
      entry = { marker, json };
      markers.set(key, entry);
    } else if (entry.json !== json) {
      entry.marker.feature = f;
      entry.marker.setLatLng(latlng);
      entry.marker.setIcon(icon(f));
      entry.json = json;
    }
    return entry.marker;
  }

  /** Draws an API answer ({ features, numberMatched }) in place of what was drawn. */
  function draw(answer) {
    matched = answer.numberMatched;
    shown = answer.features.filter((f) => f.geometry && f.geometry.type === 'Point');
    group.clearLayers();
    group.addLayers(shown.map(markerFor));
    stats.innerHTML = statsHtml(shown, matched);
    onDrawn(shown);
  }

  return {
    layer: group,
    draw,
    /**
     * Fetches and draws the incidents for `datetime` (null = all dates), cancelling any earlier
     * load. Resolves to true when drawn, false when superseded or failed (the error is shown).
     */
    async load(datetime) {
      const seq = ++loadSeq;
      if (loadAbort) loadAbort.abort();
      const ctrl = new AbortController();
      loadAbort = ctrl;
      try {
        const answer = await api.getAllItems('incidents', datetime ? { datetime } : {}, { signal: ctrl.signal });
        if (seq !== loadSeq) return false;
        draw(answer);
        return true;
      } catch (err) {
        if (err.name !== 'AbortError') notices.error(err.message);
        return false;
      }
    },
    /** Gives every marker the colour of the current scheme. */
    recolor() {
      for (const entry of markers.values()) entry.marker.setIcon(icon(entry.marker.feature));
    },
    /** Markers in the drawn set (clusters expanded). */
    count: () => group.getLayers().length,
    /** numberMatched of the answer drawn. */
    matched: () => matched,
    /** Zooms to all drawn incidents; resolves when the map has moved. */
    fitAll() {
      const b = group.getBounds();
      return new Promise((resolve) => {
        if (!b.isValid()) { resolve(); return; }
        map.once('moveend', () => resolve());
        map.fitBounds(b, { ...fitPadding(), animate: false });
      });
    },
    /** Opens an incident's popup: on its marker when drawn (expanding its cluster), else on its own. */
    show(feature) {
      const entry = markers.get(featureKey(feature));
      if (entry && group.hasLayer(entry.marker) && map.hasLayer(group)) {
        group.zoomToShowLayer(entry.marker, () => entry.marker.openPopup());
        return;
      }
      const [lon, lat] = feature.geometry.coordinates;
      L.popup(POPUP)
        .setLatLng([lat, lon])
        .setContent(`<p class="pop-kicker">Not drawn now (outside the chosen period or layer hidden)</p>${incidentPopup(feature)}`)
        .openOn(map);
    },
  };
}
