//! CPU work of requests (queries, tile renders), run off the async workers.
//!
//! Owns: [`run`]: at most one job per CPU runs at a time (the others wait without a thread),
//! and a job whose request is dropped, because its client disconnected, is not started, or
//! is told to stop through its [`Cancel`] flag. The server drops a request when its client
//! closes the connection (`h1_allow_half_closed(false)` in [`super::serve`]), so a backlog of
//! expensive requests from a client that has gone does not keep the cores busy.

use std::sync::{Arc, OnceLock};

use actix_web::web;
use tokio::sync::Semaphore;

use crate::cancel::Cancel;
use crate::error::{Error, Result};

/// One permit per CPU.
fn permits() -> &'static Arc<Semaphore> {
    static PERMITS: OnceLock<Arc<Semaphore>> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        Arc::new(Semaphore::new(cpus))
    })
}

/// Raises its flag when dropped: when the request future that owns it is dropped before the
/// job is done.
struct CancelOnDrop(Cancel);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.cancel();
    }
}

/// Runs `job` on the blocking thread pool once a CPU permit is free, and waits for it.
/// `job` gets the flag that is raised when this future is dropped; a job that has not
/// started by then never starts.
///
/// # Errors
/// [`Error::Internal`] when the job panicked or the pool is closed.
pub async fn run<T, F>(job: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce(&Cancel) -> T + Send + 'static,
{
    let permit = Arc::clone(permits())
        .acquire_owned()
        .await
        .map_err(|e| Error::Internal(format!("job permits: {e}")))?;
    let cancel = Cancel::new();
    let guard = CancelOnDrop(cancel.clone());
    let out = web::block(move || {
        let _permit = permit;
        if cancel.is_cancelled() {
            return None;
        }
        Some(job(&cancel))
    })
    .await
    .map_err(|e| Error::Internal(format!("job failed: {e}")));
    // Finished: the flag no longer matters.
    drop(guard);
    out?.ok_or_else(|| Error::Internal("job cancelled".into()))
}
