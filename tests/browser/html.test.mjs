// Browser test of the HTML face of the API: the server-side page of every OGC resource.
//
//   ATLAS_URL=http://127.0.0.1:18080 ATLAS_FIXTURE_URL=http://127.0.0.1:18081 \
//   ATLAS_FIXTURE_TOKEN=... node tests/browser/html.test.mjs
//
// Two servers: the default atlas (ATLAS_URL) and the atlas of tests/fixtures/
// hostile-atlas.toml (ATLAS_FIXTURE_URL), a writable layer holding markup in its values, keys,
// ids and title, a feature with no geometry and every geometry type, in pages of 3; writes
// there take ATLAS_FIXTURE_TOKEN. Checks, in Debian's chromium with a fresh profile:
//   - every resource page (landing, conformance, collections, each collection, its items, one
//     feature of each layer and the features with no geometry, queryables, tilesets, tileset,
//     and a radius and a nearest query on a layer of points)
//     opens in a browser without `f` (chosen by Accept) as text/html, with no console error,
//     no failed request and no request to another origin;
//   - every link of those pages (a and link elements, same origin, each address once)
//     answers 200;
//   - from each layer's first items page, the next links reach every feature of the layer
//     exactly once, as many as the JSON's numberMatched (pages of the default size, or of
//     100 features on layers of more than 300);
//   - on every page with a map, Leaflet drew each feature of the page that has a geometry
//     (one path or marker per geometry part it draws), inside the map;
//   - markup from the data and from a write shows as text: the page's text holds it, no
//     element carries an event handler, no script but the page's own is in the document and
//     no injected code ran, with the Content-Security-Policy bypassed so that escaping alone
//     is tested (a separate check asserts the header is sent);
//   - `/` in a browser is still the story map, which links to the HTML catalogue, which links
//     back to the map.
// Prints "N passed, N failed" and exits 1 when anything failed.
import { join } from 'node:path';
import { ARTIFACTS, BASE, ORIGIN, assert, assertEq, check, run, watch } from './harness.mjs';

const FIXTURE = (process.env.ATLAS_FIXTURE_URL || '').replace(/\/+$/, '');
const TOKEN = process.env.ATLAS_FIXTURE_TOKEN || '';
const LINK_CONCURRENCY = 8;
const LINK_TIMEOUT_MS = 15000;
const WALK_LIMIT = 100;

async function getJson(url) {
  const r = await fetch(url, { headers: { Accept: 'application/geo+json, application/json' } });
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status} ${await r.text()}`);
  return r.json();
}

/** `url` with its `f` parameter set to `f` (removed when `f` is null). */
function withF(url, f) {
  const u = new URL(url);
  u.searchParams.delete('f');
  if (f) u.searchParams.set('f', f);
  return u.href;
}

/** Every feature of a layer, through the JSON's next links. */
async function allFeatures(base, id) {
  const features = [];
  let url = `${base}/collections/${encodeURIComponent(id)}/items?limit=100`;
  let matched = null;
  for (let guard = 0; url && guard < 10000; guard += 1) {
    const page = await getJson(url);
    matched = page.numberMatched;
    features.push(...page.features);
    const next = (page.links || []).find((l) => l.rel === 'next');
    url = next ? next.href : null;
  }
  assertEq(features.length, matched, `${id}: features read through the JSON's next links vs numberMatched`);
  return features;
}

/** The paths and markers Leaflet draws for a geometry (L.geoJSON with circle markers). */
function drawables(geometry) {
  if (!geometry) return 0;
  switch (geometry.type) {
    case 'MultiPoint': return geometry.coordinates.length;
    case 'GeometryCollection': return geometry.geometries.reduce((n, g) => n + drawables(g), 0);
    default: return 1;
  }
}

/** The features shown by the page at `url`, from its JSON face. */
async function pageFeatures(url) {
  const doc = await getJson(withF(url, 'json'));
  return doc.type === 'Feature' ? [doc] : doc.features;
}

/** Checks that the small map of the open page drew every feature of `features`. */
async function checkMap(page, features, label) {
  await page.waitForSelector('#catalog-map[data-features]', { timeout: 5000 });
  const drawn = await page.evaluate(() => {
    const map = document.getElementById('catalog-map');
    const box = map.getBoundingClientRect();
    const parts = [...map.querySelectorAll('.leaflet-overlay-pane path, .leaflet-marker-pane .leaflet-marker-icon')];
    const inside = parts.filter((el) => {
      const d = el.getAttribute('d');
      if (el.tagName.toLowerCase() === 'path' && (!d || d === 'M0 0')) return false;
      const r = el.getBoundingClientRect();
      return r.right >= box.left && r.left <= box.right && r.bottom >= box.top && r.top <= box.bottom;
    });
    return { layers: Number(map.dataset.features), parts: parts.length, inside: inside.length };
  });
  const expected = features.reduce((n, f) => n + drawables(f.geometry), 0);
  const withGeometry = features.filter((f) => f.geometry).length;
  assertEq(drawn.layers, withGeometry, `${label}: features Leaflet drew (data-features) vs features with a geometry`);
  assertEq(drawn.parts, expected, `${label}: paths and markers on the map vs geometry parts of the page`);
  assertEq(drawn.inside, expected, `${label}: paths and markers drawn inside the map`);
}

