// OGC API - Tiles with an independent client: OpenLayers' OGCVectorTile source (bundled from
// tests/browser/ogc-client/client.js with esbuild), in Debian's chromium.
//
//   ATLAS_URL=http://127.0.0.1:18080 node tests/browser/ogc.test.mjs
//
// The client starts from the landing page and finds the incidents' WebMercatorQuad tileset
// by links alone. Checks: the tiles it asks for are /{tileMatrix}/{tileRow}/{tileCol} with the
// row and column of the view (OGC puts the row first), every incident the feature API has in
// view is in the tiles OpenLayers decoded, with the API's id, and is hit at its pixel, and
// nothing fails.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { ARTIFACTS, BASE, api, assert, assertEq, check, checkWatched, run, watch, withTileKeys } from './harness.mjs';

// Kabul at zoom 10 (OpenLayers' zoom: 256-pixel tiles), above the incidents' cluster zoom.
const VIEW = { lon: 69.17, lat: 34.53, zoom: 10 };
const CLIENT = fileURLToPath(new URL('./ogc-client/client.js', import.meta.url));

async function bundle() {
  const out = await esbuild.build({ entryPoints: [CLIENT], bundle: true, write: false, format: 'iife', logLevel: 'error' });
  return out.outputFiles[0].text;
}

/** XYZ tile of lon/lat at zoom z. */
function tileOf(lon, lat, z) {
  const n = 2 ** z;
  const x = Math.floor((lon + 180) / 360 * n);
  const r = lat * Math.PI / 180;
  const y = Math.floor((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2 * n);
  return { x, y };
}

async function main(context) {
  const page = context.pages()[0] || await context.newPage();
  const log = watch(page, 'ogc');
  const script = await bundle();
  // Served at a path of the server's origin, so that the client is same-origin like any page
  // the server would host; the request never reaches the server.
  const clientPath = '/__ogc-tiles-client';
  await page.route(`${BASE}${clientPath}*`, (route) => route.fulfill({
    contentType: 'text/html',
    body: `<!doctype html><meta charset="utf-8"><div id="map" style="width:800px;height:600px"></div><script>${script.replace(/<\/script/g, '<\\/script')}</script>`,
  }));
  const tileRequests = [];
  page.on('request', (r) => {
    const m = new URL(r.url()).pathname.match(/^\/collections\/([^/]+)\/tiles\/WebMercatorQuad\/(\d+)\/(\d+)\/(\d+)$/);
    if (m) tileRequests.push({ collection: m[1], matrix: Number(m[2]), row: Number(m[3]), col: Number(m[4]) });
  });

  let client = null;
  await check('from the landing page the client finds the incidents\' WebMercatorQuad tileset', async () => {
    await page.goto(`${BASE}${clientPath}?collection=incidents&lon=${VIEW.lon}&lat=${VIEW.lat}&zoom=${VIEW.zoom}`);
    client = await page.evaluate(async () => { const c = await window.ogcClient; return { url: c.url }; });
    assertEq(client.url, `${BASE}/collections/incidents/tiles/WebMercatorQuad`, 'tileset URL');
  });

  await check('it asks for /{tileMatrix}/{tileRow}/{tileCol}: the row and column of the view', async () => {
    const z = VIEW.zoom;
    const centre = tileOf(VIEW.lon, VIEW.lat, z);
    const atZoom = tileRequests.filter((t) => t.matrix === z);
    assert(atZoom.length > 0, `no tile requested at matrix ${z}: ${JSON.stringify(tileRequests.slice(0, 5))}`);
    assert(atZoom.some((t) => t.row === centre.y && t.col === centre.x),
      `no request for row ${centre.y}, col ${centre.x}; got ${JSON.stringify(atZoom)}`);
    for (const t of atZoom) {
      assert(Math.abs(t.row - centre.y) <= 2 && Math.abs(t.col - centre.x) <= 3, `tile far from the view: ${JSON.stringify(t)}`);
    }
  });

  await check('every incident in view is in the tiles with the API\'s id, and found at its pixel', async () => {
    const incidents = withTileKeys((await api('/collections/incidents/items?limit=10000')).features);
    const seen = await page.evaluate(async (fs) => {
      const { map, layer } = await window.ogcClient;
      const { fromLonLat } = window.olProj;
      const size = map.getSize();
      const extent = map.getView().calculateExtent(size);
      const inTiles = layer.getFeaturesInExtent(extent).map((f) => f.getId());
      // Incidents sharing a pixel (many share their city's coordinates) are one hit target.
      const byPixel = new Map();
      for (const f of fs) {
        const px = map.getPixelFromCoordinate(fromLonLat(f.coordinates));
        if (!px || px[0] < 5 || px[1] < 5 || px[0] > size[0] - 5 || px[1] > size[1] - 5) continue;
        const key = px.map(Math.round).join(',');
        if (!byPixel.has(key)) byPixel.set(key, { px, ids: [] });
        byPixel.get(key).ids.push(f.id);
      }
      const pixels = [];
      for (const { px, ids } of byPixel.values()) {
        const hits = (await layer.getFeatures(px)).map((h) => h.getId());
        pixels.push({ px, ids, hits });
      }
      return { inTiles, pixels };
    }, incidents.map((f) => ({ id: f.id, coordinates: f.geometry.coordinates })));
    const inView = seen.pixels.flatMap((p) => p.ids);
    assert(inView.length >= 5, `only ${inView.length} incidents in view`);
    const inTiles = new Set(seen.inTiles);
    const missing = inView.filter((id) => !inTiles.has(id));
    assert(missing.length === 0, `in view per the API, not in the tiles OpenLayers read: ${missing.join(', ')}`);
    const known = new Set(incidents.map((f) => f.id));
    assert(seen.inTiles.every((id) => known.has(id)), 'a tile feature id is unknown to the API');
    // OpenLayers' default circle has a radius of 5 px: a neighbour within 12 px may be on top.
    const near = (p) => seen.pixels.filter((q) => Math.hypot(q.px[0] - p.px[0], q.px[1] - p.px[1]) <= 12).flatMap((q) => q.ids);
    const nothingThere = seen.pixels.filter((p) => !p.hits.some((h) => near(p).includes(h)));
    assert(nothingThere.length === 0, `no incident of the API at these pixels: ${JSON.stringify(nothingThere)}`);
    console.log(`    ${inView.length} incidents in view at ${seen.pixels.length} distinct pixels; all in the tiles, each pixel hits its incident or one within 12 px`);
    await page.screenshot({ path: join(ARTIFACTS, 'ogc-client.png') });
  });

  await checkWatched([log]);
}

run(main);
