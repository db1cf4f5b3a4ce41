// Map labels for the offline basemap: country names at small scales and populated places,
// biggest first, at zooms where they fit. Labels are plain DOM in their own pane (not
// interactive) and are laid out again after each move, skipping any that would overlap.
import L from 'leaflet';
import { escapeHtml as escape } from './format.js';

/** Smallest population shown at each zoom (the index is the zoom level, clamped). */
const MIN_POP = [Infinity, Infinity, Infinity, 6e6, 2e6, 8e5, 3e5, 1.2e5, 5e4, 0];
const MAX_LABELS = 160;

function minPop(zoom) { return MIN_POP[Math.max(0, Math.min(MIN_POP.length - 1, Math.floor(zoom)))]; }

/** Area-weighted centroid of the largest outer ring of a (Multi)Polygon, and its area (deg²). */
export function labelPoint(geometry) {
  if (!geometry) return null;
  const polys = geometry.type === 'Polygon' ? [geometry.coordinates] : geometry.type === 'MultiPolygon' ? geometry.coordinates : [];
  let best = null;
  for (const poly of polys) {
    const ring = poly[0];
    let a = 0; let cx = 0; let cy = 0;
    for (let i = 0, j = ring.length - 1; i < ring.length; j = i, i += 1) {
      const f = ring[j][0] * ring[i][1] - ring[i][0] * ring[j][1];
      a += f; cx += (ring[j][0] + ring[i][0]) * f; cy += (ring[j][1] + ring[i][1]) * f;
    }
    if (a === 0) continue;
    const area = Math.abs(a / 2);
    if (!best || area > best.area) best = { lon: cx / (3 * a), lat: cy / (3 * a), area };
  }
  return best;
}

export const PlaceLabels = L.Layer.extend({
  options: { pane: 'labels' },

  initialize(options) {
    L.setOptions(this, options);
    this._places = [];
    this._countries = [];
    this._reserved = [];
  },

  /** Boxes ({ latlng, w, h } in px, centred) that labels must not cover, e.g. other labels. */
  setReserved(boxes) {
    this._reserved = boxes;
    this._redraw();
  },

  /** places: GeoJSON Point features with name + population. */
  setPlaces(features) {
    this._places = features
      .filter((f) => f.geometry && f.geometry.type === 'Point' && f.properties && f.properties.name)
      .map((f) => ({ name: f.properties.name, pop: Number(f.properties.population) || 0,
        latlng: L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]) }))
      .sort((a, b) => b.pop - a.pop);
    this._redraw();
  },

  /** countries: GeoJSON (Multi)Polygon features with a name. */
  setCountries(features) {
    this._countries = features
      .map((f) => ({ name: f.properties && f.properties.name, pt: labelPoint(f.geometry) }))
      .filter((c) => c.name && c.pt)
      .map((c) => ({ name: c.name, area: c.pt.area, latlng: L.latLng(c.pt.lat, c.pt.lon) }))
      .sort((a, b) => b.area - a.area);
    this._redraw();
  },

  onAdd(map) {
    this._container = L.DomUtil.create('div', 'place-labels');
    map.getPane(this.options.pane).appendChild(this._container);
    this._redraw();
  },

  onRemove() {
    L.DomUtil.remove(this._container);
    this._container = null;
  },

  getEvents() {
    return { zoomstart: this._hide, moveend: this._redraw, zoomend: this._redraw, resize: this._redraw };
  },

  _hide() { if (this._container) this._container.style.display = 'none'; },

  _redraw() {
    const map = this._map;
    if (!map || !this._container) return;
    const zoom = map.getZoom();
    const bounds = map.getBounds().pad(0.1);
    const boxes = [];
    const html = [];
    const fits = (p, w, h) => {
      const box = [p.x - w / 2 - 3, p.y - h / 2 - 2, p.x + w / 2 + 3, p.y + h / 2 + 2];
      if (boxes.some((b) => box[0] < b[2] && box[2] > b[0] && box[1] < b[3] && box[3] > b[1])) return false;
      boxes.push(box);
      return true;
    };
    for (const r of this._reserved) fits(map.latLngToLayerPoint(r.latlng), r.w, r.h);
    // Country names: at small scales, and only for countries big enough on screen.
    if (zoom <= 7) {
      const degPerPx = 360 / (256 * 2 ** zoom);
      for (const c of this._countries) {
        if (!bounds.contains(c.latlng)) continue;
        const pxArea = c.area / (degPerPx * degPerPx);
        if (pxArea < 9000) continue;
        const p = map.latLngToLayerPoint(c.latlng);
        const w = c.name.length * 7.5 + 8;
        if (!fits(p, w, 14)) continue;
        html.push(`<div class="lbl lbl-country" style="transform:translate(${Math.round(p.x)}px,${Math.round(p.y)}px)"><span>${escape(c.name)}</span></div>`);
      }
    }
    const min = minPop(zoom);
    let n = 0;
    for (const pl of this._places) {
      if (pl.pop < min || n >= MAX_LABELS) break;
      if (!bounds.contains(pl.latlng)) continue;
      const big = pl.pop >= 1e6;
      const p = map.latLngToLayerPoint(pl.latlng);
      const w = pl.name.length * (big ? 7.2 : 6.4) + 12;
      // The label sits to the right of its dot; reserve the box there.
      if (!fits(L.point(p.x + w / 2 - 3, p.y), w, big ? 15 : 13)) continue;
      n += 1;
      html.push(`<div class="lbl lbl-place${big ? ' big' : ''}" style="transform:translate(${Math.round(p.x)}px,${Math.round(p.y)}px)"><i></i><span>${escape(pl.name)}</span></div>`);
    }
    this._container.innerHTML = html.join('');
    this._container.style.display = '';
  },
});

