// Months and periods: the time bar works in month indices (year * 12 + month0); the API takes
// an ISO 8601 `datetime` interval. No DOM and no Leaflet: node can import this module.
import { monthParam } from './permalink.js';

/** "2021-08-26" (or "2021-08") -> month index, or null. */
export function monthOf(iso) {
  const m = /^(\d{4})-(\d{2})/.exec(iso || '');
  return m ? +m[1] * 12 + (+m[2] - 1) : null;
}

/**
 * The months the time bar spans: the collection's temporal extent in the /collections
 * document, else the first and last of the features' `date`, else 2015 alone.
 * Returns [first, last] month indices, last >= first.
 */
export function timeDomain(collectionsDoc, collection, features) {
  const entry = collectionsDoc && (collectionsDoc.collections || []).find((c) => c.id === collection);
  const interval = entry && entry.extent && entry.extent.temporal
    && entry.extent.temporal.interval && entry.extent.temporal.interval[0];
  const dates = (features || []).map((f) => f.properties.date).filter(Boolean).sort();
  const lo = monthOf(interval && interval[0]) ?? monthOf(dates[0]) ?? 2015 * 12;
  const hi = monthOf(interval && interval[1]) ?? monthOf(dates[dates.length - 1]) ?? lo;
  return [lo, Math.max(lo, hi)];
}

/**
 * The `datetime` parameter for a time bar range ({ from, to, full, openStart, openEnd }):
 * whole months, `..` on an open side, null when the range is everything.
 */
export function datetimeParam(range) {
  if (range.full) return null;
  const start = range.openStart ? '..' : `${monthParam(range.from)}-01`;
  let end = '..';
  if (!range.openEnd) {
    const y = Math.floor(range.to / 12);
    const m = range.to % 12;
    const last = new Date(Date.UTC(y, m + 1, 0)).getUTCDate();
    end = `${monthParam(range.to)}-${String(last).padStart(2, '0')}`;
  }
  return `${start}/${end}`;
}
