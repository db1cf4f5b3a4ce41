// Which layers are on the map: the layer control (top right), the default set, and applying
// a set from a permalink. The layers themselves are made elsewhere.
import L from 'leaflet';

/** Layer keys in control order. */
export const LAYER_KEYS = ['countries', 'places', 'provinces', 'operating', 'khorasan', 'wilayat', 'incidents'];
const DEFAULT_LAYERS = new Set(['countries', 'places', 'provinces', 'operating', 'khorasan', 'incidents']);

const TITLES = {
  countries: '<span class="lc-sw lc-countries"></span>Countries (basemap)',
  places: '<span class="lc-sw lc-places"></span>Place names',
  provinces: '<span class="lc-sw lc-provinces"></span>Provinces: attacks per province',
  operating: '<span class="lc-sw lc-operating"></span>Where ISIS-K operated (slider period)',
  khorasan: '<span class="lc-sw lc-khorasan"></span>Historical Khorasan (approximate)',
  wilayat: '<span class="lc-sw lc-wilayat"></span>IS &ldquo;Wilayat Khurasan&rdquo; claim',
  incidents: '<span class="lc-sw lc-incidents"></span>ISIS-K attacks',
};

/** Adds the layer control for `layers` (an object with one Leaflet layer per key) to `map`. */
export function createLayerSwitch({ map, layers }) {
  const control = L.control.layers(null, {}, { collapsed: true, position: 'topright' });
  for (const key of LAYER_KEYS) control.addOverlay(layers[key], TITLES[key]);
  control.addTo(map);
  control.getContainer().setAttribute('data-testid', 'layer-control');
  control.getContainer().setAttribute('aria-label', 'Layers');

  return {
    /** Keys of the layers on the map now. */
    visible: () => LAYER_KEYS.filter((k) => map.hasLayer(layers[k])),
    /** Shows exactly the layers in `keys` (a Set), or the default ones when it is null. */
    apply(keys) {
      for (const k of LAYER_KEYS) {
        const want = keys ? keys.has(k) : DEFAULT_LAYERS.has(k);
        if (want && !map.hasLayer(layers[k])) map.addLayer(layers[k]);
        if (!want && map.hasLayer(layers[k])) map.removeLayer(layers[k]);
      }
    },
  };
}
