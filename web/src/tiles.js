// The vector tile viewer (/map/tiles.html): every tileset of the server's /tiles catalogue drawn
// by MapLibre GL JS from its TileJSON, one source per layer. It needs nothing but the server:
// no glyphs, sprites or basemap from elsewhere, so it has no text labels. Its colours are the
// map page's (style.js).
import maplibregl from 'maplibre-gl';
import 'maplibre-gl/dist/maplibre-gl.css';
import './tiles.css';
import { getTileCatalogue, tileJsonPath } from './api.js';
import { PALETTE, PROVINCE_CLASSES } from './style.js';

// Provinces shaded by incident_count in the map page's classes: each class's colour from the
// count just above the previous class's upper bound.
const PROVINCE_FILL = ['step', ['coalesce', ['get', 'incident_count'], 0], PROVINCE_CLASSES[0].color,
  ...PROVINCE_CLASSES.slice(1).flatMap((c, i) => [PROVINCE_CLASSES[i].max + 1, c.color])];

// Drawing order and paint of the default atlas's layers; any other layer gets the style of its
// geometry type and is drawn above these.
const KNOWN = {
  countries: { rank: 0, fill: PALETTE.land, outline: PALETTE.landOutline },
  countries_region: { rank: 1, fill: PALETTE.region, outline: PALETTE.regionOutline },
  provinces: { rank: 2, provinceRamp: true, outline: PALETTE.provinceOutline },
  operating_provinces: { rank: 2.5, outline: PALETTE.operating, width: 1.5, hidden: true },
  wilayat_khorasan: { rank: 3, outline: PALETTE.wilayat, dash: [2, 2], hidden: true },
  khorasan: { rank: 4, fill: PALETTE.khorasan, fillOpacity: 0.14, outline: PALETTE.khorasan, width: 2.2 },
  places: { rank: 5, circle: PALETTE.place, radius: 2.2 },
  incidents: { rank: 6, circle: PALETTE.incident, radius: ['interpolate', ['linear'], ['coalesce', ['get', 'deaths'], 0], 0, 4, 20, 7, 150, 12] },
};
const GEOMETRY_RANK = { polygon: 10, line: 20, point: 30 };

/** Style layers (MapLibre) drawing one tileset of the catalogue. */
function styleLayers(tileset) {
  const id = tileset.id;
  const known = KNOWN[id] || {};
  const visibility = known.hidden ? 'none' : 'visible';
  const common = { source: id, 'source-layer': id, layout: { visibility } };
  const geometry = (tileset.geometry || '').toLowerCase();
  if (geometry.includes('polygon')) {
    const layers = [];
    if (known.fill || known.provinceRamp || !known.outline) {
      layers.push({
        ...common, id: `${id}-fill`, type: 'fill',
        paint: {
          'fill-color': known.provinceRamp ? PROVINCE_FILL : (known.fill || PALETTE.otherFill),
          'fill-opacity': known.fillOpacity ?? (known.provinceRamp ? 0.75 : 1),
        },
      });
    }
    const line = { 'line-color': known.outline || PALETTE.otherLine, 'line-width': known.width || 0.8 };
    if (known.dash) line['line-dasharray'] = known.dash;
    layers.push({ ...common, id: `${id}-outline`, type: 'line', paint: line });
    return layers;
  }
  if (geometry.includes('line')) {
    return [{ ...common, id: `${id}-line`, type: 'line', paint: { 'line-color': known.outline || PALETTE.otherLine, 'line-width': known.width || 1.2 } }];
  }
  const color = known.circle || PALETTE.otherPoint;
  const radius = known.radius || 4;
  // Clustered layers carry point_count on their clusters; size those by the count.
  const clusterRadius = ['interpolate', ['linear'], ['get', 'point_count'], 2, 8, 50, 14, 1000, 24];
  return [{
    ...common, id: `${id}-points`, type: 'circle',
    paint: {
      'circle-color': color,
      'circle-radius': tileset.clustered ? ['case', ['has', 'point_count'], clusterRadius, radius] : radius,
      'circle-opacity': 0.85,
      'circle-stroke-color': PALETTE.halo,
      'circle-stroke-width': 1,
    },
  }];
}

function rank(tileset) {
  const known = KNOWN[tileset.id];
  if (known) return known.rank;
  const g = (tileset.geometry || '').toLowerCase();
  return Object.entries(GEOMETRY_RANK).find(([k]) => g.includes(k))?.[1] ?? 40;
}

/** The MapLibre style for the whole catalogue: one vector source per tileset, from its TileJSON. */
export function buildStyle(catalogue) {
  const tilesets = [...catalogue.tilesets].sort((a, b) => rank(a) - rank(b));
  const sources = {};
  for (const t of tilesets) sources[t.id] = { type: 'vector', url: tileJsonPath(t) };
  return {
    version: 8,
    sources,
    layers: [{ id: 'sea', type: 'background', paint: { 'background-color': PALETTE.sea } },
      ...tilesets.flatMap(styleLayers)],
  };
}

