// Months and the `datetime` parameter of a time bar range.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { datetimeParam, monthOf, timeDomain } from '../src/period.js';

const month = (y, m) => y * 12 + (m - 1);
const range = (from, to, min, max) => ({ from, to, openStart: from <= min, openEnd: to >= max, full: from <= min && to >= max });

test('monthOf reads the year and month of a date', () => {
  assert.equal(monthOf('2021-08-26'), month(2021, 8));
  assert.equal(monthOf('2015-01'), month(2015, 1));
  assert.equal(monthOf(''), null);
  assert.equal(monthOf(null), null);
});

test('datetimeParam: whole months, open ends as "..", null for everything', () => {
  const min = month(2015, 1);
  const max = month(2026, 2);
  assert.equal(datetimeParam(range(min, max, min, max)), null);
  assert.equal(datetimeParam(range(month(2017, 3), month(2019, 2), min, max)), '2017-03-01/2019-02-28');
  assert.equal(datetimeParam(range(month(2020, 2), month(2020, 2), min, max)), '2020-02-01/2020-02-29');
  assert.equal(datetimeParam(range(min, month(2018, 12), min, max)), '../2018-12-31');
  assert.equal(datetimeParam(range(month(2024, 4), max, min, max)), '2024-04-01/..');
});

test('timeDomain prefers the temporal extent, then the features, then 2015', () => {
  const doc = { collections: [{ id: 'incidents', extent: { temporal: { interval: [['2015-04-01T00:00:00Z', '2026-02-10T00:00:00Z']] } } }] };
  const features = [{ properties: { date: '2019-05-01' } }, { properties: { date: '2016-07-03' } }, { properties: {} }];
  assert.deepEqual(timeDomain(doc, 'incidents', features), [month(2015, 4), month(2026, 2)]);
  assert.deepEqual(timeDomain(null, 'incidents', features), [month(2016, 7), month(2019, 5)]);
  assert.deepEqual(timeDomain({ collections: [] }, 'incidents', []), [month(2015, 1), month(2015, 1)]);
  const open = { collections: [{ id: 'incidents', extent: { temporal: { interval: [['2018-01-01', null]] } } }] };
  assert.deepEqual(timeDomain(open, 'incidents', features), [month(2018, 1), month(2019, 5)]);
});
