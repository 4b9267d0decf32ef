//! The victim of the crash test: records random checklist answers on one work order through
//! the app API, printing `ready` once the app is open and then `ack <result id>` after each
//! write returns (that is, after its commit).
//! The parent kills it with SIGKILL at random moments.
//!
//! Usage: fieldbook-crash-writer <data dir> <work order id> <seed>

use std::io::Write;
use std::sync::Arc;

use fieldbook_app::{App, SystemClock};
use fieldbook_domain::{Answer, CheckOutcome, ItemKind};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng, seq::IndexedRandom};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, dir, work_order, seed] = &args[..] else {
        eprintln!("usage: fieldbook-crash-writer <data dir> <work order id> <seed>");
        std::process::exit(2);
    };
    let mut rng = StdRng::seed_from_u64(seed.parse().expect("seed is a number"));
    let app = App::open(std::path::Path::new(dir), Arc::new(SystemClock)).expect("open the app");
    let detail = app.work_order_detail(work_order).expect("the work order exists");
    let items = detail.template.expect("the work order has a checklist").items;
    let mut out = std::io::stdout().lock();
    // The parent times its kill from here, so that it lands among the writes rather than
    // during start-up, however slow the machine is.
    writeln!(out, "ready").expect("the parent reads it");
    out.flush().expect("the parent reads it");
    let mut last: Vec<(String, String)> = Vec::new();
    loop {
        let item = items.choose(&mut rng).expect("the checklist has items");
        let answer = match &item.kind {
            ItemKind::Check => Answer::Check(*[CheckOutcome::Normal, CheckOutcome::Abnormal].choose(&mut rng).unwrap()),
            ItemKind::Reading { .. } => Answer::Reading(rng.random_range(-50.0..300.0)),
            ItemKind::Text => Answer::Text(format!("读数 {}", rng.random_range(0..100_000))),
            ItemKind::Photo => Answer::PhotoAttached,
        };
        // Now and then correct the previous answer to the same item.
        let supersedes = last
            .iter()
            .rev()
            .find(|(key, _)| *key == item.key)
            .map(|(_, id)| id.clone())
            .filter(|_| rng.random_bool(0.3));
        let result = app
            .record_answer(work_order, &item.key, answer, "", supersedes.as_deref())
            .expect("a valid answer is accepted");
        writeln!(out, "ack {}", result.id).expect("the parent reads acknowledgements");
        out.flush().expect("the parent reads acknowledgements");
        last.push((item.key.clone(), result.id.to_string()));
    }
}