/** A table of a feature's tile properties, built from text nodes (never parsed as HTML). */
function propertyTable(feature) {
  const table = document.createElement('table');
  table.className = 'props';
  const caption = table.createCaption();
  caption.textContent = `${feature.layer.source} #${feature.id ?? '(no id)'}`;
  for (const [k, v] of Object.entries(feature.properties)) {
    const row = table.insertRow();
    row.insertCell().textContent = k;
    row.insertCell().textContent = String(v);
  }
  return table;
}

function layerList(map, tilesets) {
  const list = document.getElementById('layer-list');
  for (const t of tilesets) {
    const item = document.createElement('li');
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.dataset.layer = t.id;
    const styleIds = map.getStyle().layers.filter((l) => l.source === t.id).map((l) => l.id);
    box.checked = styleIds.some((l) => map.getLayoutProperty(l, 'visibility') !== 'none');
    box.addEventListener('change', () => {
      for (const l of styleIds) map.setLayoutProperty(l, 'visibility', box.checked ? 'visible' : 'none');
    });
    label.append(box, ` ${t.title}`);
    const meta = document.createElement('span');
    meta.className = 'meta';
    meta.textContent = `${t.geometry}${t.clustered ? ', clustered' : ''}, z${t.minzoom}-${t.maxzoom}`;
    item.append(label, meta);
    list.append(item);
  }
}

/** Short form of a count for a cluster label: 7, 42, 1.2k, 35k. */
function shortCount(n) {
  if (n < 1000) return String(n);
  return n < 10000 ? `${(n / 1000).toFixed(1)}k` : `${Math.round(n / 1000)}k`;
}

/**
 * Keeps a count label (an HTML marker: the page has no glyphs for map text) on every cluster
 * drawn from the clustered tilesets, after each move.
 */
function clusterLabels(map, tilesets) {
  const layers = tilesets.filter((t) => t.clustered).map((t) => `${t.id}-points`);
  if (layers.length === 0) return;
  const markers = new Map();
  const update = () => {
    const seen = new Set();
    const visible = layers.filter((l) => map.getLayoutProperty(l, 'visibility') !== 'none');
    for (const f of map.queryRenderedFeatures({ layers: visible })) {
      const count = f.properties.point_count;
      if (!f.properties.cluster || !count) continue;
      const key = `${f.layer.source}/${f.properties.cluster_id}`;
      if (seen.has(key)) continue;
      seen.add(key);
      if (!markers.has(key)) {
        const el = document.createElement('div');
        el.className = 'cluster-count';
        el.textContent = shortCount(count);
        el.setAttribute('aria-hidden', 'true');
        markers.set(key, new maplibregl.Marker({ element: el }).setLngLat(f.geometry.coordinates).addTo(map));
      }
    }
    for (const [key, marker] of markers) {
      if (!seen.has(key)) {
        marker.remove();
        markers.delete(key);
      }
    }
  };
  map.on('idle', update);
  map.on('movestart', () => { for (const m of markers.values()) m.remove(); markers.clear(); });
  update();
}

async function start() {
  const status = document.getElementById('tile-status');
  const catalogue = await getTileCatalogue();
  const style = buildStyle(catalogue);
  const map = new maplibregl.Map({
    container: 'map',
    style,
    center: [66, 34],
    zoom: 4,
    hash: true,
    attributionControl: { compact: true },
  });
  map.addControl(new maplibregl.NavigationControl(), 'top-left');
  map.addControl(new maplibregl.ScaleControl(), 'bottom-left');
  const interactive = style.layers.filter((l) => l.type !== 'background').map((l) => l.id);
  map.on('click', (e) => {
    const hits = map.queryRenderedFeatures(e.point, { layers: interactive });
    if (hits.length === 0) return;
    // A cluster opens at the zoom where it splits; anything else shows its properties (every
    // feature under the pointer, topmost first: several incidents can share one point).
    const top = hits[0];
    if (top.properties.cluster && top.properties.expansion_zoom !== undefined) {
      map.easeTo({ center: top.geometry.coordinates, zoom: Math.min(Number(top.properties.expansion_zoom), map.getMaxZoom()) });
      return;
    }
    const content = document.createElement('div');
    const shown = hits.filter((h) => h.layer.source === top.layer.source).slice(0, 5);
    content.append(...shown.map(propertyTable));
    new maplibregl.Popup({ maxWidth: '360px' }).setLngLat(e.lngLat).setDOMContent(content).addTo(map);
  });
  for (const id of interactive) {
    map.on('mouseenter', id, () => { map.getCanvas().style.cursor = 'pointer'; });
    map.on('mouseleave', id, () => { map.getCanvas().style.cursor = ''; });
  }
  await map.once('load');
  layerList(map, catalogue.tilesets);
  clusterLabels(map, catalogue.tilesets);
  const showStatus = () => {
    status.textContent = `${catalogue.tilesets.length} tilesets, zoom ${map.getZoom().toFixed(1)}`;
  };
  showStatus();
  map.on('idle', showStatus);
  return map;
}

// For scripts and tests: resolves to the map once its style has loaded.
window.tileViewer = start().catch((err) => {
  document.getElementById('tile-status').textContent = `The tiles could not be loaded: ${err.message}`;
  throw err;
});