/**
 * Opens `url` in `page` as a browser does (no `f`: Accept chooses) and checks the answer is
 * an HTML page that loads cleanly; returns the page's same-origin links.
 */
async function open(page, log, url, origin) {
  const errors = log.errors.length;
  const failed = log.failed.length;
  const foreign = log.foreign.length;
  const res = await page.goto(url, { waitUntil: 'load' });
  assert(res, `${url}: no response`);
  assertEq(res.status(), 200, `${url}: status`);
  const type = res.headers()['content-type'] || '';
  assert(type.startsWith('text/html'), `${url}: content-type ${type}`);
  assert(await page.$('body.catalogue'), `${url}: not a catalogue page`);
  const problems = [...log.errors.slice(errors), ...log.failed.slice(failed), ...log.foreign.slice(foreign)];
  assert(problems.length === 0, `${url}:\n${problems.join('\n')}`);
  const hrefs = await page.$$eval('a[href], link[href]', (els) => els.map((e) => e.href));
  return hrefs
    .map((h) => { const u = new URL(h); u.hash = ''; return u; })
    .filter((u) => u.origin === origin)
    .map((u) => u.href);
}

/** GETs each of `links` (a map from address to the page it was found on); the failures. */
async function followLinks(links) {
  const queue = [...links.keys()];
  const bad = [];
  async function worker() {
    while (queue.length) {
      const url = queue.shift();
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), LINK_TIMEOUT_MS);
      try {
        const r = await fetch(url, { signal: ctl.signal });
        // An event stream never ends: its status and type are the answer.
        if ((r.headers.get('content-type') || '').startsWith('text/event-stream')) await r.body.cancel();
        else await r.arrayBuffer();
        if (r.status !== 200) bad.push(`${url} -> HTTP ${r.status} (linked from ${links.get(url)})`);
      } catch (err) {
        bad.push(`${url} -> ${err.name === 'AbortError' ? `no answer in ${LINK_TIMEOUT_MS} ms` : err.message} (linked from ${links.get(url)})`);
      } finally {
        clearTimeout(timer);
      }
    }
  }
  await Promise.all(Array.from({ length: LINK_CONCURRENCY }, worker));
  return bad;
}

/** The resource pages of the server at `base`, browser addresses (no `f`) but the landing page. */
async function resourcePages(base) {
  const collections = (await getJson(`${base}/collections`)).collections;
  const pages = [`${base}/?f=html`, `${base}/conformance`, `${base}/collections`, `${base}/tiles`];
  const features = new Map();
  for (const c of collections) {
    const id = encodeURIComponent(c.id);
    const all = await allFeatures(base, c.id);
    features.set(c.id, all);
    pages.push(`${base}/collections/${id}`, `${base}/collections/${id}/items`,
      `${base}/collections/${id}/queryables`, `${base}/collections/${id}/tiles`,
      `${base}/collections/${id}/tiles/WebMercatorQuad`);
    const shown = all.length ? [all[0], ...all.filter((f) => !f.geometry)] : [];
    for (const f of new Set(shown)) pages.push(`${base}/collections/${id}/items/${encodeURIComponent(String(f.id))}`);
  }
  // The distance queries' pages, around the first point of the first layer of points.
  const points = collections.find((c) => c.geometryType === 'point' && features.get(c.id).some((f) => f.geometry));
  if (points) {
    const [lon, lat] = features.get(points.id).find((f) => f.geometry).geometry.coordinates;
    const coords = encodeURIComponent(`POINT(${lon} ${lat})`);
    const id = encodeURIComponent(points.id);
    pages.push(`${base}/collections/${id}/radius?coords=${coords}&within=500&limit=5`,
      `${base}/collections/${id}/nearest?coords=${coords}&limit=5`);
  }
  return { collections, pages, features };
}

/**
 * Opens every resource page of `base` (checking its map where it has one), then every link
 * found on them.
 */
