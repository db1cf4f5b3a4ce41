// Text formatting: dates, months, distances, numbers, lists, escaping.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  asList, escapeHtml, fmtDate, fmtDistance, fmtMonth, hostOf, intOrNull, num,
} from '../src/format.js';

test('escapeHtml escapes the five HTML specials and stringifies', () => {
  assert.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;');
  assert.equal(escapeHtml(null), '');
  assert.equal(escapeHtml(undefined), '');
  assert.equal(escapeHtml(42), '42');
});

test('num groups thousands the British way', () => {
  assert.equal(num(1234567), '1,234,567');
  assert.equal(num(0), '0');
});

test('fmtDate writes day, month name and year', () => {
  assert.equal(fmtDate('2021-08-26'), '26 Aug 2021');
  assert.equal(fmtDate('2021-08-26', true), '26 August 2021');
  assert.equal(fmtDate('2021-01-05T10:00:00Z'), '5 Jan 2021');
  assert.equal(fmtDate('not a date'), 'not a date');
  assert.equal(fmtDate(null), '');
});

test('fmtMonth names a month index', () => {
  assert.equal(fmtMonth(2021 * 12 + 7), 'Aug 2021');
  assert.equal(fmtMonth(2015 * 12, true), 'January 2015');
});

test('fmtDistance uses metres under 1 km and km above', () => {
  assert.equal(fmtDistance(850.4), '850 m');
  assert.equal(fmtDistance(4200), '4.2 km');
  assert.equal(fmtDistance(37400), '37 km');
  assert.equal(fmtDistance(1234000), '1,234 km');
  assert.equal(fmtDistance(0), '0.0 km');
});

test('asList reads arrays, JSON and Python-style lists, and separated strings', () => {
  assert.deepEqual(asList(['a', 2]), ['a', '2']);
  assert.deepEqual(asList('["a", "b"]'), ['a', 'b']);
  assert.deepEqual(asList("['https://a.org/1', 'https://b.org/2']"), ['https://a.org/1', 'https://b.org/2']);
  assert.deepEqual(asList('a; b ;c'), ['a', 'b', 'c']);
  assert.deepEqual(asList('https://a.org/1 https://b.org/2'), ['https://a.org/1', 'https://b.org/2']);
  assert.deepEqual(asList(null), []);
  assert.deepEqual(asList(''), []);
});

test('intOrNull accepts numbers and numeric strings only', () => {
  assert.equal(intOrNull(3), 3);
  assert.equal(intOrNull('12'), 12);
  assert.equal(intOrNull(0), 0);
  assert.equal(intOrNull(''), null);
  assert.equal(intOrNull(null), null);
  assert.equal(intOrNull(undefined), null);
  assert.equal(intOrNull('many'), null);
});

test('hostOf gives the host without www', () => {
  assert.equal(hostOf('https://www.dawn.com/news/1'), 'dawn.com');
  assert.equal(hostOf('http://bbc.co.uk/x'), 'bbc.co.uk');
  assert.equal(hostOf('not a url'), 'not a url');
});
