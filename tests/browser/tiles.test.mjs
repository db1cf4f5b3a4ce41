// Browser test of the vector tiles in a real client: MapLibre GL JS (the page /map/tiles.html)
// in Debian's chromium, rendering with WebGL (SwiftShader when there is no GPU).
//
//   ATLAS_URL=http://127.0.0.1:18080 node tests/browser/tiles.test.mjs
//
// Checks, each against the public feature API rather than against numbers written here:
//   - the viewer loads every tileset of /tiles from its TileJSON; every tile answer is an MVT
//     (200) or an empty tile (204), and MapLibre reports no error decoding any of them;
//   - at a clustered zoom, the rendered clusters (through their leaves) and single points hold
//     every incident the API has in view, and each cluster's leaves number its point_count;
//   - above the cluster zoom, each incident inside the view is rendered at the pixel where its
//     API coordinates project, with the API's feature id; no rendered incident is unknown;
//   - the pixels of the screenshot have the incident colour there, the sea colour where no
//     country is, and the country fill where only a country is;
//   - at zoom 1 every country with a polygon spanning 5 degrees each way (from the API's
//     geometries) is in the tiles;
//   - clicking an incident shows its tile properties, equal to the API's; the layer switch hides it.
// The screenshot goes to tests/browser/artifacts/tiles.png.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { ARTIFACTS, BASE, api, assert, assertEq, check, checkWatched, run, tileKey, watch, withTileKeys } from './harness.mjs';

const VIEW = { zoom: 4, lat: 32, lon: 62 };
// Kabul at zoom 10, above the zoom where incidents are clustered.
const DETAIL = { zoom: 10, lat: 34.53, lon: 69.17 };
const SEA = [0xcf, 0xe0, 0xea];
const COUNTRY_FILL = [0xf3, 0xef, 0xe6];

/** Waits until MapLibre has drawn everything for the current view. */
async function settle(page) {
  await page.evaluate(async () => {
    const map = await window.tileViewer;
    if (!map.loaded() || !map.areTilesLoaded()) await map.once('idle');
  });
}

async function jumpTo(page, view) {
  await page.evaluate(async (v) => {
    const map = await window.tileViewer;
    map.jumpTo({ center: [v.lon, v.lat], zoom: v.zoom });
  }, view);
  await settle(page);
}

/** Page pixel (relative to the page, not the map) of each [lon, lat], or null when outside the map. */
async function project(page, positions) {
  return page.evaluate(async (ps) => {
    const map = await window.tileViewer;
    const box = map.getContainer().getBoundingClientRect();
    return ps.map(([lon, lat]) => {
      const p = map.project([lon, lat]);
      const inside = p.x >= 8 && p.y >= 8 && p.x <= box.width - 8 && p.y <= box.height - 8;
      return inside ? { x: p.x, y: p.y, pageX: box.left + p.x, pageY: box.top + p.y } : null;
    });
  }, positions);
}

/** Rendered features (layer, id, properties) within `r` pixels of map pixel (x, y). */
async function renderedAt(page, x, y, r = 2) {
  return page.evaluate(async ({ x, y, r }) => {
    const map = await window.tileViewer;
    return map.queryRenderedFeatures([[x - r, y - r], [x + r, y + r]])
      .map((f) => ({ layer: f.layer.id, id: f.id, properties: f.properties }));
  }, { x, y, r });
}

function pixel(png, x, y) {
  const i = (png.width * Math.round(y) + Math.round(x)) << 2;
  return [png.data[i], png.data[i + 1], png.data[i + 2]];
}
const close = (a, b, tol) => a.every((v, k) => Math.abs(v - b[k]) <= tol);

