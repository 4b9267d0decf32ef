//! Store benchmarks, printed as figures and side-by-side ratios from one run:
//!
//! 1. a durable checklist answer (rules checked, answer + outbox row in one transaction)
//!    against a raw rusqlite insert of the same bytes with the same pragmas;
//! 2. reading the list of 10,000 work orders a page at a time, as the UI does, and whole;
//! 3. searching them;
//! 4. the customer's sign-off, which now also builds, signs and keeps the signed report, against
//!    a durable answer write.
//!
//! Run with `cargo bench -p fieldbook-store --bench store` (or `./dev bench`).

use std::time::{Duration, Instant};

use chrono::Utc;
use fieldbook_demo::{DemoOptions, generate};
use fieldbook_domain::{Answer, CheckOutcome, InspectionResult, ItemKind, StatusAction, WorkOrderStatus};
use fieldbook_store::{DayView, ListQuery, NewAnswer, PRAGMAS, Store};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> Duration {
    median(
        (0..runs)
            .map(|_| {
                let start = Instant::now();
                std::hint::black_box(f());
                start.elapsed()
            })
            .collect(),
    )
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn main() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let now = Utc::now();
    let data = generate(&DemoOptions::new(30_000, now));
    let technician = data.technicians[0].id;
    let batch = data.for_technician(technician);
    let mut store = Store::open(dir.path().join("bench.sqlite")).unwrap();
    let start = Instant::now();
    store.import(&batch).unwrap();
    println!("import of {} work orders (one transaction): {}", batch.work_orders.len(), ms(start.elapsed()));

    // 1. Durable answer writes against raw inserts of the same bytes.
    let (rows, _) = store
        .list_work_orders(&ListQuery { statuses: vec![WorkOrderStatus::Assigned], limit: 10_000, ..Default::default() })
        .unwrap();
    let wo = rows.iter().find(|r| r.work_order.template_id.is_some()).unwrap().work_order.clone();
    store.change_status(wo.id, StatusAction::SetOff, now).unwrap();
    store.change_status(wo.id, StatusAction::Arrive, now).unwrap();
    let template = store.template(wo.template_id.unwrap()).unwrap().unwrap();
    let item = template.items.iter().find(|i| matches!(i.kind, ItemKind::Check)).unwrap();
    let new = NewAnswer {
        work_order_id: wo.id,
        item_key: item.key.clone(),
        answer: Answer::Check(CheckOutcome::Normal),
        note: "风扇运转正常".into(),
        supersedes: None,
    };
    let sample: InspectionResult = store.record_answer(&new, now).unwrap();
    let body = serde_json::to_string(&sample).unwrap();

    let raw = rusqlite::Connection::open(dir.path().join("raw.sqlite")).unwrap();
    raw.execute_batch(PRAGMAS).unwrap();
    raw.execute_batch("CREATE TABLE raw (id TEXT PRIMARY KEY, body TEXT NOT NULL) STRICT").unwrap();

    let writes = 400;
    // Interleave the two so that disk and cache noise hits both alike.
    let mut durable = Vec::new();
    let mut plain = Vec::new();
    for i in 0..writes {
        let start = Instant::now();
        store.record_answer(&new, now).unwrap();
        durable.push(start.elapsed());
        let start = Instant::now();
        raw.execute("INSERT INTO raw (id, body) VALUES (?1, ?2)", (format!("{i:08}"), &body)).unwrap();
        plain.push(start.elapsed());
    }
    let (durable, plain) = (median(durable), median(plain));
    println!();
    println!("durable answer write (rules + answer + outbox, synchronous=FULL): {} median of {writes}", ms(durable));
    println!(
        "raw rusqlite insert of the same {} bytes, same pragmas:          {} median of {writes}",
        body.len(),
        ms(plain)
    );
    println!("ratio durable / raw: {:.2}x (goal <= 1.5x)", durable.as_secs_f64() / plain.as_secs_f64());

    // 2. Listing: the pages the UI asks for (100 rows with the group counts), and whole lists.
    println!();
    let n = batch.work_orders.len();
    for (what, query) in [
        ("first page of 100", ListQuery { limit: 100, ..Default::default() }),
        ("page of 100 from the middle", ListQuery { offset: (n / 2) as u32, limit: 100, ..Default::default() }),
        (
            "first page of the today view",
            ListQuery {
                day: Some((DayView::Today, now + chrono::Duration::hours(8))),
                limit: 100,
                ..Default::default()
            },
        ),
        ("all 10,000 at once", ListQuery { limit: 10_000, ..Default::default() }),
    ] {
        let took = time(15, || store.list_page(&query).unwrap());
        println!("list {what:<30} of {n} work orders: {}", ms(took));
    }
    let open = ListQuery {
        statuses: vec![WorkOrderStatus::Assigned, WorkOrderStatus::EnRoute, WorkOrderStatus::OnSite],
        limit: 100,
        ..Default::default()
    };
    println!(
        "list open work only (assigned / en route / on site), first page: {}",
        ms(time(15, || store.list_page(&open).unwrap()))
    );

    // 3. Search, first page of 100 with the group counts (what the list asks per keystroke).
    let serial = rows[3].asset.as_ref().unwrap().serial.clone();
    for text in ["人民医院", "harbour", serial.as_str(), "WO-"] {
        let query = ListQuery { search: Some(text.into()), limit: 100, ..Default::default() };
        let total = store.list_page(&query).unwrap().total();
        let took = time(15, || store.list_page(&query).unwrap());
        println!("search {text:<14} ({total:>5} matches, first 100 returned): {}", ms(took));
    }

    // 4. Sign-off: the visit checked complete, the signature kept, the work order completed, and
    //    the report document built, hashed, signed (Ed25519) and kept, in one transaction.
    let signature = fieldbook_demo::DEMO_SIGNATURE_PNG;
    let draft = fieldbook_domain::SignOffDraft {
        signer_name: "王经理".into(),
        opinion: "满意".into(),
        satisfaction: 5,
        signature: fieldbook_domain::BlobId::of_bytes(signature),
        strokes: None,
    };
    let mut sign_offs = Vec::new();
    let mut answers = Vec::new();
    let mut signing = Vec::new();
    let key = store.device_key().unwrap();
    for row in rows.iter().filter(|r| r.work_order.template_id.is_some() && r.work_order.id != wo.id).take(25) {
        let id = row.work_order.id;
        store.change_status(id, StatusAction::SetOff, now).unwrap();
        store.change_status(id, StatusAction::Arrive, now).unwrap();
        let template = store.template(row.work_order.template_id.unwrap()).unwrap().unwrap();
        for item in &template.items {
            let answer = match &item.kind {
                ItemKind::Check => Answer::Check(CheckOutcome::Normal),
                ItemKind::Reading { min, max, .. } => Answer::Reading(min.or(*max).unwrap_or(1.0)),
                ItemKind::Text => Answer::Text("正常".into()),
                ItemKind::Photo => Answer::PhotoAttached,
            };
            let new = NewAnswer {
                work_order_id: id,
                item_key: item.key.clone(),
                answer,
                note: String::new(),
                supersedes: None,
            };
            let start = Instant::now();
            store.record_answer(&new, now).unwrap();
            answers.push(start.elapsed());
            if item.photo_required || matches!(item.kind, ItemKind::Photo) {
                let photo = format!("photo of {} {}", id, item.key).repeat(2000).into_bytes();
                store.attach_photo(id, Some(&item.key), "", &photo, now, now).unwrap();
            }
        }
        // The signing alone, on the same visit, outside the transaction.
        let visit = store.visit(id).unwrap();
        let signer = fieldbook_domain::evidence::ReportSigner {
            id: technician,
            name: "张伟".into(),
            staff_no: "FB-T001".into(),
        };
        let start = Instant::now();
        let document = fieldbook_domain::evidence::ReportDocument::of_visit(visit, signer, "bench", now, None);
        std::hint::black_box(key.sign(document));
        signing.push(start.elapsed());
        let start = Instant::now();
        store.sign_off(id, &draft, signature, None, now).unwrap();
        sign_offs.push(start.elapsed());
    }
    let n = sign_offs.len();
    let (sign_off, answer, signing) = (median(sign_offs), median(answers), median(signing));
    println!();
    println!("sign-off with the signed report (one transaction):  {} median of {n}", ms(sign_off));
    println!("  of which the report built, hashed and signed:      {} median of {n}", ms(signing));
    println!("durable answer write, same visits:                   {} median", ms(answer));
    println!("ratio sign-off / answer write: {:.2}x", sign_off.as_secs_f64() / answer.as_secs_f64());
}
