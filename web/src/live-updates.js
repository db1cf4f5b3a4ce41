// Live updates: when /collections advertises an event stream for the incidents, the page
// subscribes and, shortly after each create, update or delete, reloads what depends on the
// incidents (`refresh`). Without the link it does not try (a 404 would be a console error).

const VERBS = { create: 'added', update: 'updated', delete: 'removed' };
const DEBOUNCE_MS = 250;

/** `refresh()` reloads the data; `toast(message)` tells the reader what changed. */
export function createLiveUpdates({ api, refresh, toast }) {
  let timer = null;

  function onChange(data) {
    let msg = data;
    if (typeof data === 'string') {
      try { msg = JSON.parse(data); } catch { return; }
    }
    if (!msg || !['create', 'update', 'delete', 'resync'].includes(msg.type)) return;
    clearTimeout(timer);
    timer = setTimeout(refresh, DEBOUNCE_MS);
    if (msg.type === 'resync') return;
    const title = msg.feature && msg.feature.properties && msg.feature.properties.title;
    toast(`Attack ${VERBS[msg.type]}${title ? `: ${title}` : ''}. Map updated.`);
  }

  return {
    /** Subscribes to the stream `collectionsDoc` advertises for the incidents, if any. */
    subscribe(collectionsDoc) {
      const href = api.eventStreamHref(collectionsDoc, 'incidents');
      if (!href) return;
      const es = api.openEventStream(href);
      if (!es) return;
      es.onmessage = (ev) => onChange(ev.data);
      for (const t of Object.keys(VERBS)) es.addEventListener(t, (ev) => onChange(ev.data));
      es.onerror = () => { if (es.readyState === EventSource.CLOSED) es.close(); };
    },
  };
}
