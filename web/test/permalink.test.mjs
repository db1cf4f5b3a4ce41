// The URL hash: what formatHash writes, parseHash reads back, and what parseHash rejects.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatHash, monthParam, parseHash } from '../src/permalink.js';

const month = (y, m) => y * 12 + (m - 1);

test('monthParam writes YYYY-MM', () => {
  assert.equal(monthParam(month(2021, 8)), '2021-08');
  assert.equal(monthParam(month(2015, 1)), '2015-01');
  assert.equal(monthParam(month(2026, 12)), '2026-12');
});

test('formatHash writes every part in order', () => {
  const hash = formatHash({
    view: { zoom: 6.5, lat: 34.5, lng: 69.25 },
    from: month(2017, 3),
    to: month(2019, 11),
    layers: new Set(['countries', 'incidents']),
    color: 'target',
    radius: { lat: 34.123456, lng: 69.5, km: 150 },
  });
  assert.equal(hash, '#map=6.5/34.500/69.250&from=2017-03&to=2019-11&layers=countries,incidents&color=target&radius=34.1235,69.5000,150');
});

test('formatHash leaves out the parts that are not set', () => {
  assert.equal(formatHash({ view: null, from: null, to: null, layers: null, color: null, radius: null }), '#');
  assert.equal(formatHash({ view: { zoom: 2, lat: 0, lng: 0 }, from: null, to: month(2020, 1) }), '#map=2/0.00/0.00&to=2020-01');
});

test('the view keeps more decimals at higher zooms', () => {
  assert.match(formatHash({ view: { zoom: 11, lat: 34.123456, lng: 69.123456 } }), /^#map=11\/34\.1235\/69\.1235$/);
});

test('parseHash reads what formatHash wrote', () => {
  const state = {
    view: { zoom: 7.25, lat: 33.5, lng: 70.125 },
    from: month(2016, 2),
    to: month(2022, 10),
    layers: new Set(['provinces', 'wilayat']),
    color: 'year',
    radius: { lat: 34.5, lng: 69.25, km: 50 },
  };
  const back = parseHash(formatHash(state));
  assert.deepEqual(back.view, { zoom: 7.25, lat: 33.5, lng: 70.125 });
  assert.equal(back.from, state.from);
  assert.equal(back.to, state.to);
  assert.deepEqual([...back.layers], ['provinces', 'wilayat']);
  assert.equal(back.color, 'year');
  assert.deepEqual(back.radius, { lat: 34.5, lng: 69.25, km: 50 });
});

test('parseHash of an empty hash has nothing set', () => {
  for (const h of ['', '#', null, undefined]) {
    assert.deepEqual(parseHash(h), { view: null, from: null, to: null, layers: null, color: null, radius: null });
  }
});

test('parseHash ignores malformed parts', () => {
  const h = parseHash('#map=5/95/10&from=2020-13&to=20-01&color=red&radius=1,2,0');
  assert.equal(h.view, null, 'latitude beyond 90');
  assert.equal(h.from, null, 'month 13');
  assert.equal(h.to, null, 'two-digit year');
  assert.equal(h.color, null, 'unknown colouring');
  assert.equal(h.radius, null, 'zero radius');
  assert.equal(parseHash('#map=5/abc/10').view, null);
  assert.equal(parseHash('#map=5/30').view, null);
});

test('an empty layers list means no layer, not the default ones', () => {
  assert.deepEqual([...parseHash('#layers=').layers], []);
  assert.equal(parseHash('#map=3/0/0').layers, null);
});
