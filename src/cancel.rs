//! Giving up on work whose client has gone.
//!
//! Owns: [`Cancel`], a flag shared between the request that asked for some work and the
//! thread doing it. `http` raises it when the request is dropped (the client disconnected);
//! long computations (queries, tile renders) look at it between their stages and stop early
//! with what they have, which nobody reads. It knows nothing
//! of HTTP or threads.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// A cancellation flag: cheap to clone, all clones share one flag.
#[derive(Debug, Clone, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A flag that is not raised.
    pub fn new() -> Self {
        Self::default()
    }

    /// A flag that is never raised by anyone (for work nobody can cancel: tests, load).
    pub fn never() -> Self {
        Self::default()
    }

    /// Raises the flag: the work should stop at its next check.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }

    /// Whether the flag is raised.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clones_share_the_flag() {
        let a = Cancel::new();
        let b = a.clone();
        assert!(!b.is_cancelled());
        a.cancel();
        assert!(b.is_cancelled());
    }
}