async function checkResources(page, log, base, label) {
  const { collections, pages, features } = await resourcePages(base);
  const links = new Map();
  const origin = new URL(base).origin;
  for (const url of pages) {
    const path = new URL(url).pathname;
    await check(`${label} ${path}: an HTML page in a browser, loaded cleanly${/\/(items|radius|nearest)/.test(path) ? ', its map showing its features' : ''}`, async () => {
      for (const href of await open(page, log, url, origin)) if (!links.has(href)) links.set(href, url);
      if (/\/(items|radius|nearest)(\/|$)/.test(new URL(url).pathname)) await checkMap(page, await pageFeatures(url), url);
    });
  }
  await check(`${label}: every link of those pages answers 200 (${links.size} addresses)`, async () => {
    assert(links.size > pages.length, `only ${links.size} links found`);
    const bad = await followLinks(links);
    assert(bad.length === 0, bad.join('\n'));
  });
  return { collections, features };
}

/**
 * Follows the next links from the first items page of layer `id` (pages of the server's
 * default size; of WALK_LIMIT features on layers larger than WALK_LIMIT * 3, to bound the
 * time); checks each page's map.
 */
async function walkPages(page, log, base, id, expected) {
  const origin = new URL(base).origin;
  const seenIds = [];
  const seenPages = new Set();
  let url = `${base}/collections/${encodeURIComponent(id)}/items${expected.length > WALK_LIMIT * 3 ? `?limit=${WALK_LIMIT}` : ''}`;
  const maxPages = expected.length + 2;
  while (url) {
    assert(!seenPages.has(url), `${id}: next link loops back to ${url}`);
    assert(seenPages.size < maxPages, `${id}: more than ${maxPages} pages`);
    seenPages.add(url);
    await open(page, log, url, origin);
    seenIds.push(...await page.$$eval('table.features tbody tr td:first-child', (tds) => tds.map((td) => td.textContent)));
    await checkMap(page, await pageFeatures(url), url);
    url = await page.$eval('a[rel=next]', (a) => a.href).catch(() => null);
  }
  const want = expected.map((f) => String(f.id));
  const twice = seenIds.filter((v, i) => seenIds.indexOf(v) !== i);
  assert(twice.length === 0, `${id}: features on more than one page: ${twice.slice(0, 5).join(', ')}`);
  assertEq([...seenIds].sort(), [...want].sort(), `${id}: ids over ${seenPages.size} pages vs the layer's features`);
  return seenPages.size;
}

/** What injected markup would have left in the open page: [] when nothing. */
async function injected(page) {
  return page.evaluate(() => {
    const found = [];
    if (typeof window.__xss !== 'undefined') found.push(`injected code ran: window.__xss = ${window.__xss}`);
    for (const el of document.querySelectorAll('*')) {
      for (const a of el.attributes) if (/^on/i.test(a.name)) found.push(`<${el.tagName.toLowerCase()} ${a.name}>`);
    }
    for (const s of document.scripts) {
      const own = s.src ? new URL(s.src).pathname === '/map/catalog.js' : s.type === 'application/json' && s.id === 'page-geojson';
      if (!own) found.push(`foreign script element: ${s.outerHTML.slice(0, 80)}`);
    }
    for (const tag of ['img', 'svg', 'iframe', 'object', 'b', 'i']) {
      const els = [...document.querySelectorAll(`main ${tag}, header ${tag}`)].filter((e) => !e.closest('.leaflet-container'));
      if (els.length) found.push(`${els.length} <${tag}> element(s) from the data`);
    }
    return found;
  });
}

/** Hovers every path and marker of the open page's map, opening each feature's tooltip. */
async function hoverFeatures(page) {
  const parts = await page.$$('#catalog-map .leaflet-interactive');
  for (const el of parts) await el.hover({ force: true }).catch(() => {});
  return parts.length;
}