async function main(context) {
  const page = context.pages()[0] || await context.newPage();
  const log = watch(page, 'tiles');
  const incidents = withTileKeys((await api('/collections/incidents/items?limit=10000')).features);
  const catalogue = await api('/tiles');

  await check('the viewer loads every tileset of /tiles', async () => {
    const started = Date.now();
    await page.goto(`${BASE}/map/tiles.html#${VIEW.zoom}/${VIEW.lat}/${VIEW.lon}`, { waitUntil: 'load' });
    await settle(page);
    // A figure to report, not a gate: software WebGL on a shared machine varies a lot.
    console.log(`    viewer drawn ${Date.now() - started} ms after navigation (cold browser, SwiftShader)`);
    const sources = await page.evaluate(async () => Object.keys((await window.tileViewer).getStyle().sources));
    assertEq(sources.sort(), catalogue.tilesets.map((t) => t.id).sort(), 'tile sources');
    const listed = await page.$$eval('[data-testid=layer-list] input', (els) => els.map((e) => e.dataset.layer));
    assertEq(listed.sort(), catalogue.tilesets.map((t) => t.id).sort(), 'layer list');
  });

  await check('tile answers are MVT (200) or empty (204)', async () => {
    const tiles = log.responses.filter((r) => /\/tiles\/[^/]+\/\d+\/\d+\/\d+/.test(new URL(r.url()).pathname));
    assert(tiles.length >= catalogue.tilesets.length, `only ${tiles.length} tile requests seen`);
    for (const r of tiles) {
      assert([200, 204].includes(r.status()), `${r.url()} -> ${r.status()}`);
      if (r.status() === 200) assertEq(r.headers()['content-type'], 'application/vnd.mapbox-vector-tile', `content type of ${r.url()}`);
    }
  });

  // At the opening zoom incidents are clustered (the default atlas clusters them up to z9).
  await check('clusters and single incidents in view account for every incident the API has there', async () => {
    const pixels = await project(page, incidents.map((f) => f.geometry.coordinates));
    const apiInView = incidents.filter((_, i) => pixels[i]);
    assert(apiInView.length >= 10, `only ${apiInView.length} incidents in view; move VIEW`);
    const rendered = await page.evaluate(async () => (await window.tileViewer)
      .queryRenderedFeatures({ layers: ['incidents-points'] })
      .map((f) => ({ id: f.id, cluster: f.properties.cluster === true, count: f.properties.point_count, clusterId: f.properties.cluster_id })));
    const members = new Set();
    let clusters = 0;
    for (const r of rendered) {
      if (!r.cluster) { members.add(r.id); continue; }
      clusters += 1;
      const leaves = await api(`/tiles/incidents/clusters/${r.clusterId}/leaves?limit=10000`);
      assertEq(leaves.features.length, r.count, `leaves of cluster ${r.clusterId} against its point_count`);
      leaves.features.forEach((l) => members.add(tileKey(l.id)));
    }
    assert(clusters > 0, 'no cluster rendered at the opening zoom');
    // Each cluster drawn carries its count as a label.
    const distinct = new Map(rendered.filter((r) => r.cluster).map((r) => [r.clusterId, r.count]));
    const labels = await page.$$eval('.cluster-count', (els) => els.map((e) => Number(e.textContent)));
    assertEq(labels.sort((a, b) => a - b), [...distinct.values()].sort((a, b) => a - b), 'cluster count labels');
    const missing = apiInView.filter((f) => !members.has(f.id)).map((f) => f.properties.id);
    assert(missing.length === 0, `in view per the API but in no rendered cluster or point: ${missing.join(', ')}`);
    const known = new Set(incidents.map((f) => f.id));
    assert([...members].every((id) => known.has(id)), 'a rendered incident or leaf is unknown to the API');
    console.log(`    ${apiInView.length} incidents in view, drawn as ${clusters} clusters and ${rendered.length - clusters} single points`);
  });

  let inView = [];
  await check('above the cluster zoom every incident in view is rendered where the API puts it, with its id', async () => {
    await jumpTo(page, DETAIL);
    const pixels = await project(page, incidents.map((f) => f.geometry.coordinates));
    inView = incidents.map((f, i) => ({ f, p: pixels[i] })).filter((x) => x.p);
    assert(inView.length >= 5, `only ${inView.length} incidents in view; move DETAIL`);
    const missing = [];
    for (const { f, p } of inView) {
      const hits = await renderedAt(page, p.x, p.y);
      if (!hits.some((h) => h.layer === 'incidents-points' && h.id === f.id)) missing.push(`${f.properties.id} (${f.id})`);
    }
    assert(missing.length === 0, `not rendered at their API position: ${missing.join(', ')}`);
    const rendered = await page.evaluate(async () => (await window.tileViewer)
      .queryRenderedFeatures({ layers: ['incidents-points'] }).map((f) => f.id));
    const known = new Set(incidents.map((f) => f.id));
    const unknown = rendered.filter((id) => !known.has(id));
    assert(unknown.length === 0, `rendered ids the API does not know: ${unknown.join(', ')}`);
    console.log(`    ${inView.length} incidents in view, ${new Set(rendered).size} distinct ids rendered`);
  });

  await check('screenshot pixels: incident colour, sea, country fill', async () => {
    const detail = PNG.sync.read(await page.screenshot({ path: join(ARTIFACTS, 'tiles-detail.png') }));
    // An incident with no other incident within 25 px, so its circle is not covered.
    const lone = inView.find(({ p }) => inView.every((o) => o.p === p || Math.hypot(o.p.x - p.x, o.p.y - p.y) > 25));
    assert(lone, 'no isolated incident in view');
    const c = pixel(detail, lone.p.pageX, lone.p.pageY);
    assert(c[0] > 150 && c[1] < 110 && c[2] < 110, `pixel at ${lone.f.properties.id} is rgb(${c}), not the incident red`);
    await jumpTo(page, VIEW);
    const png = PNG.sync.read(await page.screenshot({ path: join(ARTIFACTS, 'tiles.png') }));
    // Sea: a pixel where nothing at all is rendered; country: one where only a world country is.
    let sea = null;
    let land = null;
    // The map's controls sit in its corners (zoom top-left, scale and attribution at the bottom).
    for (let y = 170; y < 680 && !(sea && land); y += 37) {
      for (let x = 80; x < 800 && !(sea && land); x += 37) {
        const hits = await renderedAt(page, x, y, 4);
        const box = await page.evaluate(() => document.getElementById('map').getBoundingClientRect().toJSON());
        if (!sea && hits.length === 0) sea = { x: box.left + x, y: box.top + y };
        if (!land && hits.length > 0 && hits.every((h) => h.layer === 'countries-fill')) land = { x: box.left + x, y: box.top + y };
      }
    }
    assert(sea && land, `no pixel found for the sea (${JSON.stringify(sea)}) or a lone country (${JSON.stringify(land)})`);
    assert(close(pixel(png, sea.x, sea.y), SEA, 3), `sea pixel at ${sea.x},${sea.y} is rgb(${pixel(png, sea.x, sea.y)})`);
    assert(close(pixel(png, land.x, land.y), COUNTRY_FILL, 3), `country pixel at ${land.x},${land.y} is rgb(${pixel(png, land.x, land.y)})`);
  });

  await check('clicking an incident shows its tile properties, equal to the API\'s', async () => {
    await jumpTo(page, DETAIL);
    const { f, p } = inView.find(({ p: q }) => inView.every((o) => o.p === q || Math.hypot(o.p.x - q.x, o.p.y - q.y) > 25));
    await page.mouse.click(p.pageX, p.pageY);
    const popup = page.locator('.maplibregl-popup table.props');
    await popup.waitFor();
    const rows = Object.fromEntries(await popup.locator('tr').evaluateAll((trs) => trs.map((tr) => [tr.cells[0].textContent, tr.cells[1].textContent])));
    for (const key of ['id', 'date', 'place', 'deaths', 'province']) {
      if (f.properties[key] === undefined || f.properties[key] === null) continue;
      assertEq(rows[key], String(f.properties[key]), `popup ${key} of ${f.properties.id}`);
    }
    await page.keyboard.press('Escape');
    await page.evaluate(() => document.querySelectorAll('.maplibregl-popup').forEach((e) => e.remove()));
  });

  await check('the layer switch hides the incidents', async () => {
    const { f, p } = inView[0];
    await page.locator('[data-testid=layer-list] input[data-layer=incidents]').uncheck();
    await settle(page);
    const hits = await renderedAt(page, p.x, p.y);
    assert(!hits.some((h) => h.layer === 'incidents-points'), `${f.properties.id} still rendered`);
    await page.locator('[data-testid=layer-list] input[data-layer=incidents]').check();
    await settle(page);
  });

  await check('at zoom 1 every country with a polygon over 5 degrees each way is in the tiles', async () => {
    await jumpTo(page, { zoom: 1, lat: 20, lon: 0 });
    const countries = withTileKeys((await api('/collections/countries/items?limit=10000')).features);
    // A country is wide when one of its polygons (not only their spread) spans 5 degrees both ways.
    const span = (ring, k) => Math.max(...ring.map((c) => c[k])) - Math.min(...ring.map((c) => c[k]));
    const parts = (g) => (g.type === 'Polygon' ? [g.coordinates] : g.coordinates);
    const wide = countries.filter((f) => parts(f.geometry).some((poly) => span(poly[0], 0) > 5 && span(poly[0], 1) > 5)).map((f) => f.id);
    const inTiles = new Set(await page.evaluate(async () => (await window.tileViewer)
      .querySourceFeatures('countries', { sourceLayer: 'countries' }).map((f) => f.id)));
    const missing = wide.filter((id) => !inTiles.has(id));
    assert(wide.length > 50, `only ${wide.length} wide countries; is the layer loaded?`);
    assert(missing.length === 0, `missing at z1: ${missing.join(', ')}`);
    const known = new Set(countries.map((f) => f.id));
    assert([...inTiles].every((id) => known.has(id)), 'a tile carries a country id the API does not know');
    writeFileSync(join(ARTIFACTS, 'tiles-z1.png'), await page.screenshot());
  });

  await checkWatched([log]);
  console.log(`screenshots: ${join(ARTIFACTS, 'tiles.png')}, tiles-detail.png, tiles-z1.png`);
}

run(main);
