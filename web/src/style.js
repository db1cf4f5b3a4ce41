// Colours, sizes and categories. Every palette here is readable with the common forms of
// colour blindness: viridis for years (sequential, perceptually uniform), Okabe-Ito for
// target categories, a single-hue sand-to-brown ramp for the province counts.

// Viridis sampled at t = 0, 0.1, ..., 1 (matplotlib's published values, rounded).
const VIRIDIS = ['#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c',
  '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725'];

function hexToRgb(h) { return [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16)); }
function rgbToHex(c) { return `#${c.map((x) => Math.round(x).toString(16).padStart(2, '0')).join('')}`; }

/** Viridis colour at t in [0, 1]. */
export function viridis(t) {
  const x = Math.min(1, Math.max(0, t)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const a = hexToRgb(VIRIDIS[i]);
  const b = hexToRgb(VIRIDIS[i + 1]);
  const f = x - i;
  return rgbToHex(a.map((v, k) => v + (b[k] - v) * f));
}

/** Colour of a year within [y0, y1]. */
export function yearColor(year, y0, y1) {
  return viridis(y1 > y0 ? (year - y0) / (y1 - y0) : 0.5);
}

// Target categories: a grouping of the free-text `target_type` made on this page (the data has
// no category field). Tested in order; the first match wins.
export const TARGETS = [
  { key: 'minority', label: 'Sikh, Hindu, Christian and Sufi communities', color: '#CC79A7', re: /sikh|hindu|christian|sufi/i },
  { key: 'shia', label: 'Shia and Hazara communities', color: '#0072B2', re: /shia|hazara|ashura|arbaeen|muharram|karbala/i },
  { key: 'taliban', label: 'Taliban officials and fighters', color: '#E69F00', re: /taliban/i },
  { key: 'foreign', label: 'Foreign, diplomatic and aid targets', color: '#009E73', re: /diplomatic|embassy|consulate|foreign tourists|international|chinese|evacuees|\bngo\b|deminers|uzbek|tajik/i },
  { key: 'political', label: 'Politicians, parties and clerics', color: '#56B4E9', re: /politic|election|rally|senator|party|scholars|cleric|convention/i },
  { key: 'state', label: 'State, security forces and officials', color: '#D55E00', re: /ministry|government|judicial|military|police|prison|prosecution|governor|officials|bank/i },
  { key: 'other', label: 'Other civilians (media, schools, crowds)', color: '#8a8a8a', re: /./ },
];

export function targetCategory(targetType) {
  return TARGETS.find((t) => t.re.test(targetType || '')) || TARGETS[TARGETS.length - 1];
}

/** Marker diameter in CSS pixels: area grows with deaths; unknown tolls get the smallest size. */
export function deathsDiameter(deaths) {
  if (deaths == null) return 10;
  return Math.round(8 + 2.6 * Math.sqrt(Math.max(0, deaths)));
}

// Provinces shaded by number of attacks: class upper bounds (inclusive) and colours.
export const PROVINCE_CLASSES = [
  { max: 0, label: '0', color: '#f4efe6' },
  { max: 1, label: '1', color: '#e8dbc4' },
  { max: 3, label: '2–3', color: '#d6bd97' },
  { max: 9, label: '4–9', color: '#bf9a6c' },
  { max: 19, label: '10–19', color: '#9c7049' },
  { max: Infinity, label: '20+', color: '#6f4a2e' },
];

export function provinceColor(count) {
  const n = count ?? 0;
  return (PROVINCE_CLASSES.find((c) => n <= c.max) || PROVINCE_CLASSES[PROVINCE_CLASSES.length - 1]).color;
}

export const KHORASAN_COLOR = '#0b5c73';
