// A Leaflet DivIcon whose element also carries an accessible name (aria-label and title) and
// data-* attributes, so markers and labels can be found by screen readers and tests.
import L from 'leaflet';

export const LabeledDivIcon = L.DivIcon.extend({
  createIcon(old) {
    const el = L.DivIcon.prototype.createIcon.call(this, old);
    if (this.options.label) {
      el.setAttribute('aria-label', this.options.label);
      el.title = this.options.label;
    }
    for (const [k, v] of Object.entries(this.options.data || {})) el.dataset[k] = String(v);
    return el;
  },
});
