// The small map of the HTML catalogue pages (/collections/{id}/items?f=html and the pages
// of one feature): draws the page's features, read from the GeoJSON the server embeds in
// <script type="application/json" id="page-geojson">, into #catalog-map. No tiles are
// fetched; the map shows the features alone, fitted to their extent. The number of drawn
// features is written to the map element's data-features attribute.
import 'leaflet/dist/leaflet.css';
import './catalog.css';
import L from 'leaflet';

function draw() {
  const el = document.getElementById('catalog-map');
  const data = document.getElementById('page-geojson');
  if (!el || !data) return;
  let geojson;
  try {
    geojson = JSON.parse(data.textContent);
  } catch {
    return;
  }
  const map = L.map(el, { attributionControl: false, scrollWheelZoom: false });
  const layer = L.geoJSON(geojson, {
    pointToLayer: (_feature, latlng) => L.circleMarker(latlng, { radius: 5, weight: 1, fillOpacity: 0.7 }),
    style: () => ({ weight: 1, fillOpacity: 0.3 }),
    onEachFeature: (feature, l) => l.bindTooltip(String(feature.id)),
  }).addTo(map);
  const bounds = layer.getBounds();
  if (bounds.isValid()) {
    map.fitBounds(bounds, { padding: [12, 12], maxZoom: 12 });
  } else {
    map.setView([34, 66], 4);
  }
  el.dataset.features = String(layer.getLayers().length);
}

if (document.readyState === 'loading') {
  document.addEventListener('DOMContentLoaded', draw);
} else {
  draw();
}
