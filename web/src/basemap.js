// The offline basemap: country polygons drawn on one canvas.
//
// Leaflet's own vector layers make a LatLng object per vertex and re-project on every zoom;
// for the 251 world countries (about 75,000 vertices) that cost ~150 ms at start-up on a small
// machine. This layer projects each vertex once, into a Float64Array of Web Mercator pixels at
// zoom 0 (256 px per world), and on each move redraws only the polygons in view, skipping
// vertices closer than a pixel to the previous one. It is not interactive: the basemap is
// background only.
import L from 'leaflet';
import { PALETTE } from './style.js';

const R2D = 180 / Math.PI;
const MAX_LAT = 85.0511287798;

/** lon/lat degrees (EPSG:4326) -> Web Mercator pixel at zoom 0 (0..256 on both axes). */
export function project0(lon, lat) {
  const la = Math.max(-MAX_LAT, Math.min(MAX_LAT, lat));
  const s = Math.sin(la / R2D);
  return [((lon + 180) / 360) * 256, (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * 256];
}

function polygonsOf(geometry) {
  if (!geometry) return [];
  if (geometry.type === 'Polygon') return [geometry.coordinates];
  if (geometry.type === 'MultiPolygon') return geometry.coordinates;
  return [];
}

export const CountriesCanvas = L.Layer.extend({
  options: {
    pane: 'basemap',
    padding: 0.3, // fraction of the map size drawn beyond each edge, so short pans show land
    fillColor: PALETTE.land,
    color: PALETTE.landOutline,
    weight: 0.8,
  },

  initialize(options) {
    L.setOptions(this, options);
    this._polys = [];
  },

  /** Takes GeoJSON (Multi)Polygon features; replaces what was drawn. */
  setFeatures(features) {
    const polys = [];
    for (const f of features) {
      for (const poly of polygonsOf(f.geometry)) {
        const rings = [];
        let minX = Infinity; let minY = Infinity; let maxX = -Infinity; let maxY = -Infinity;
        for (const ring of poly) {
          const a = new Float64Array(ring.length * 2);
          for (let i = 0; i < ring.length; i += 1) {
            const [x, y] = project0(ring[i][0], ring[i][1]);
            a[2 * i] = x;
            a[2 * i + 1] = y;
            if (x < minX) minX = x;
            if (x > maxX) maxX = x;
            if (y < minY) minY = y;
            if (y > maxY) maxY = y;
          }
          rings.push(a);
        }
        polys.push({ rings, minX, minY, maxX, maxY });
      }
    }
    this._polys = polys;
    if (this._map) this._reset();
    return this;
  },

  onAdd(map) {
    this._canvas = L.DomUtil.create('canvas', 'basemap-canvas leaflet-zoom-animated');
    this._canvas.setAttribute('aria-hidden', 'true');
    this.getPane().appendChild(this._canvas);
    this._reset();
  },

  onRemove() {
    L.DomUtil.remove(this._canvas);
    this._canvas = null;
  },

  getEvents() {
    const events = { moveend: this._reset, viewreset: this._reset, resize: this._reset };
    if (this._map && this._map._zoomAnimated) events.zoomanim = this._animateZoom;
    return events;
  },

  // During the zoom animation the drawn canvas is scaled about the zoom centre, as Leaflet does
  // for image overlays; the next moveend draws it again sharply.
  _animateZoom(e) {
    if (!this._bounds) return;
    const scale = this._map.getZoomScale(e.zoom);
    const offset = this._map._latLngBoundsToNewLayerBounds(this._bounds, e.zoom, e.center).min;
    L.DomUtil.setTransform(this._canvas, offset, scale);
  },

  _reset() {
    const map = this._map;
    const canvas = this._canvas;
    if (!map || !canvas) return;
    const size = map.getSize();
    const pad = size.multiplyBy(this.options.padding).round();
    const topLeft = map.containerPointToLayerPoint([0, 0]).subtract(pad);
    const w = size.x + 2 * pad.x;
    const h = size.y + 2 * pad.y;
    L.DomUtil.setPosition(canvas, topLeft);
    this._bounds = L.latLngBounds(map.layerPointToLatLng(topLeft), map.layerPointToLatLng(topLeft.add([w, h])));

    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
    canvas.style.width = `${w}px`;
    canvas.style.height = `${h}px`;
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, h);

    // World pixel (at this zoom) of the canvas's top-left corner, and zoom-0 -> zoom scale.
    const origin = map.getPixelOrigin().add(topLeft);
    const k = map.options.crs.scale(map.getZoom()) / 256;
    const x0 = origin.x / k;
    const y0 = origin.y / k;
    const x1 = (origin.x + w) / k;
    const y1 = (origin.y + h) / k;
    const minStep = 0.7 / k; // skip vertices closer than 0.7 px to the last one drawn

    ctx.beginPath();
    for (const p of this._polys) {
      if (p.maxX < x0 || p.minX > x1 || p.maxY < y0 || p.minY > y1) continue;
      for (const a of p.rings) {
        let lx = a[0];
        let ly = a[1];
        ctx.moveTo((lx - x0) * k, (ly - y0) * k);
        const n = a.length;
        for (let i = 2; i < n; i += 2) {
          const x = a[i];
          const y = a[i + 1];
          if (i < n - 2 && Math.abs(x - lx) < minStep && Math.abs(y - ly) < minStep) continue;
          ctx.lineTo((x - x0) * k, (y - y0) * k);
          lx = x;
          ly = y;
        }
        ctx.closePath();
      }
    }
    ctx.fillStyle = this.options.fillColor;
    ctx.fill('evenodd');
    ctx.strokeStyle = this.options.color;
    ctx.lineWidth = this.options.weight;
    ctx.lineJoin = 'round';
    ctx.stroke();
  },
});
