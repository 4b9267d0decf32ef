//! The real server (the same `fieldbook_server::serve` the `fieldbook-server` command runs) in
//! its own process, for tests that kill it with SIGKILL and start it again on the same file.
//!
//! Usage: fieldbook-test-server <database file> [port]. Without a port it takes a free one;
//! with one it binds 127.0.0.1:<port>, so a test can restart it on the same address. Prints
//! `listening <port>` once it accepts.

use std::sync::Arc;

use fieldbook_server::{AppState, Config, SystemClock};
use fieldbook_server_sqlite::SqliteDatabase;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let path = args.next().expect("usage: fieldbook-test-server <database file> [port]");
    let port: u16 = args.next().map_or(0, |p| p.parse().expect("the port is a number"));
    let db = Arc::new(SqliteDatabase::open(&path).expect("open the database"));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await.expect("bind the port");
    println!("listening {}", listener.local_addr().expect("a local address").port());
    let state = AppState::new(db, Arc::new(SystemClock), Config::default());
    fieldbook_server::serve(listener, state, std::future::pending()).await.expect("serve");
}
