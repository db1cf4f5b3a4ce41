// HTML for the popups. Every value from the data goes through escapeHtml; URLs are only
// turned into links when they are http(s).
import { asList, escapeHtml as e, fmtDate, hostOf, intOrNull, num } from './format.js';
import { operatingKind, targetCategory } from './style.js';

const PRECISION = {
  site: 'Exact site',
  neighbourhood: 'Neighbourhood (within about 1–2 km)',
  city: 'Approximate location: placed at the city centre',
  town: 'Approximate location: placed at the town centre',
  district_approx: 'Approximate location: somewhere in the district',
  province_approx: 'Approximate location: only the province is known',
};

export const isApproximate = (p) => ['city', 'town', 'district_approx', 'province_approx'].includes(p);

function figure(label, value, note) {
  const n = intOrNull(value);
  const shown = n == null ? '<span class="unknown">not reported</span>' : `<strong>${num(n)}</strong>`;
  const noteText = note && String(note).trim() !== String(n) ? ` <span class="note">(${e(note)})</span>` : '';
  return `<dt>${label}</dt><dd>${shown}${noteText}</dd>`;
}

function links(urls) {
  const items = asList(urls).filter((u) => /^https?:\/\//i.test(u));
  if (items.length === 0) return '<p class="pop-sources-none">No source link recorded.</p>';
  return `<p class="pop-sources-title">Sources</p><ol class="pop-sources" data-testid="popup-sources">${items
    .map((u) => `<li><a href="${e(u)}" target="_blank" rel="noopener noreferrer external">${e(hostOf(u))}</a></li>`)
    .join('')}</ol>`;
}

/** Popup for one incident feature. */
export function incidentPopup(feature) {
  const p = feature.properties || {};
  const where = [p.place, p.province || p.admin1, p.country].filter(Boolean);
  // De-duplicate "Kabul, Kabul" style repeats while keeping order.
  const place = where.filter((x, i) => where.indexOf(x) === i).map(e).join(', ');
  const claim = p.responsibility === 'attributed'
    ? '<span class="badge attributed">Attributed to ISIS-K (no claim)</span>'
    : '<span class="badge claimed">Claimed by IS</span>';
  const precision = PRECISION[p.coord_precision] || e(p.coord_precision || 'unknown');
  const approx = isApproximate(p.coord_precision);
  return `<article class="pop" data-testid="incident-popup" data-id="${e(p.id)}">
  <p class="pop-date"><time datetime="${e(p.date)}">${e(fmtDate(p.date, true))}</time> ${claim}</p>
  <h3 class="pop-title">${e(p.title)}</h3>
  <p class="pop-place">${place}</p>
  <dl class="pop-facts">
    ${figure('Killed', p.deaths, p.deaths_note)}
    ${figure('Injured', p.injuries, p.injuries_note)}
    <dt>Target</dt><dd>${e(p.target_type)} <span class="cat">(${e(targetCategory(p.target_type).label)})</span></dd>
    <dt>Attack</dt><dd>${e(p.attack_type)}</dd>
    ${p.claim_note ? `<dt>Claim</dt><dd>${e(p.claim_note)}</dd>` : ''}
    <dt>Location</dt><dd class="${approx ? 'approx' : ''}">${precision}${p.coord_source ? ` <span class="note">(${e(p.coord_source)})</span>` : ''}</dd>
  </dl>
  ${links(p.sources)}
  <p class="pop-id">${e(p.id)} · feature ${e(feature.id)}</p>
</article>`;
}

/** Popup for a Khorasan approximation polygon: what it is and how it was drawn. */
export function khorasanPopup(feature) {
  const p = feature.properties || {};
  const units = asList(p.units);
  return `<article class="pop pop-khorasan" data-testid="khorasan-popup">
  <p class="pop-kicker">Approximation, not a historical boundary</p>
  <h3 class="pop-title">${e(p.name)}</h3>
  <p>${e(p.description)}</p>
  <h4>How it was drawn</h4>
  <p data-testid="khorasan-derivation">${e(p.derivation)}</p>
  ${units.length ? `<h4>Modern units used</h4><ul>${units.map((u) => `<li>${e(u)}</li>`).join('')}</ul>` : ''}
  ${p.historical_basis ? `<h4>Historical basis</h4><p>${e(p.historical_basis)}</p>` : ''}
  ${p.source ? `<p class="note">Geometry: ${e(p.source)}</p>` : ''}
</article>`;
}

/** Popup for an IS "Wilayat Khurasan" phase. */
export function wilayatPopup(feature) {
  const p = feature.properties || {};
  const period = `${fmtDate(p.period_start)} – ${p.period_end ? fmtDate(p.period_end) : 'today'}`;
  return `<article class="pop" data-testid="wilayat-popup">
  <p class="pop-kicker">Area claimed by IS · ${e(period)}</p>
  <h3 class="pop-title">${e(p.name)}</h3>
  <p>${e(p.description)}</p>
  <h4>How it was drawn</h4><p>${e(p.derivation)}</p>
  ${links(p.sources)}
</article>`;
}

/** "2021" or "2023-03" or "2021-08-26" as shown in a period; null (an open end) as "still reported". */
export function periodText(start, end) {
  const show = (v) => (/^\d{4}-\d{2}-\d{2}/.test(v) ? fmtDate(v) : String(v));
  return `${show(start)} – ${end == null ? 'still reported' : show(end)}`;
}

/** Popup for one operating-provinces row: province, kind, period, note and sources. */
export function operatingPopup(feature) {
  const p = feature.properties || {};
  const k = operatingKind(p.kind);
  return `<article class="pop" data-testid="operating-popup" data-id="${e(p.id)}">
  <p class="pop-kicker">${e(k.label)}: ${e(k.meaning)}</p>
  <h3 class="pop-title">${e(p.province)}</h3>
  <p class="pop-date" data-testid="operating-period">${e(periodText(p.start, p.end))}</p>
  ${p.note ? `<p>${e(p.note)}</p>` : ''}
  <p class="note">The whole province is coloured, even where the reports name a few districts.</p>
  ${links(p.sources)}
  <p class="pop-id">${e(p.id)}</p>
</article>`;
}

/** Popup for a province: name and the number of attacks the server's spatial join found. */
export function provincePopup(feature) {
  const p = feature.properties || {};
  const n = intOrNull(p.incident_count) ?? 0;
  return `<article class="pop" data-testid="province-popup">
  <h3 class="pop-title">${e(p.name)}</h3>
  <p>${e(p.type || 'Province')}, ${e(p.country || p.country_iso_a2 || '')}</p>
  <p><strong>${num(n)}</strong> attack${n === 1 ? '' : 's'} in this dataset ${feature.rangeLabel ? `in ${e(feature.rangeLabel)}` : '(all dates)'}</p>
  ${p.note ? `<p class="note">${e(p.note)}</p>` : ''}
</article>`;
}
