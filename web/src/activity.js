// Requests and debounced actions in flight, so a caller (the browser tests, through
// `window.atlas.idle()`) can wait until the page has settled. Knows nothing of what the work is.

/** A counter of pending work with waiters released (on a later task) when it drops to zero. */
export function createActivity() {
  let pending = 0;
  let waiters = [];

  function busy(delta) {
    pending += delta;
    if (pending === 0) {
      const released = waiters;
      waiters = [];
      setTimeout(() => released.forEach((resolve) => resolve()), 0);
    }
  }

  /** Resolves once nothing is pending. */
  function idle() {
    return new Promise((resolve) => {
      if (pending === 0) setTimeout(resolve, 0); else waiters.push(resolve);
    });
  }

  return { busy, idle };
}
