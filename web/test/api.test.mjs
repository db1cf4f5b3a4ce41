// The server API: the URLs the page asks for (index.html preloads some of them, so they must
// not change by accident), paging through `next` links, errors, and event stream discovery.
// globalThis.fetch is replaced by a stub that records the URLs and answers from a table.
import assert from 'node:assert/strict';
import { afterEach, beforeEach, test } from 'node:test';
import {
  eventStreamHref, getAllItems, getCollections, getJSON, getRadius, getTileCatalogue, itemsUrl, openEventStream,
  radiusUrl, sameOriginPath, tileJsonPath,
} from '../src/api.js';

const realFetch = globalThis.fetch;
let requested = [];

/** Answers each URL from `answers` ({ url: body } or { url: { status, body } }); records the URLs. */
function stubFetch(answers) {
  globalThis.fetch = async (url, init) => {
    requested.push({ url, init });
    if (!(url in answers)) return new Response('{"title":"Not Found"}', { status: 404 });
    const a = answers[url];
    const { status = 200, body } = a && a.status ? a : { body: a };
    return new Response(typeof body === 'string' ? body : JSON.stringify(body), { status });
  };
}

beforeEach(() => {
  requested = [];
  globalThis.location = new URL('http://atlas.test:8080/map/');
});
afterEach(() => {
  globalThis.fetch = realFetch;
  delete globalThis.location;
});

test('itemsUrl: limit first, then the parameters in order, encoded (as index.html preloads them)', () => {
  assert.equal(itemsUrl('incidents'), '/collections/incidents/items?limit=10000');
  assert.equal(itemsUrl('countries', { properties: 'name' }), '/collections/countries/items?limit=10000&properties=name');
  assert.equal(itemsUrl('places', { properties: 'name,population' }), '/collections/places/items?limit=10000&properties=name%2Cpopulation');
  assert.equal(itemsUrl('incidents', { datetime: '2017-03-01/..' }), '/collections/incidents/items?limit=10000&datetime=2017-03-01%2F..');
  assert.equal(itemsUrl('a b/c'), '/collections/a%20b%2Fc/items?limit=10000');
});

test('radiusUrl: WKT point, distance in km, datetime only when given', () => {
  assert.equal(radiusUrl('incidents', 69.1, 34.5, 150),
    '/collections/incidents/radius?coords=POINT%2869.1+34.5%29&within=150&within-units=km&limit=10000');
  assert.equal(radiusUrl('incidents', -1.5, 2, 10, '../2020-01-31'),
    '/collections/incidents/radius?coords=POINT%28-1.5+2%29&within=10&within-units=km&limit=10000&datetime=..%2F2020-01-31');
});

test('sameOriginPath keeps path and query of a link, on any origin', () => {
  assert.equal(sameOriginPath('http://example.org:9/collections/x/items?offset=10&limit=5'), '/collections/x/items?offset=10&limit=5');
  assert.equal(sameOriginPath('../collections?f=json'), '/collections?f=json');
  assert.equal(sameOriginPath('items', 'http://h/collections/x/'), '/collections/x/items');
});

test('tileJsonPath is the path of the TileJSON link', () => {
  assert.equal(tileJsonPath({ tilejson: 'http://0.0.0.0:8080/tiles/incidents' }), '/tiles/incidents');
});

test('getJSON sends no custom headers (to reuse the preloads) and returns the body', async () => {
  stubFetch({ '/collections': { collections: [] } });
  assert.deepEqual(await getCollections(), { collections: [] });
  assert.equal(requested.length, 1);
  assert.equal(requested[0].init.headers, undefined);
});

test('getJSON names the URL, the status and the problem detail', async () => {
  stubFetch({ '/bad': { status: 400, body: { title: 'Bad Request', detail: 'bbox has 3 numbers' } }, '/html': { status: 502, body: '<html>' } });
  await assert.rejects(getJSON('/bad'), { message: '/bad: HTTP 400 (bbox has 3 numbers)' });
  await assert.rejects(getJSON('/html'), { message: '/html: HTTP 502' });
  await assert.rejects(getJSON('/missing'), { message: '/missing: HTTP 404 (Not Found)' });
});

test('getTileCatalogue asks for /tiles', async () => {
  stubFetch({ '/tiles': { tilesets: [] } });
  await getTileCatalogue();
  assert.deepEqual(requested.map((r) => r.url), ['/tiles']);
});

test('getAllItems follows next links (made same-origin) and keeps the first numberMatched', async () => {
  const f = (id) => ({ type: 'Feature', id, properties: {}, geometry: null });
  stubFetch({
    '/collections/incidents/items?limit=10000&datetime=2020-01-01%2F..': {
      numberMatched: 3, features: [f(1), f(2)], links: [{ rel: 'next', href: 'http://0.0.0.0:8080/collections/incidents/items?offset=2' }],
    },
    '/collections/incidents/items?offset=2': {
      numberMatched: 99, features: [f(3)], links: [{ rel: 'next', href: 'http://0.0.0.0:8080/collections/incidents/items?offset=3' }],
    },
    '/collections/incidents/items?offset=3': { features: [], links: [{ rel: 'next', href: '/never' }] },
  });
  const r = await getAllItems('incidents', { datetime: '2020-01-01/..' });
  assert.deepEqual(r.features.map((x) => x.id), [1, 2, 3]);
  assert.equal(r.numberMatched, 3);
  assert.deepEqual(requested.map((x) => x.url), [
    '/collections/incidents/items?limit=10000&datetime=2020-01-01%2F..',
    '/collections/incidents/items?offset=2',
    '/collections/incidents/items?offset=3',
  ]);
});

test('getAllItems counts the features when the server gives no numberMatched', async () => {
  stubFetch({ '/collections/places/items?limit=10000': { features: [{}, {}] } });
  assert.equal((await getAllItems('places')).numberMatched, 2);
});

test('getRadius asks for the radius URL and passes the abort signal', async () => {
  const url = radiusUrl('incidents', 69, 34, 50, '2019-01-01/2019-12-31');
  stubFetch({ [url]: { features: [] } });
  const ctrl = new AbortController();
  await getRadius('incidents', 69, 34, 50, { datetime: '2019-01-01/2019-12-31', signal: ctrl.signal });
  assert.equal(requested[0].url, url);
  assert.equal(requested[0].init.signal, ctrl.signal);
});

test('eventStreamHref finds the incidents stream on the collection or the document', () => {
  const stream = { rel: 'alternate', type: 'text/event-stream', href: 'http://h/collections/incidents/events' };
  assert.equal(eventStreamHref({ collections: [{ id: 'incidents', links: [stream] }] }, 'incidents'), stream.href);
  assert.equal(eventStreamHref({ collections: [], links: [stream] }, 'incidents'), stream.href);
  assert.equal(eventStreamHref({ collections: [{ id: 'incidents', links: [{ type: 'application/json', href: '/x/incidents' }] }] }, 'incidents'), null);
  assert.equal(eventStreamHref({ links: [{ type: 'text/event-stream', href: '/collections/places/events' }] }, 'incidents'), null);
});

test('openEventStream opens the same-origin path, or gives null without EventSource', () => {
  assert.equal(openEventStream('/collections/incidents/events'), null);
  const opened = [];
  globalThis.EventSource = class { constructor(url) { opened.push(url); } };
  try {
    assert.ok(openEventStream('http://elsewhere:1/collections/incidents/events?x=1'));
    assert.deepEqual(opened, ['/collections/incidents/events?x=1']);
  } finally {
    delete globalThis.EventSource;
  }
});
