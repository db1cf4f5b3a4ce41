// The URL hash holds the view so a link reproduces it:
//   #map=<zoom>/<lat>/<lon>&from=YYYY-MM&to=YYYY-MM&layers=a,b,c&color=year|target&radius=<lat>,<lon>,<km>
// `from`/`to` are left out when the time range is open on that side.

const num = (s) => (s !== undefined && s !== '' && Number.isFinite(Number(s)) ? Number(s) : null);

export function parseHash(hash) {
  const out = { view: null, from: null, to: null, layers: null, color: null, radius: null };
  const params = new URLSearchParams(String(hash || '').replace(/^#/, ''));
  const m = (params.get('map') || '').split('/').map(num);
  if (m.length === 3 && m.every((x) => x !== null) && Math.abs(m[1]) <= 90 && Math.abs(m[2]) <= 360) {
    out.view = { zoom: m[0], lat: m[1], lng: m[2] };
  }
  const month = /^(\d{4})-(\d{2})$/;
  for (const k of ['from', 'to']) {
    const v = month.exec(params.get(k) || '');
    if (v && +v[2] >= 1 && +v[2] <= 12) out[k] = (+v[1]) * 12 + (+v[2] - 1);
  }
  if (params.has('layers')) out.layers = new Set((params.get('layers') || '').split(',').filter(Boolean));
  if (['year', 'target'].includes(params.get('color'))) out.color = params.get('color');
  const r = (params.get('radius') || '').split(',').map(num);
  if (r.length === 3 && r.every((x) => x !== null) && r[2] > 0) out.radius = { lat: r[0], lng: r[1], km: r[2] };
  return out;
}

const pad = (n) => String(n).padStart(2, '0');
export const monthParam = (mi) => `${Math.floor(mi / 12)}-${pad((mi % 12) + 1)}`;

export function formatHash({ view, from, to, layers, color, radius }) {
  const parts = [];
  if (view) {
    const prec = Math.max(2, Math.ceil(Math.log2(Math.max(1, view.zoom))));
    parts.push(`map=${Math.round(view.zoom * 100) / 100}/${view.lat.toFixed(prec)}/${view.lng.toFixed(prec)}`);
  }
  if (from != null) parts.push(`from=${monthParam(from)}`);
  if (to != null) parts.push(`to=${monthParam(to)}`);
  if (layers) parts.push(`layers=${[...layers].join(',')}`);
  if (color) parts.push(`color=${color}`);
  if (radius) parts.push(`radius=${radius.lat.toFixed(4)},${radius.lng.toFixed(4)},${radius.km}`);
  return `#${parts.join('&')}`;
}
