// The provinces layer, shaded by attacks per province. The server's spatial join gives each
// province an `incident_count` over all dates; when a period is chosen, and the incidents'
// joined `province` reproduces those counts, the shading counts only the attacks drawn.
import L from 'leaflet';
import { escapeHtml as e, intOrNull, num } from './format.js';
import { provincePopup } from './popups.js';
import { PALETTE, provinceColor } from './style.js';

function provinceNameKeys(p) {
  return [p.name, p.iso_3166_2].filter(Boolean).map((s) => String(s).toLowerCase());
}

function incidentProvinceKey(p) {
  const v = p.province;
  if (v && typeof v === 'object') return String(v.name || v.iso_3166_2 || '').toLowerCase();
  return v ? String(v).toLowerCase() : '';
}

/** Attacks per province key among `incidents`. */
function countByProvince(incidents) {
  const counts = new Map();
  for (const f of incidents) {
    const k = incidentProvinceKey(f.properties);
    if (k) counts.set(k, (counts.get(k) || 0) + 1);
  }
  return counts;
}

/**
 * Creates the layer (not yet on the map). `clickTaken()` says a map click belongs to another
 * tool (no popup then); `periodLabel()` names the chosen period.
 */
export function createProvincesLayer({ map, clickTaken, periodLabel }) {
  let rangeCounts = null; // province key -> attacks in the chosen period, or null = all dates
  let joinOk = false; // incidents carry a `province` that reproduces the server's counts

  function rangeCount(feature) {
    const p = feature.properties || {};
    if (!rangeCounts) return intOrNull(p.incident_count) ?? 0;
    return provinceNameKeys(p).reduce((n, k) => n + (rangeCounts.get(k) || 0), 0);
  }
  function withRangeCount(feature) {
    const p = { ...feature.properties, incident_count: rangeCount(feature) };
    return { ...feature, properties: p, rangeLabel: rangeCounts ? periodLabel() : null };
  }
  function style(f) {
    // Lighter when zoomed in, so street-level views are not a wall of brown.
    const z = map.getZoom();
    const fillOpacity = z >= 8 ? 0.35 : z >= 7 ? 0.55 : 0.85;
    return { color: PALETTE.provinceOutline, weight: z >= 7 ? 1.5 : 0.9, opacity: 0.9, fillColor: provinceColor(rangeCount(f)), fillOpacity };
  }
  function tooltip(f) {
    const n = rangeCount(f);
    return `<strong>${e(f.properties.name)}</strong><br>${num(n)} attack${n === 1 ? '' : 's'}${rangeCounts ? ' in the selected period' : ''}`;
  }

  const layer = L.geoJSON(null, {
    renderer: L.canvas({ pane: 'provinces', padding: 0.3 }),
    style,
    onEachFeature: (f, province) => {
      province.bindTooltip(() => tooltip(province.feature), { sticky: true, direction: 'top', className: 'prov-tip' });
      province.on('click', (ev) => {
        if (clickTaken()) return;
        L.popup({ maxWidth: 300 }).setLatLng(ev.latlng).setContent(provincePopup(withRangeCount(province.feature))).openOn(map);
      });
      province.on('mouseover', () => province.setStyle({ weight: 2, color: PALETTE.provinceHover }));
      province.on('mouseout', () => province.setStyle(style(province.feature)));
    },
  });
  map.on('zoomend', () => layer.setStyle(style));

  return {
    layer,
    /** Replaces the provinces drawn. */
    setFeatures(features) {
      layer.clearLayers();
      layer.addData(features);
    },
    /** Checks that counting `allIncidents` by their joined `province` reproduces incident_count. */
    checkJoin(allIncidents) {
      const counts = countByProvince(allIncidents);
      const provinces = [];
      layer.eachLayer((l) => provinces.push(l.feature));
      joinOk = provinces.length > 0 && counts.size > 0 && provinces.every((f) => {
        const server = intOrNull(f.properties.incident_count);
        const mine = provinceNameKeys(f.properties).reduce((n, k) => n + (counts.get(k) || 0), 0);
        return server == null || server === mine;
      });
    },
    /**
     * Shades by the attacks in `incidents` (those of the chosen period), or by the server's
     * counts when `incidents` is null or the join does not hold. Returns whether the shading
     * counts a period.
     */
    countPeriod(incidents) {
      rangeCounts = incidents && joinOk ? countByProvince(incidents) : null;
      layer.setStyle(style);
      return rangeCounts !== null;
    },
  };
}
