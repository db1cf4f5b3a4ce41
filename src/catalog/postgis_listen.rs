//! Reloading PostGIS layers when their table changes, through PostgreSQL's `LISTEN/NOTIFY`.
//!
//! Owns: [`listen`], one thread per connection URL that `LISTEN`s on the `notify_channel` of
//! every PostGIS layer that has one. A notification on a channel (sent by a trigger on the
//! table, for example `AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ... FOR EACH STATEMENT`
//! calling `pg_notify`) waits for the debounce time, so that a burst of statements reloads
//! once, then calls [`Catalog::reload_layer`], which reads the table again and swaps the
//! layer (and the joins it takes part in) in with new generations. A lost connection is
//! retried every second; after it returns, every listening layer is reloaded, since
//! notifications sent while it was down are lost.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use postgres::fallible_iterator::FallibleIterator;

use super::Catalog;
use super::postgis::{connect, quoted};

/// How long a channel must stay quiet before its layers are read again.
pub const DEFAULT_DEBOUNCE: Duration = Duration::from_millis(200);

/// How often the thread checks that it should stop, and waits between reconnections.
const TICK: Duration = Duration::from_millis(500);

/// Listening threads: dropping this raises their stop flag and joins them. Also used by the
/// store's replica listener.
#[derive(Debug, Default)]
pub struct Listener {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl Listener {
    /// Starts a thread named `name` running `work`, which should return soon after the
    /// stop flag it is given is raised.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn spawn(
        &mut self,
        name: &str,
        work: impl FnOnce(&AtomicBool) + Send + 'static,
    ) -> std::io::Result<()> {
        let stop = Arc::clone(&self.stop);
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || work(&stop))?;
        self.threads.push(thread);
        Ok(())
    }
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for thread in self.threads.drain(..) {
            if thread.join().is_err() {
                tracing::error!("a PostgreSQL listener thread panicked");
            }
        }
    }
}

/// Runs `session` until it returns `Ok` or `stop` is raised; after each failure, logs it
/// (`lost` says what was lost), waits `retry` and runs it again. `session` is told whether
/// an earlier attempt failed.
pub fn keep_connected(
    stop: &AtomicBool,
    retry: Duration,
    lost: &str,
    mut session: impl FnMut(bool) -> Result<(), String>,
) {
    let mut failed_before = false;
    while !stop.load(Ordering::SeqCst) {
        match session(failed_before) {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "{lost}; reconnecting");
                failed_before = true;
                std::thread::sleep(retry);
            }
        }
    }
}

/// Starts listening for the PostGIS layers of `catalog` that name a `notify_channel`;
/// `None` when none does.
pub fn listen(catalog: &Arc<Catalog>, debounce: Duration) -> Option<Listener> {
    // url -> channel -> layer ids
    let mut by_url: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for handle in &catalog.layers {
        let config = Arc::clone(&handle.snapshot().config);
        if let Some(source) = &config.postgis
            && let Some(channel) = &source.table.notify_channel
        {
            by_url
                .entry(source.url.clone())
                .or_default()
                .entry(channel.clone())
                .or_default()
                .push(handle.id.clone());
        }
    }
    if by_url.is_empty() {
        return None;
    }
    let mut listener = Listener::default();
    for (url, channels) in by_url {
        let catalog = Arc::clone(catalog);
        let started = listener.spawn("postgis-listener", move |stop| {
            keep_connected(
                stop,
                TICK * 2,
                "PostGIS change notifications lost",
                |connected_before| {
                    session(&catalog, &url, &channels, debounce, stop, connected_before)
                },
            );
        });
        if let Err(e) = started {
            tracing::error!(error = %e, "cannot start a PostGIS listener thread");
        }
    }
    Some(listener)
}

/// One connection's life: `LISTEN`, then reload layers as notifications come. `Ok` when
/// told to stop, `Err` when the connection fails.
fn session(
    catalog: &Catalog,
    url: &str,
    channels: &BTreeMap<String, Vec<String>>,
    debounce: Duration,
    stop: &AtomicBool,
    catch_up: bool,
) -> std::result::Result<(), String> {
    let mut client = connect(url)?;
    let listens: Vec<String> = channels
        .keys()
        .map(|c| format!("LISTEN {};", quoted(c)))
        .collect();
    client
        .batch_execute(&listens.concat())
        .map_err(|e| e.to_string())?;
    tracing::info!(
        channels = channels.len(),
        "listening for PostGIS table changes"
    );
    if catch_up {
        reload(catalog, channels, channels.keys().cloned().collect());
    }
    let mut pending: BTreeSet<String> = BTreeSet::new();
    let mut quiet_since = Instant::now();
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(());
        }
        let wait = if pending.is_empty() { TICK } else { debounce };
        let next = {
            let mut notifications = client.notifications();
            let mut iter = notifications.timeout_iter(wait);
            iter.next().map(|n| n.map(|n| n.channel().to_owned()))
        };
        match next.map_err(|e| e.to_string())? {
            Some(channel) => {
                pending.insert(channel);
                quiet_since = Instant::now();
            }
            None if !pending.is_empty() && quiet_since.elapsed() >= debounce => {
                reload(catalog, channels, std::mem::take(&mut pending));
            }
            None => {}
        }
        if client.is_closed() {
            return Err("the connection closed".to_owned());
        }
    }
}

fn reload(catalog: &Catalog, channels: &BTreeMap<String, Vec<String>>, changed: BTreeSet<String>) {
    for channel in changed {
        for id in channels.get(&channel).into_iter().flatten() {
            // Failures are logged and recorded in `catalog.reloads`.
            let _ = catalog.reload_layer(id);
        }
    }
}