async function checkHostile(page, log) {
  const origin = new URL(FIXTURE).origin;
  const hostile = (await getJson(`${FIXTURE}/collections/notes/items?limit=100`)).features;
  const texts = hostile.flatMap((f) => [String(f.id), ...Object.keys(f.properties),
    ...Object.values(f.properties).filter((v) => typeof v === 'string')]).filter((t) => t.includes('<'));
  assert(texts.length >= 4, 'the fixture lost its markup');

  await check('fixture: markup in values, keys, ids and the title shows as text and runs nothing', async () => {
    const pages = [`${FIXTURE}/?f=html`, `${FIXTURE}/collections`, `${FIXTURE}/collections/notes`,
      `${FIXTURE}/collections/notes/items?limit=100`, `${FIXTURE}/collections/notes/queryables`,
      `${FIXTURE}/tiles`, `${FIXTURE}/collections/notes/tiles`,
      ...hostile.map((f) => `${FIXTURE}/collections/notes/items/${encodeURIComponent(String(f.id))}`)];
    for (const url of pages) {
      await open(page, log, url, origin);
      const hovered = await hoverFeatures(page);
      const found = await injected(page);
      assert(found.length === 0, `${url} (${hovered} features hovered):\n${found.join('\n')}`);
    }
    // The tooltip of the feature whose id is markup shows the id as text.
    const marked = hostile.find((f) => String(f.id).includes('<') && f.geometry);
    await open(page, log, `${FIXTURE}/collections/notes/items/${encodeURIComponent(String(marked.id))}`, origin);
    await hoverFeatures(page);
    const tip = await page.$eval('.leaflet-tooltip', (el) => el.textContent).catch(() => null);
    assertEq(tip, String(marked.id), 'tooltip text of the feature whose id is markup');
    await page.goto(`${FIXTURE}/collections/notes/items?limit=100`);
    const text = await page.evaluate(() => document.body.innerText);
    const missing = texts.filter((t) => !text.includes(t));
    assert(missing.length === 0, `not shown as text: ${missing.join(' | ')}`);
  });

  await check('fixture: a feature written with markup shows it as text on its page and runs nothing', async () => {
    assert(TOKEN, 'ATLAS_FIXTURE_TOKEN is not set');
    const name = "<script>window.__xss = 'write'</script><img src=/xss-img onerror=\"window.__xss='write-img'\">";
    const r = await fetch(`${FIXTURE}/collections/notes/items`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/geo+json' },
      body: JSON.stringify({ type: 'Feature', geometry: { type: 'Point', coordinates: [67.1, 34.9] }, properties: { name, list: [name] } }),
    });
    assertEq(r.status, 201, `POST status (${await r.text()})`);
    const where = new URL(r.headers.get('location'), FIXTURE).href;
    await open(page, log, where, origin);
    await hoverFeatures(page);
    const found = await injected(page);
    assert(found.length === 0, found.join('\n'));
    const text = await page.evaluate(() => document.body.innerText);
    assert(text.includes(name), `the page does not show ${name}`);
    await checkMap(page, await pageFeatures(where), where);
  });

  await check('fixture: the pages walk through every feature, the one without geometry and the new one too', async () => {
    const all = await allFeatures(FIXTURE, 'notes');
    assert(all.some((f) => !f.geometry), 'the fixture has no feature without geometry');
    const pages = await walkPages(page, log, FIXTURE, 'notes', all);
    assert(pages >= 3, `only ${pages} pages`);
  });

  await check('the HTML pages carry the Content-Security-Policy (bypassed in this test)', async () => {
    const r = await fetch(`${FIXTURE}/collections/notes/items?f=html`);
    await r.arrayBuffer();
    assert((r.headers.get('content-security-policy') || '').includes("script-src 'self'"), 'no CSP');
  });
}

async function checkStoryMap(page, log) {
  await check('/ in a browser is the story map, which links to the HTML catalogue, which links back', async () => {
    const res = await page.goto(`${BASE}/`, { waitUntil: 'load' });
    assertEq(res.status(), 200, '/ status');
    await page.waitForSelector('#map.leaflet-container');
    assert(!(await page.$('body.catalogue')), '/ opened the catalogue, not the map');
    await Promise.all([page.waitForURL(/\/collections\?f=html$/), page.click('[data-testid=catalogue-link]')]);
    assert(await page.$('body.catalogue'), 'the catalogue link does not open the catalogue');
    await Promise.all([page.waitForURL(/\/map$/), page.click('[data-testid=map-link]')]);
    await page.waitForSelector('#map.leaflet-container');
    const problems = [...log.errors, ...log.failed, ...log.foreign];
    assert(problems.length === 0, problems.join('\n'));
  });
}

async function main(context) {
  const page = context.pages()[0] || await context.newPage();
  const started = Date.now();

  const log = watch(page, 'html');
  const { collections, features } = await checkResources(page, log, BASE, 'atlas');
  for (const c of collections) {
    await check(`atlas ${c.id}: the next links of the HTML pages reach every feature once, each page's map showing its features`, async () => {
      await walkPages(page, log, BASE, c.id, features.get(c.id));
    });
  }
  await page.screenshot({ path: join(ARTIFACTS, 'html-items.png') }).catch(() => {});

  const storyPage = await context.newPage();
  await checkStoryMap(storyPage, watch(storyPage, 'story'));
  await storyPage.close();

  if (FIXTURE) {
    const fixturePage = await context.newPage();
    const fixtureLog = watch(fixturePage, 'fixture', new URL(FIXTURE).origin);
    await checkResources(fixturePage, fixtureLog, FIXTURE, 'fixture');
    await checkHostile(fixturePage, fixtureLog);
    await fixturePage.screenshot({ path: join(ARTIFACTS, 'html-fixture.png') }).catch(() => {});
  } else {
    await check('ATLAS_FIXTURE_URL names the fixture server', async () => { throw new Error('not set'); });
  }
  console.log(`# html.test.mjs took ${((Date.now() - started) / 1000).toFixed(1)} s against ${ORIGIN}`);
}

run(main, { contextOptions: { bypassCSP: true } });
