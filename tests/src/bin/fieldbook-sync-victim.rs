//! The victim of the sync crash test: writes a note, then syncs, over and over, printing
//! `ack <note id>` after each local commit. The parent kills it with SIGKILL at random moments:
//! between a commit and its push, during a push, between a push and its acknowledgement,
//! between a pull and its cursor.
//!
//! Usage: fieldbook-sync-victim <store file> <server base URL> <token>

use std::io::Write;
use std::sync::Mutex;

use fieldbook_store::{ListQuery, Store};
use fieldbook_sync::{SyncClient, sync_once};

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, base, token] = &args[..] else {
        eprintln!("usage: fieldbook-sync-victim <store file> <server base URL> <token>");
        std::process::exit(2);
    };
    let store = Mutex::new(Store::open(path).expect("open the store"));
    let client = SyncClient::new(base, token);
    let work_orders: Vec<_> = {
        let s = store.lock().unwrap();
        s.list_work_orders(&ListQuery { limit: 1000, ..Default::default() })
            .unwrap()
            .0
            .into_iter()
            .map(|r| r.work_order.id)
            .collect()
    };
    let mut out = std::io::stdout().lock();
    for n in 0.. {
        let wo = work_orders[n % work_orders.len()];
        let note = store
            .lock()
            .unwrap()
            .add_note(wo, None, &format!("记录 {n}"), chrono::Utc::now())
            .expect("a note is accepted");
        writeln!(out, "ack {}", note.id).unwrap();
        out.flush().unwrap();
        let _ = sync_once(&store, &client, chrono::Utc::now()).await;
    }
}
