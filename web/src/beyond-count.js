// Counting the incidents outside a bounding box, by country. No DOM and no Leaflet: node can
// import this module.

/** Whether [lon, lat] lies in bbox [west, south, east, north] (edges included). */
export function inBbox([lon, lat], [west, south, east, north]) {
  return lon >= west && lon <= east && lat >= south && lat <= north;
}

/**
 * Point features outside `bbox`: { total, byCountry: [[country, n], ...] }, most first, then
 * by name. The country is the joined `country` property, else `country_iso_a2`, else "unknown".
 */
export function countOutside(features, bbox) {
  const counts = new Map();
  let total = 0;
  for (const f of features) {
    const c = f.geometry && f.geometry.type === 'Point' ? f.geometry.coordinates : null;
    if (!c || inBbox(c, bbox)) continue;
    const p = f.properties || {};
    const country = String(p.country || p.country_iso_a2 || 'unknown');
    counts.set(country, (counts.get(country) || 0) + 1);
    total += 1;
  }
  const byCountry = [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return { total, byCountry };
}
