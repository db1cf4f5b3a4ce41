// What the page tells its reader outside the map: the error banner (kept, and listed for the
// tests) and the short-lived toast. Owns no map state.

/** `banner` and `toast` are the page's #banner and #toast elements. */
export function createNotices({ banner, toast }) {
  const errors = [];
  let toastTimer = null;

  return {
    /** Shows a load failure in the banner and records it. */
    error(message) {
      errors.push(message);
      banner.textContent = `Could not load part of the map: ${message}`;
      banner.hidden = false;
    },
    /** Shows a message for a few seconds. */
    toast(message) {
      toast.textContent = message;
      toast.hidden = false;
      clearTimeout(toastTimer);
      toastTimer = setTimeout(() => { toast.hidden = true; }, 3500);
    },
    /** Every error shown so far. */
    errors: () => [...errors],
  };
}
