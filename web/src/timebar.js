// The time bar: two native range inputs over one track (so both handles work with the
// keyboard and screen readers), a rug of the attacks along it, and year ticks.
// Positions are month indices (year * 12 + month0) within [min, max].
import { fmtMonth } from './format.js';

export class TimeBar {
  constructor(els, onChange) {
    this.els = els;
    this.onChange = onChange;
    this.min = 0;
    this.max = 0;
    const input = (which) => () => {
      let a = +els.from.value;
      let b = +els.to.value;
      if (a > b) {
        if (which === 'from') { b = a; els.to.value = b; } else { a = b; els.from.value = a; }
      }
      this._paint();
      this.onChange(this.range(), { final: false });
    };
    els.from.addEventListener('input', input('from'));
    els.to.addEventListener('input', input('to'));
    const change = () => this.onChange(this.range(), { final: true });
    els.from.addEventListener('change', change);
    els.to.addEventListener('change', change);
  }

  /** Sets the slider's domain (inclusive month indices) and selects all of it. */
  setDomain(min, max) {
    this.min = min;
    this.max = Math.max(min, max);
    for (const el of [this.els.from, this.els.to]) { el.min = String(this.min); el.max = String(this.max); }
    this.els.from.value = String(this.min);
    this.els.to.value = String(this.max);
    this._ticks();
    this._paint();
  }

  /** { from, to, full, openStart, openEnd } with month indices. */
  range() {
    const from = +this.els.from.value;
    const to = +this.els.to.value;
    return { from, to, openStart: from <= this.min, openEnd: to >= this.max, full: from <= this.min && to >= this.max };
  }

  /** Moves the handles (clamped to the domain) without firing onChange. */
  setRange(from, to) {
    const a = Math.max(this.min, Math.min(this.max, from ?? this.min));
    const b = Math.max(a, Math.min(this.max, to ?? this.max));
    this.els.from.value = String(a);
    this.els.to.value = String(b);
    this._paint();
  }

  /** Draws one tick per attack along the track, taller for deadlier attacks. */
  setRug(items) {
    const span = this.max - this.min + 1;
    const bars = items.map(({ month, deaths, color }) => {
      const x = ((month - this.min + 0.5) / span) * 100;
      const h = 25 + Math.min(75, Math.sqrt(deaths || 0) * 6);
      return `<i data-m="${month}" style="left:${x.toFixed(2)}%;height:${h.toFixed(0)}%;background:${color}"></i>`;
    });
    this.els.histo.innerHTML = bars.join('');
    this._paint();
  }

  _ticks() {
    const span = this.max - this.min + 1;
    const html = [];
    const y0 = Math.floor(this.min / 12);
    const y1 = Math.floor(this.max / 12);
    for (let y = y0; y <= y1; y += 1) {
      const m = Math.max(this.min, y * 12);
      const x = ((m - this.min) / span) * 100;
      // A label that would run past the right end is left out (the tick line stays).
      const label = x > 96 ? '' : String(y);
      html.push(`<span class="${y % 2 ? 'odd' : ''}" style="left:${x.toFixed(2)}%">${label}</span>`);
    }
    this.els.ticks.innerHTML = html.join('');
  }

  _paint() {
    const { from, to, full } = this.range();
    const span = this.max - this.min + 1;
    this.els.fill.style.left = `${((from - this.min) / span) * 100}%`;
    this.els.fill.style.width = `${((to - from + 1) / span) * 100}%`;
    for (const i of this.els.histo.children) i.classList.toggle('out', +i.dataset.m < from || +i.dataset.m > to);
    this.els.from.setAttribute('aria-valuetext', `From ${fmtMonth(from, true)}`);
    this.els.to.setAttribute('aria-valuetext', `To ${fmtMonth(to, true)}`);
    this.els.label.textContent = full
      ? `All dates: ${fmtMonth(this.min)} – ${fmtMonth(this.max)}`
      : from === to ? fmtMonth(from, true) : `${fmtMonth(from)} – ${fmtMonth(to)}`;
  }
}
