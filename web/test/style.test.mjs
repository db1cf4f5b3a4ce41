// Colours and sizes: the palettes both pages draw with.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  PALETTE, PROVINCE_CLASSES, WILAYAT_LINES, deathsDiameter, incidentColor, provinceColor, targetCategory, viridis, wilayatLine,
} from '../src/style.js';

test('viridis runs from purple to yellow', () => {
  assert.equal(viridis(0), '#440154');
  assert.equal(viridis(1), '#fde725');
  assert.equal(viridis(-3), '#440154');
  assert.equal(viridis(0.5), '#21918c');
});

test('every palette colour is a hex colour', () => {
  for (const [name, c] of Object.entries(PALETTE)) assert.match(c, /^#[0-9a-f]{6}$/i, name);
});

test('province classes cover every count', () => {
  assert.equal(provinceColor(0), PROVINCE_CLASSES[0].color);
  assert.equal(provinceColor(null), PROVINCE_CLASSES[0].color);
  assert.equal(provinceColor(2), PROVINCE_CLASSES[2].color);
  assert.equal(provinceColor(500), PROVINCE_CLASSES[PROVINCE_CLASSES.length - 1].color);
});

test('incidents are coloured by year or by target category', () => {
  const p = { date: '2015-06-01', target_type: 'Hazara school' };
  assert.equal(incidentColor(p, { by: 'year', years: [2015, 2025] }), viridis(0));
  assert.equal(incidentColor({ date: '2025-01-01' }, { by: 'year', years: [2015, 2025] }), viridis(1));
  assert.equal(incidentColor(p, { by: 'target', years: [2015, 2025] }), targetCategory('Hazara school').color);
  assert.equal(targetCategory('Hazara school').key, 'shia');
  assert.equal(targetCategory(undefined).key, 'other');
});

test('wilayat phases get their line style', () => {
  assert.equal(wilayatLine({ wilayah: 'Pakistan Province' }), WILAYAT_LINES.pakistan);
  assert.equal(wilayatLine({ period_start: '2019-05-10' }), WILAYAT_LINES.late);
  assert.equal(wilayatLine({ phase: '2015-2019' }), WILAYAT_LINES.early);
});

test('marker size grows with deaths; unknown tolls get the smallest', () => {
  assert.equal(deathsDiameter(null), 10);
  assert.equal(deathsDiameter(0), 8);
  assert.ok(deathsDiameter(150) > deathsDiameter(10));
});
