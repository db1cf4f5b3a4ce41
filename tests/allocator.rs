//! The server's allocator: jemalloc with its background threads, which give the pages of
//! freed memory back to the system on a timer, also while the server idles (after a startup
//! that replayed many stored writes, for one).

mod server;

#[test]
fn the_allocator_returns_freed_pages_on_threads_of_its_own() {
    let server = server::Server::start(&[], &[]);
    let names = server.thread_names();
    assert!(
        names.iter().any(|name| name == "jemalloc_bg_thd"),
        "no jemalloc background thread among {names:?}"
    );
}
