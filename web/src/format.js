// Text formatting shared by the popup, the time bar and the radius list.

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const MONTHS_LONG = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August',
  'September', 'October', 'November', 'December'];

export function escapeHtml(s) {
  return String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
}

const nf = new Intl.NumberFormat('en-GB');
export const num = (n) => nf.format(n);

/** "2021-08-26" -> "26 Aug 2021" (or "26 August 2021" with long=true). */
export function fmtDate(iso, long = false) {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(iso || '');
  if (!m) return iso || '';
  return `${+m[3]} ${(long ? MONTHS_LONG : MONTHS)[+m[2] - 1]} ${m[1]}`;
}

/** Month index (year*12 + month0) -> "Aug 2021". */
export const fmtMonth = (mi, long = false) => `${(long ? MONTHS_LONG : MONTHS)[mi % 12]} ${Math.floor(mi / 12)}`;

/** Metres -> "850 m", "4.2 km", "37 km". */
export function fmtDistance(m) {
  if (m < 1000 && m > 0) return `${Math.round(m)} m`;
  const km = m / 1000;
  return km < 10 ? `${km.toFixed(1)} km` : `${num(Math.round(km))} km`;
}

/**
 * A list property as an array. The atlas stores lists as JSON arrays, but a layer loaded from
 * another source may hold "['a', 'b']" or "a; b" strings.
 */
export function asList(v) {
  if (Array.isArray(v)) return v.map(String);
  if (v == null || v === '') return [];
  const s = String(v).trim();
  if (s.startsWith('[')) {
    try { return JSON.parse(s).map(String); } catch { /* not JSON */ }
    return s.slice(1, -1).split(/',\s*'|",\s*"/).map((x) => x.replace(/^['"]|['"]$/g, '').trim()).filter(Boolean);
  }
  return s.split(/\s*;\s*|\s+(?=https?:\/\/)/).filter(Boolean);
}

/** A number or null: accepts ints, numeric strings; null/''/non-numbers -> null. */
export function intOrNull(v) {
  if (v === null || v === undefined || v === '') return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
}

/** "https://www.dawn.com/news/1" -> "dawn.com" */
export function hostOf(url) {
  try { return new URL(url).hostname.replace(/^www\./, ''); } catch { return url; }
}
