// The layers that give the attacks their setting: countries (the basemap canvas), place and
// country names, the historical Khorasan approximation with its labels, and the IS "Wilayat
// Khurasan" claim (fetched the first time it is shown). Provinces and incidents are elsewhere.
import L from 'leaflet';
import { escapeHtml as e } from './format.js';
import { CountriesCanvas } from './basemap.js';
import { LabeledDivIcon } from './labeled-icon.js';
import { PlaceLabels, labelPoint } from './labels.js';
import { khorasanPopup, wilayatPopup } from './popups.js';
import { PALETTE, wilayatLine } from './style.js';

const CORE_LABEL = '<div class="kl"><b>Historical Khorasan</b><span>approximation: how it was drawn <i class="info">i</i></span></div>';
const OXUS_LABEL = '<div class="kl"><b>Oxus borderlands</b><span>sometimes counted in Khorasan <i class="info">i</i></span></div>';

/**
 * Creates the layers (not yet on the map). `onWilayatShown(shown)` runs when the Wilayat layer
 * is added to or removed from the map. Returns { layers: {countries, places, khorasan,
 * wilayat}, load(), showDerivation() }.
 */
export function createReferenceLayers({ map, api, activity, notices, onWilayatShown }) {
  const countries = new CountriesCanvas({
    attribution: '<a href="https://www.naturalearthdata.com/">Natural Earth</a>',
  });
  const places = new PlaceLabels({
    attribution: '<a href="https://www.geonames.org/">GeoNames, geonames.org</a> (CC BY 4.0)',
  });
  const khorasanShapes = L.geoJSON(null, {
    renderer: L.svg({ pane: 'khorasan', padding: 0.3 }),
    style: (f) => ({
      color: PALETTE.khorasan,
      weight: f.properties.zone === 'core' ? 2.6 : 1.8,
      dashArray: f.properties.zone === 'core' ? '8 5' : '3 5',
      fillOpacity: 1,
      className: `khorasan-shape khorasan-${f.properties.zone === 'core' ? 'core' : 'oxus'}`,
    }),
    onEachFeature: (f, layer) => layer.bindPopup(() => khorasanPopup(layer.feature), { maxWidth: 380 }),
  });
  const khorasanLabels = L.layerGroup();
  const khorasan = L.layerGroup([]).addLayer(khorasanShapes).addLayer(khorasanLabels);
  const wilayat = L.geoJSON(null, {
    renderer: L.svg({ pane: 'wilayat', padding: 0.3 }),
    style: (f) => {
      const line = wilayatLine(f.properties || {});
      return { color: line.color, weight: line.weight, dashArray: line.dash, lineCap: 'round', fill: false, className: 'wilayat-shape' };
    },
    onEachFeature: (f, layer) => {
      layer.bindPopup(() => wilayatPopup(layer.feature), { maxWidth: 360 });
      layer.bindTooltip(() => e(layer.feature.properties.name), { sticky: true, className: 'prov-tip' });
    },
  });
  let khorasanCore = null; // { feature, latlng } of the core polygon, for "how it was drawn"
  let wilayatLoad = null;

  const openKhorasanPopup = (feature, latlng) => L.popup({ maxWidth: 380 }).setLatLng(latlng).setContent(khorasanPopup(feature)).openOn(map);

  /** Draws the Khorasan polygons and one label each, and keeps place names off the labels. */
  function drawKhorasan(features) {
    khorasanShapes.addData(features);
    const reserved = [];
    for (const f of features) {
      const pt = labelPoint(f.geometry);
      if (!pt) continue;
      const core = (f.properties || {}).zone === 'core';
      const latlng = L.latLng(pt.lat, pt.lon);
      if (core) khorasanCore = { feature: f, latlng };
      const label = L.marker(latlng, {
        icon: new LabeledDivIcon({
          className: `khorasan-label${core ? '' : ' minor'}`,
          html: core ? CORE_LABEL : OXUS_LABEL,
          iconSize: null,
          label: `${f.properties.name}. Approximation; activate for how it was drawn.`,
          data: { testid: core ? 'khorasan-label' : 'khorasan-label-oxus' },
        }),
        keyboard: true,
        zIndexOffset: -2000,
      });
      label.on('click', () => openKhorasanPopup(f, latlng));
      khorasanLabels.addLayer(label);
      reserved.push({ latlng, w: core ? 210 : 170, h: core ? 34 : 28 });
    }
    places.setReserved(reserved);
  }

  // The Wilayat Khurasan layer is off by default, so it is fetched the first time it is shown.
  function loadWilayat() {
    if (!wilayatLoad) {
      activity.busy(+1);
      wilayatLoad = api.getAllItems('wilayat_khorasan')
        .then((r) => { wilayat.addData(r.features); })
        .catch((err) => { wilayatLoad = null; notices.error(err.message); })
        .finally(() => activity.busy(-1));
    }
    return wilayatLoad;
  }

  map.on('overlayadd overlayremove layeradd layerremove', (ev) => {
    if (ev.layer !== wilayat) return;
    onWilayatShown(map.hasLayer(wilayat));
    if (map.hasLayer(wilayat)) loadWilayat();
  });

  const fetched = (fn, draw) => fn().then(draw, (err) => { notices.error(err.message); });

  return {
    layers: { countries, places, khorasan, wilayat },
    /** Fetches and draws every layer shown now; resolves when all are drawn (or failed). */
    load() {
      // Only the properties the page uses (index.html preloads these exact URLs).
      return Promise.all([
        fetched(() => api.getAllItems('countries', { properties: 'name' }), (r) => {
          countries.setFeatures(r.features);
          places.setCountries(r.features);
        }),
        fetched(() => api.getAllItems('places', { properties: 'name,population' }), (r) => places.setPlaces(r.features)),
        fetched(() => api.getAllItems('khorasan'), (r) => drawKhorasan(r.features)),
        map.hasLayer(wilayat) ? loadWilayat() : null,
      ]);
    },
    /** Shows the Khorasan layer and the popup saying how the core polygon was drawn. */
    showDerivation() {
      if (!khorasanCore) return;
      if (!map.hasLayer(khorasan)) map.addLayer(khorasan);
      openKhorasanPopup(khorasanCore.feature, khorasanCore.latlng);
    },
  };
}
