// The Leaflet map itself: options, panes (drawing order of the layers), the zoom-to buttons,
// the scale bar, and the page's notion of a narrow (phone) screen. Holds no data layers.
import L from 'leaflet';
import markerIcon from 'leaflet/dist/images/marker-icon.png';
import markerIcon2x from 'leaflet/dist/images/marker-icon-2x.png';
import markerShadow from 'leaflet/dist/images/marker-shadow.png';

// Leaflet finds its default marker images through a CSS trick that breaks once a bundler
// renames them; give it the bundled URLs (served under /map/assets/) directly.
delete L.Icon.Default.prototype._getIconUrl;
L.Icon.Default.mergeOptions({ iconUrl: markerIcon, iconRetinaUrl: markerIcon2x, shadowUrl: markerShadow });

// Afghanistan, Pakistan and the Khorasan approximation: the default view, [west, south, east, north].
export const REGION_BBOX = Object.freeze([56.5, 24.5, 75.5, 40.8]);
const REGION = L.latLngBounds([REGION_BBOX[1], REGION_BBOX[0]], [REGION_BBOX[3], REGION_BBOX[2]]);
const PANES = [['basemap', 200], ['provinces', 350], ['operating', 360], ['wilayat', 380], ['khorasan', 390], ['radius', 395], ['labels', 450]];

const narrow = () => window.matchMedia('(max-width: 700px)').matches;
/** Padding that keeps a fitted area clear of the legend (bottom right) and the layer button. */
const fitPadding = () => (narrow() ? { padding: [10, 10] } : { paddingTopLeft: [20, 20], paddingBottomRight: [230, 20] });

/**
 * Creates the map in element `container`. `fitAll` is what the "show all attacks" button does.
 * Returns { map, narrow, fitPadding, fitRegion }.
 */
export function createMapView({ container, fitAll }) {
  const map = L.map(container, {
    minZoom: 2,
    maxZoom: 11,
    zoomSnap: 0.25,
    zoomDelta: 0.5,
    worldCopyJump: false,
    maxBounds: [[-85, -240], [85, 240]],
    keyboard: true,
  });
  map.attributionControl.setPrefix('<a href="https://leafletjs.com" title="A JavaScript library for interactive maps">Leaflet</a>');
  for (const [name, z] of PANES) map.createPane(name).style.zIndex = String(z);

  /** Zooms to Afghanistan, Pakistan and Khorasan. */
  const fitRegion = (options = {}) => map.fitBounds(REGION, { ...fitPadding(), ...options });

  const FitControl = L.Control.extend({
    options: { position: 'topleft' },
    onAdd() {
      const div = L.DomUtil.create('div', 'leaflet-bar fit-control');
      div.innerHTML = '<a href="#" role="button" id="btn-fit" data-testid="fit-button" title="Show all attacks" aria-label="Zoom to show all attacks">&#10530;</a>'
        + '<a href="#" role="button" id="btn-region" data-testid="region-button" title="Back to Afghanistan and Pakistan" aria-label="Zoom to Afghanistan, Pakistan and Khorasan">&#8962;</a>';
      L.DomEvent.disableClickPropagation(div);
      L.DomEvent.on(div.querySelector('#btn-fit'), 'click', (ev) => { L.DomEvent.preventDefault(ev); fitAll(); });
      L.DomEvent.on(div.querySelector('#btn-region'), 'click', (ev) => { L.DomEvent.preventDefault(ev); fitRegion(); });
      return div;
    },
  });
  new FitControl().addTo(map);
  L.control.scale({ metric: true, imperial: false, maxWidth: 140, position: 'bottomleft' }).addTo(map);

  return { map, narrow, fitPadding, fitRegion };
}
