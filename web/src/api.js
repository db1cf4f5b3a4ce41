// The only module that talks to the server. It uses the public OGC API Features endpoints,
// the same ones GIS clients use, always with same-origin paths.

/** Turns an absolute link from the server (e.g. a `next` link) into a path on this origin. */
export function sameOriginPath(href) {
  const u = new URL(href, window.location.href);
  return u.pathname + u.search;
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

/**
 * All features of a collection matching `params` (bbox, datetime, ...), following `next`
 * links. Returns { features, numberMatched }.
 */
export async function getAllItems(collection, params = {}, { signal } = {}) {
  const q = new URLSearchParams({ limit: '10000', ...params });
  let url = `/collections/${encodeURIComponent(collection)}/items?${q}`;
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
export async function getRadius(collection, lon, lat, km, { datetime = null, signal } = {}) {
  const q = new URLSearchParams({
    coords: `POINT(${lon} ${lat})`,
    within: String(km),
    'within-units': 'km',
    limit: '10000',
  });
  if (datetime) q.set('datetime', datetime);
  return getJSON(`/collections/${encodeURIComponent(collection)}/radius?${q}`, { signal });
}
