// The only module that talks to the server: the public OGC API Features endpoints (the same
// ones GIS clients use), the tile catalogue, and the live-update event stream, always with
// same-origin paths. URL building is separate from fetching so both can be tested.
// No DOM and no Leaflet: node can import this module.

/** The page's own URL, against which the server's links are resolved. */
const pageHref = () => (globalThis.location ? globalThis.location.href : undefined);

/** Turns a link from the server (e.g. an absolute `next` link) into a path on this origin. */
export function sameOriginPath(href, base = pageHref()) {
  const u = new URL(href, base);
  return u.pathname + u.search;
}

/** `/collections/{collection}/items?limit=10000&...params`: the items URL the page asks for. */
export function itemsUrl(collection, params = {}) {
  const q = new URLSearchParams({ limit: '10000', ...params });
  return `/collections/${encodeURIComponent(collection)}/items?${q}`;
}

/** The radius query: features within `km` of (lon, lat), optionally in a `datetime` range. */
export function radiusUrl(collection, lon, lat, km, datetime = null) {
  const q = new URLSearchParams({
    coords: `POINT(${lon} ${lat})`,
    within: String(km),
    'within-units': 'km',
    limit: '10000',
  });
  if (datetime) q.set('datetime', datetime);
  return `/collections/${encodeURIComponent(collection)}/radius?${q}`;
}

/**
 * GETs JSON; throws an Error naming the URL and the server's problem detail on a non-2xx.
 * No custom headers: the request must match index.html's <link rel=preload> to reuse it
 * (the API answers JSON and GeoJSON to the browser's default Accept).
 */
export async function getJSON(url, { signal } = {}) {
  const r = await fetch(url, { signal });
  if (!r.ok) {
    let detail = '';
    try {
      const p = await r.json();
      detail = p.detail || p.title || '';
    } catch { /* body was not JSON */ }
    throw new Error(`${url}: HTTP ${r.status}${detail ? ` (${detail})` : ''}`);
  }
  return r.json();
}

/** The /collections document. */
export const getCollections = () => getJSON('/collections');

/** The /tiles catalogue of tilesets. */
export const getTileCatalogue = () => getJSON('/tiles');

/** Path on this origin of a tileset's TileJSON (the catalogue gives it as an absolute URL). */
export const tileJsonPath = (tileset) => new URL(tileset.tilejson, pageHref()).pathname;

/**
 * All features of a collection matching `params` (bbox, datetime, ...), following `next`
 * links. Returns { features, numberMatched }.
 */
export async function getAllItems(collection, params = {}, { signal } = {}) {
  let url = itemsUrl(collection, params);
  const features = [];
  let numberMatched;
  for (let page = 0; url && page < 1000; page += 1) {
    const fc = await getJSON(url, { signal });
    if (numberMatched === undefined && typeof fc.numberMatched === 'number') numberMatched = fc.numberMatched;
    features.push(...(fc.features || []));
    const next = (fc.links || []).find((l) => l.rel === 'next');
    url = next && (fc.features || []).length > 0 ? sameOriginPath(next.href) : null;
  }
  return { features, numberMatched: numberMatched ?? features.length };
}

/**
 * Features within `km` of (lon, lat), nearest first, each with properties.distance_m;
 * `datetime` (optional) restricts them to a time range, as for items.
 */
export function getRadius(collection, lon, lat, km, { datetime = null, signal } = {}) {
  return getJSON(radiusUrl(collection, lon, lat, km, datetime), { signal });
}

/**
 * The event stream a /collections document advertises for `collection` (a link of type
 * text/event-stream naming it, on the collection or on the document), or null.
 */
export function eventStreamHref(collectionsDoc, collection) {
  const entry = (collectionsDoc.collections || []).find((c) => c.id === collection);
  const links = [...((entry && entry.links) || []), ...(collectionsDoc.links || [])];
  const link = links.find((l) => l && l.type === 'text/event-stream' && (l.href || '').includes(collection));
  return link ? link.href : null;
}

/** An EventSource on `href` (made same-origin), or null where the browser has none. */
export function openEventStream(href) {
  if (typeof EventSource === 'undefined') return null;
  return new EventSource(sameOriginPath(href));
}
