// The operating-provinces popup and kinds: periods as the data gives them, values escaped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { operatingPopup, periodText } from '../src/popups.js';
import { OPERATING_KINDS, operatingKind } from '../src/style.js';

const EVIL = '<img src=x onerror="alert(1)">';

test('periodText shows years and months as given and an open end as still reported', () => {
  assert.equal(periodText('2015', '2019-11'), '2015 – 2019-11');
  assert.equal(periodText('2016', null), '2016 – still reported');
  assert.equal(periodText('2021', undefined), '2021 – still reported');
});

test('operatingKind knows the four kinds and greys an unknown one', () => {
  assert.deepEqual(OPERATING_KINDS.map((k) => k.kind), ['territorial_control', 'stronghold', 'presence', 'cells_urban']);
  assert.equal(operatingKind('stronghold').label, 'Stronghold');
  assert.equal(operatingKind('other').color, '#808080');
});

test('operatingPopup shows kind, period, note and sources, all escaped', () => {
  const html = operatingPopup({
    id: 3,
    properties: {
      id: 'presence-001', province: EVIL, kind: 'territorial_control', start: '2015', end: null,
      note: EVIL, sources: ['https://example.org/a', 'javascript:alert(1)'],
    },
  });
  assert.ok(!html.includes('<img'), html);
  assert.ok(html.includes('Territorial control'));
  assert.ok(html.includes('2015 – still reported'));
  assert.ok(html.includes('href="https://example.org/a"'));
  assert.ok(!html.includes('javascript:'));
});
