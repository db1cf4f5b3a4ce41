// A minimal OGC API - Tiles client built on OpenLayers' OGCVectorTile source, used by
// ogc.test.mjs. It knows only the server's landing page: it follows the landing page's
// tilesets-vector link, takes the tileset whose id is the requested collection, and hands that
// tileset's URL to OpenLayers, which reads the tileset document, the tile matrix set it links
// to (tiling-scheme), the tileMatrixSetLimits, and the MVT item template with its
// {tileMatrix}/{tileRow}/{tileCol} variables.
import Map from 'ol/Map.js';
import View from 'ol/View.js';
import MVT from 'ol/format/MVT.js';
import VectorTileLayer from 'ol/layer/VectorTile.js';
import { fromLonLat } from 'ol/proj.js';
import OGCVectorTile from 'ol/source/OGCVectorTile.js';

window.olProj = { fromLonLat };

const TILESETS_VECTOR = 'http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector';

async function json(url) {
  const r = await fetch(url, { headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
}

/** The URL of the vector tileset of `collection`, found from the landing page. */
async function discover(collection) {
  const landing = await json('/');
  const link = landing.links.find((l) => l.rel === TILESETS_VECTOR);
  if (!link) throw new Error('the landing page has no tilesets-vector link');
  const list = await json(link.href);
  const tileset = list.tilesets.find((t) => t.id === collection && t.dataType === 'vector');
  if (!tileset) throw new Error(`no vector tileset for ${collection}`);
  const self = tileset.links.find((l) => l.rel === 'self');
  return self.href;
}

window.ogcClient = (async () => {
  const params = new URLSearchParams(window.location.search);
  const collection = params.get('collection') || 'incidents';
  const [lon, lat, zoom] = ['lon', 'lat', 'zoom'].map((k) => Number(params.get(k)));
  const url = await discover(collection);
  const source = new OGCVectorTile({ url, format: new MVT() });
  // The source reads the tileset and its tile matrix set before it can make tile URLs.
  await new Promise((resolve, reject) => {
    const settle = () => {
      if (source.getState() === 'ready') resolve();
      else if (source.getState() === 'error') reject(new Error(`OpenLayers could not use the tileset ${url}`));
      else source.once('change', settle);
    };
    settle();
  });
  const layer = new VectorTileLayer({ source });
  const map = new Map({
    target: 'map',
    layers: [layer],
    view: new View({ center: fromLonLat([lon, lat]), zoom }),
  });
  await new Promise((resolve) => { map.once('rendercomplete', resolve); });
  return { map, layer, url };
})();
