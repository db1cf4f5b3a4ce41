// Colours, sizes and categories of both pages (the Leaflet map and the tile viewer): every
// colour their scripts draw with is defined here. Every palette is readable with the common
// forms of colour blindness: viridis for years (sequential, perceptually uniform), Okabe-Ito
// for target categories, a single-hue sand-to-brown ramp for the province counts.
// No DOM and no Leaflet: node can import this module.

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

/** Named colours of the layers other than incidents and province classes. */
export const PALETTE = Object.freeze({
  land: '#f3efe6', // countries: the basemap canvas and the tile viewer
  landOutline: '#b9b0a0',
  sea: '#cfe0ea', // tile viewer background
  region: '#efe9dc', // tile viewer: the countries_region layer
  regionOutline: '#8f8676',
  provinceOutline: '#ffffff',
  provinceHover: '#3a2a1c',
  khorasan: KHORASAN_COLOR,
  operating: '#fb6a4a', // tile viewer: where ISIS-K operated (outline; the map page colours by kind)
  wilayat: '#1b1b1b',
  wilayatPakistan: '#6b6b6b',
  radius: '#1d3c5a', // the radius tool's circle and centre
  halo: '#ffffff', // ring around small dots
  place: '#4d4d4d', // tile viewer: populated places
  incident: '#c0392b', // tile viewer: incidents (one colour; the map page colours by year or target)
  otherFill: '#9ecae1', // tile viewer: a layer the default atlas does not have
  otherLine: '#3182bd',
  otherPoint: '#08519c',
});

/** Fill colours and meanings of the operating-provinces kinds, strongest first. */
export const OPERATING_KINDS = Object.freeze([
  { kind: 'territorial_control', color: '#67000d', label: 'Territorial control', meaning: 'sources say ISIS-K held or governed districts, whole or in part' },
  { kind: 'stronghold', color: '#cb181d', label: 'Stronghold', meaning: 'called an ISIS-K base or stronghold, with held positions, short of district control' },
  { kind: 'presence', color: '#fb6a4a', label: 'Presence', meaning: 'fighters, cells, camps, hideouts or recruitment reported; no territory held' },
  { kind: 'cells_urban', color: '#6a51a3', label: 'Urban cells', meaning: 'clandestine cells or hideouts reported in a city' },
]);

/** The entry of OPERATING_KINDS for `kind` (an unknown kind gets a neutral grey). */
export function operatingKind(kind) {
  return OPERATING_KINDS.find((k) => k.kind === kind) || { kind, color: '#808080', label: String(kind ?? 'unknown'), meaning: '' };
}

/** Line styles of the IS "Wilayat Khurasan" phases, on the map and in its legend. */
export const WILAYAT_LINES = Object.freeze({
  early: { color: PALETTE.wilayat, weight: 2.4, dash: '1 5', legendHtml: '2015 – May 2019: Afghanistan and Pakistan' },
  late: { color: PALETTE.wilayat, weight: 2.4, dash: '12 4 2 4', legendHtml: 'since May 2019: Afghanistan' },
  pakistan: { color: PALETTE.wilayatPakistan, weight: 1.6, dash: '2 6', legendHtml: 'IS &ldquo;Pakistan Province&rdquo; since 2019' },
});

/** The line style of one Wilayat feature, from its `wilayah`, `phase` and `period_start`. */
export function wilayatLine(p) {
  if (/pakistan/i.test(p.wilayah || '')) return WILAYAT_LINES.pakistan;
  const late = /^2019/.test(p.phase || '') || (p.period_start || '') >= '2019';
  return late ? WILAYAT_LINES.late : WILAYAT_LINES.early;
}

/**
 * Colour of an incident (its properties `p`): by target category, or by year within
 * `years` ([first, last]) on the viridis ramp.
 */
export function incidentColor(p, { by, years }) {
  if (by === 'target') return targetCategory(p.target_type).color;
  const y = +(String(p.date || '').slice(0, 4)) || years[0];
  return yearColor(y, years[0], years[1]);
}
