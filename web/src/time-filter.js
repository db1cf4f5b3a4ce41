// The time filter: the time bar (two handles and a rug of the attacks), Play, "All dates",
// and the `datetime` the chosen period stands for. Each change of period reloads the incidents
// (after a short pause while a handle moves); what they look like is the incidents layer's.
import { intOrNull } from './format.js';
import { monthParam } from './permalink.js';
import { datetimeParam, monthOf } from './period.js';
import { TimeBar } from './timebar.js';

const PLAY_STEP_MS = 650;

/**
 * `els` are the time panel's elements (panel, from, to, fill, histo, ticks, label, play,
 * reset). `incidents` draws the period; `colorOf` colours the rug; `onApplied(datetime)` runs
 * after the incidents of a period are drawn; `onRangeChange()` after the range moved.
 */
export function createTimeFilter({ els, activity, incidents, colorOf, onApplied, onRangeChange }) {
  let applySeq = 0;
  let filterTimer = null;
  let rugIncidents = [];
  const play = { on: false, timer: null };

  const timebar = new TimeBar({
    from: els.from, to: els.to, fill: els.fill, histo: els.histo, ticks: els.ticks, label: els.label,
  }, () => schedule());

  const datetime = () => datetimeParam(timebar.range());

  /** Loads and draws the incidents of the chosen period. */
  async function apply() {
    const seq = ++applySeq;
    const dt = datetime();
    activity.busy(+1);
    els.panel.classList.add('loading');
    try {
      if (await incidents.load(dt)) await onApplied(dt);
    } finally {
      if (seq === applySeq) els.panel.classList.remove('loading');
      activity.busy(-1);
    }
  }

  /** Applies the period after `delay` ms, unless it changes again before. */
  function schedule(delay = 120) {
    if (filterTimer) { clearTimeout(filterTimer); activity.busy(-1); }
    activity.busy(+1);
    filterTimer = setTimeout(() => {
      filterTimer = null;
      apply().finally(() => activity.busy(-1));
    }, delay);
    onRangeChange();
  }

  function renderRug() {
    timebar.setRug(rugIncidents.map((f) => ({
      month: monthOf(f.properties.date) ?? timebar.min,
      deaths: intOrNull(f.properties.deaths),
      color: colorOf(f.properties),
    })));
  }

  function setPlaying(on) {
    play.on = on;
    els.play.setAttribute('aria-pressed', String(on));
    els.play.setAttribute('aria-label', on ? 'Pause' : 'Play: step through time');
    els.play.querySelector('.play-icon').innerHTML = on ? '&#10074;&#10074;' : '&#9654;';
    els.play.querySelector('.play-text').textContent = on ? 'Pause' : 'Play';
    if (!on && play.timer) { clearTimeout(play.timer); play.timer = null; }
  }

  /** Moves the window forward by a sixth of its width, until it reaches the end. */
  async function playStep() {
    if (!play.on) return;
    const r = timebar.range();
    const width = r.to - r.from;
    const step = Math.max(1, Math.round((width + 1) / 6));
    if (r.to >= timebar.max) { setPlaying(false); return; }
    const to = Math.min(timebar.max, r.to + step);
    timebar.setRange(to - width, to);
    onRangeChange();
    await apply();
    if (play.on) play.timer = setTimeout(playStep, PLAY_STEP_MS);
  }

  els.play.addEventListener('click', () => {
    if (play.on) { setPlaying(false); return; }
    const r = timebar.range();
    // From "all dates", or from the end, start again with a one-year window at the beginning.
    if (r.full) {
      timebar.setRange(timebar.min, Math.min(timebar.max, timebar.min + 11));
    } else if (r.openEnd) {
      timebar.setRange(timebar.min, timebar.min + (r.to - r.from));
    }
    setPlaying(true);
    onRangeChange();
    apply().then(() => { if (play.on) play.timer = setTimeout(playStep, PLAY_STEP_MS); });
  });
  els.reset.addEventListener('click', () => {
    setPlaying(false);
    timebar.setRange(timebar.min, timebar.max);
    schedule(0);
  });

  return {
    apply,
    schedule,
    datetime,
    /** { from, to, full, openStart, openEnd } in month indices. */
    range: () => timebar.range(),
    /** The range as month strings, e.g. { from: '2015-04', to: '2026-02', full: false }. */
    months() {
      const r = timebar.range();
      return { from: monthParam(r.from), to: monthParam(r.to), full: r.full };
    },
    /** The chosen period in words, as the time bar shows it. */
    label: () => els.label.textContent,
    /** Sets the months the bar spans (and selects them all). */
    setDomain: (first, last) => timebar.setDomain(first, last),
    /** Moves the handles (null = that end of the domain) without reloading. */
    setRange: (from, to) => timebar.setRange(from ?? timebar.min, to ?? timebar.max),
    /** The attacks shown in the rug (all dates). */
    setRugIncidents(features) {
      rugIncidents = features;
      renderRug();
    },
    renderRug,
  };
}
