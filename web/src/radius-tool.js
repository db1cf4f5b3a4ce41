// The radius tool: while active, a click on the map (or "Use map centre") lists the attacks
// within the chosen distance, nearest first, exactly as /collections/incidents/radius answers,
// for the period chosen on the time bar. Draws the circle; the list opens incident popups.
import L from 'leaflet';
import { escapeHtml as e, fmtDate, fmtDistance, intOrNull, num } from './format.js';
import { PALETTE } from './style.js';

const MAX_KM = 5000;

function where(c) {
  return `${Math.abs(c.lat).toFixed(2)}° ${c.lat >= 0 ? 'N' : 'S'}, ${Math.abs(c.lng).toFixed(2)}° ${c.lng >= 0 ? 'E' : 'W'}`;
}

/**
 * `els` are the radius panel's elements (button, km, centre, clear, status, list); `panel`
 * the side panel; `period()` gives { datetime, label } of the time bar; `colorOf` colours
 * the list's dots; `showIncident(feature)` opens a popup; `onChange()` runs when the centre
 * or radius changed.
 */
export function createRadiusTool({ map, api, activity, els, panel, period, colorOf, showIncident, onChange }) {
  let active = false;
  let centre = null;
  let km = 50;
  let circle = null;
  let dot = null;
  let result = null;
  let seq = 0;
  let sent = null; // the last query sent: { lon, lat, km, datetime }

  function setActive(on) {
    active = on;
    els.button.setAttribute('aria-pressed', String(on));
    map.getContainer().classList.toggle('radius-mode', on);
    if (on) panel.open('radius');
  }

  function clear() {
    centre = null;
    result = null;
    seq += 1;
    if (circle) { circle.remove(); circle = null; }
    if (dot) { dot.remove(); dot = null; }
    els.status.textContent = '';
    els.list.innerHTML = '';
    onChange();
  }

  function readKm() {
    const v = Number(els.km.value);
    if (!Number.isFinite(v) || v <= 0) return null;
    return Math.min(MAX_KM, v);
  }

  function drawCircle(c) {
    if (!circle) {
      circle = L.circle(c, { radius: km * 1000, pane: 'radius', interactive: false, color: PALETTE.radius, weight: 2, fillColor: PALETTE.radius, fillOpacity: 0.08 }).addTo(map);
      dot = L.circleMarker(c, { pane: 'radius', radius: 4, color: PALETTE.halo, weight: 2, fillColor: PALETTE.radius, fillOpacity: 1, interactive: false }).addTo(map);
    } else {
      circle.setLatLng(c).setRadius(km * 1000);
      dot.setLatLng(c);
    }
  }

  /** Lists the attacks within the chosen radius of `latlng`. */
  async function run(latlng) {
    const chosen = readKm();
    if (chosen == null) { els.status.textContent = 'Enter a radius in kilometres.'; return; }
    centre = latlng.wrap();
    km = chosen;
    drawCircle(centre);
    const mine = ++seq;
    sent = { lon: +centre.lng.toFixed(6), lat: +centre.lat.toFixed(6), km, datetime: period().datetime };
    els.status.textContent = 'Searching…';
    els.list.innerHTML = '';
    activity.busy(+1);
    try {
      const fc = await api.getRadius('incidents', sent.lon, sent.lat, km, { datetime: sent.datetime });
      if (mine !== seq) return;
      result = fc;
      render();
    } catch (err) {
      if (mine === seq) els.status.textContent = `The radius search failed: ${err.message}`;
    } finally {
      activity.busy(-1);
    }
    onChange();
  }

  /** Writes the status line and the list for the last answer (e.g. again after a colour change). */
  function render() {
    if (!result) return;
    const feats = result.features || [];
    const n = typeof result.numberMatched === 'number' ? result.numberMatched : feats.length;
    let deaths = 0;
    for (const f of feats) deaths += intOrNull(f.properties.deaths) || 0;
    const label = sent && sent.datetime ? period().label : 'all dates';
    els.status.innerHTML = n === 0
      ? `No attacks within ${num(km)} km of ${where(centre)} (${e(label)}).`
      : `<strong>${num(n)}</strong> attack${n === 1 ? '' : 's'} within ${num(km)} km of ${where(centre)} (${e(label)}, ${num(deaths)} killed), nearest first:`;
    els.list.innerHTML = feats.map((f, i) => {
      const p = f.properties;
      const d = intOrNull(p.deaths);
      return `<li data-testid="radius-item" data-id="${e(p.id)}" data-fid="${e(f.id)}" data-distance-m="${e(p.distance_m)}">
      <button type="button" data-index="${i}"><i class="dot" style="--c:${colorOf(p)}"></i>
      <span class="r-dist">${fmtDistance(Number(p.distance_m) || 0)}</span>
      <span class="r-main"><span class="r-title">${e(p.title)}</span>
      <span class="r-meta">${e(fmtDate(p.date))} · ${e(p.place)} · ${d == null ? 'toll not reported' : `${num(d)} killed`}</span></span></button></li>`;
    }).join('');
  }

  /** Centre of the part of the map the panel does not cover (on phones it covers the bottom). */
  function visibleCentre() {
    const size = map.getSize();
    return map.containerPointToLatLng([size.x / 2, Math.max(20, (size.y - panel.coveredHeight()) / 2)]);
  }

  els.list.addEventListener('click', (ev) => {
    const btn = ev.target.closest('button[data-index]');
    if (!btn || !result) return;
    const f = result.features[+btn.dataset.index];
    if (f) showIncident(f);
  });
  map.on('click', (ev) => { if (active) run(ev.latlng); });
  els.button.addEventListener('click', () => { if (active) panel.close(); else setActive(true); });
  els.centre.addEventListener('click', () => { setActive(true); run(visibleCentre()); });
  els.clear.addEventListener('click', clear);
  els.km.addEventListener('change', () => { if (centre) run(centre); });
  els.km.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { ev.preventDefault(); run(centre || visibleCentre()); }
  });

  return {
    /** Whether map clicks set the centre. */
    active: () => active,
    /** Leaves the tool (when the panel closes or shows something else). */
    stop() {
      if (!active) return;
      setActive(false);
      clear();
    },
    /** Activates the tool and searches around { lat, lng, km } (from a permalink). */
    restore(radius) {
      els.km.value = String(radius.km);
      setActive(true);
      return run(L.latLng(radius.lat, radius.lng));
    },
    /** Searches again if the last search was for another period than `datetime`. */
    followPeriod(datetime) {
      if (centre && (sent || {}).datetime !== datetime) run(centre);
    },
    /** Searches again around the same centre, if there is one. */
    refresh: () => (centre ? run(centre) : Promise.resolve()),
    render,
    /** { lat, lng, km } of the search shown, or null. */
    circle: () => (centre ? { lat: centre.lat, lng: centre.lng, km } : null),
    /** The last query as sent to the API ({ lon, lat, km, datetime }), or null. */
    query: () => (centre && sent ? { ...sent } : null),
  };
}
