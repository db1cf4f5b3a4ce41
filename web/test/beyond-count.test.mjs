// Incidents outside a bounding box, by country.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countOutside, inBbox } from '../src/beyond-count.js';

const point = (lon, lat, props) => ({ type: 'Feature', geometry: { type: 'Point', coordinates: [lon, lat] }, properties: props });

test('inBbox includes the edges', () => {
  const box = [56.5, 24.5, 75.5, 40.8];
  assert.equal(inBbox([56.5, 24.5], box), true);
  assert.equal(inBbox([75.5, 40.8], box), true);
  assert.equal(inBbox([56.4, 30], box), false);
  assert.equal(inBbox([60, 40.9], box), false);
});

test('countOutside counts by country, most first, and skips what is inside', () => {
  const box = [56.5, 24.5, 75.5, 40.8];
  const features = [
    point(69.2, 34.5, { country: 'Afghanistan' }),
    point(37.4, 55.8, { country: 'Russia' }),
    point(52.5, 29.6, { country: 'Iran' }),
    point(57.1, 30.3, { country: 'Iran' }),
    point(54.0, 36.0, { country_iso_a2: 'IR' }),
    point(28.9, 41.0, {}),
    { type: 'Feature', geometry: null, properties: { country: 'Nowhere' } },
  ];
  const r = countOutside(features, box);
  assert.equal(r.total, 4);
  assert.deepEqual(r.byCountry, [['IR', 1], ['Iran', 1], ['Russia', 1], ['unknown', 1]]);
  assert.deepEqual(countOutside([], box), { total: 0, byCountry: [] });
});
