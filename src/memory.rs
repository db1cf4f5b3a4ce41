//! Freed memory given back to the system at the end of a large piece of work.
//!
//! Owns: the hook through which the server asks the process's allocator to return the pages
//! that a load, a startup merge or the tile preparation freed, at once, instead of over the
//! allocator's decay time. The binary chooses the allocator and registers the hook
//! ([`set_give_back`]); without one, [`give_back_freed`] does nothing.

use std::sync::OnceLock;

static GIVE_BACK: OnceLock<fn()> = OnceLock::new();

/// Registers what [`give_back_freed`] calls. The first registration stays.
pub fn set_give_back(hook: fn()) {
    let _ = GIVE_BACK.set(hook);
}

/// Asks the allocator to return the pages freed so far (see [`set_give_back`]).
pub fn give_back_freed() {
    if let Some(hook) = GIVE_BACK.get() {
        hook();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    static CALLS: AtomicUsize = AtomicUsize::new(0);

    fn count() {
        CALLS.fetch_add(1, Ordering::SeqCst);
    }

    fn other() {}

    #[test]
    fn the_first_hook_registered_is_called_each_time() {
        set_give_back(count);
        set_give_back(other);
        give_back_freed();
        give_back_freed();
        assert_eq!(CALLS.load(Ordering::SeqCst), 2);
    }
}
