// Popup HTML: what each popup says, and that every value from the data is escaped.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  incidentPopup, isApproximate, khorasanPopup, provincePopup, wilayatPopup,
} from '../src/popups.js';

const EVIL = '<img src=x onerror="alert(1)">';
const ESCAPED = '&lt;img src=x onerror=&quot;alert(1)&quot;&gt;';

/** Fails when raw markup from the data made it into `html`. */
function assertNoInjection(html) {
  assert.ok(!html.includes('<img'), `unescaped markup in:\n${html}`);
  assert.ok(html.includes(ESCAPED), `escaped value missing in:\n${html}`);
}

const incident = {
  id: 17,
  properties: {
    id: 'ISKP-2021-001',
    date: '2021-08-26',
    title: 'Kabul airport bombing',
    place: 'Kabul',
    province: 'Kabul',
    country: 'Afghanistan',
    deaths: 183,
    deaths_note: '170 Afghans and 13 US service members',
    injuries: '',
    target_type: 'Foreign evacuees and US troops',
    attack_type: 'Suicide bombing',
    responsibility: 'claimed',
    coord_precision: 'site',
    sources: ['https://www.bbc.co.uk/news/1', 'javascript:alert(1)', 'https://apnews.com/2'],
  },
};

test('incident popup: date, title, de-duplicated place, figures, category, precision', () => {
  const html = incidentPopup(incident);
  assert.match(html, /data-testid="incident-popup" data-id="ISKP-2021-001"/);
  assert.match(html, /<time datetime="2021-08-26">26 August 2021<\/time>/);
  assert.match(html, /Claimed by IS/);
  assert.match(html, /<h3 class="pop-title">Kabul airport bombing<\/h3>/);
  assert.match(html, /<p class="pop-place">Kabul, Afghanistan<\/p>/);
  assert.match(html, /<dt>Killed<\/dt><dd><strong>183<\/strong> <span class="note">\(170 Afghans and 13 US service members\)<\/span><\/dd>/);
  assert.match(html, /<dt>Injured<\/dt><dd><span class="unknown">not reported<\/span><\/dd>/);
  assert.match(html, /Foreign evacuees and US troops <span class="cat">\(Foreign, diplomatic and aid targets\)<\/span>/);
  assert.match(html, /Exact site/);
  assert.match(html, /ISKP-2021-001 · feature 17/);
});

test('incident popup links only http(s) sources, by host, in a new tab', () => {
  const html = incidentPopup(incident);
  assert.match(html, /data-testid="popup-sources"/);
  assert.match(html, /<a href="https:\/\/www\.bbc\.co\.uk\/news\/1" target="_blank" rel="noopener noreferrer external">bbc\.co\.uk<\/a>/);
  assert.match(html, />apnews\.com<\/a>/);
  assert.ok(!html.includes('javascript:'), 'a javascript: URL became a link');
  const none = incidentPopup({ id: 1, properties: { sources: [] } });
  assert.match(none, /No source link recorded\./);
});

test('incident popup: attributed attacks and approximate locations say so', () => {
  const html = incidentPopup({ id: 2, properties: { responsibility: 'attributed', coord_precision: 'city', coord_source: 'city centre' } });
  assert.match(html, /Attributed to ISIS-K \(no claim\)/);
  assert.match(html, /<dd class="approx">Approximate location: placed at the city centre <span class="note">\(city centre\)<\/span><\/dd>/);
  assert.ok(isApproximate('district_approx'));
  assert.ok(!isApproximate('site'));
});

test('incident popup escapes every property value', () => {
  const p = {};
  for (const k of ['id', 'date', 'title', 'place', 'province', 'country', 'deaths_note', 'injuries_note', 'target_type',
    'attack_type', 'claim_note', 'coord_precision', 'coord_source']) p[k] = `${k} ${EVIL}`;
  p.deaths = 1;
  p.injuries = 2;
  p.sources = [`https://example.org/?q=${EVIL}`];
  const html = incidentPopup({ id: EVIL, properties: p });
  assertNoInjection(html);
  assert.ok(!html.includes('"alert'), 'an attribute was broken out of');
});

test('khorasan popup: derivation, units, basis, source; escaped', () => {
  const html = khorasanPopup({
    properties: {
      name: 'Historical Khorasan', description: 'd', derivation: 'Union of provinces', units: ['Herat', 'Balkh'],
      historical_basis: 'Yaqut', source: 'Natural Earth',
    },
  });
  assert.match(html, /data-testid="khorasan-popup"/);
  assert.match(html, /Approximation, not a historical boundary/);
  assert.match(html, /<p data-testid="khorasan-derivation">Union of provinces<\/p>/);
  assert.match(html, /<ul><li>Herat<\/li><li>Balkh<\/li><\/ul>/);
  assert.match(html, /Historical basis<\/h4><p>Yaqut<\/p>/);
  assert.match(html, /Geometry: Natural Earth/);
  assertNoInjection(khorasanPopup({ properties: { name: EVIL, description: EVIL, derivation: EVIL, units: [EVIL], historical_basis: EVIL, source: EVIL } }));
});

test('wilayat popup: period and sources; escaped', () => {
  const html = wilayatPopup({ properties: { name: 'Wilayat Khurasan', period_start: '2015-01-26', period_end: null, sources: 'https://a.org/x' } });
  assert.match(html, /data-testid="wilayat-popup"/);
  assert.match(html, /Area claimed by IS · 26 Jan 2015 – today/);
  assert.match(html, />a\.org<\/a>/);
  assertNoInjection(wilayatPopup({ properties: { name: EVIL, description: EVIL, derivation: EVIL, period_start: EVIL } }));
});

test('province popup: count (singular, plural), period; escaped', () => {
  const one = provincePopup({ properties: { name: 'Nangarhar', type: 'Province', country: 'Afghanistan', incident_count: 1 } });
  assert.match(one, /<strong>1<\/strong> attack in this dataset \(all dates\)/);
  const many = provincePopup({ properties: { name: 'Kabul', incident_count: '38' }, rangeLabel: 'Aug 2021 – Dec 2021' });
  assert.match(many, /<strong>38<\/strong> attacks in this dataset in Aug 2021 – Dec 2021/);
  assert.match(provincePopup({ properties: { name: 'X' } }), /<strong>0<\/strong> attacks/);
  assertNoInjection(provincePopup({ properties: { name: EVIL, type: EVIL, country: EVIL, note: EVIL }, rangeLabel: EVIL }));
});
