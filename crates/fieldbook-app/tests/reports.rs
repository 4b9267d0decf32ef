//! Signed visit reports in the app, against the real server on a loopback port: the report is
//! signed at sign-off, checked on the device, exported to a PDF that carries it, accepted into
//! the server's ledger on sync, and a PDF re-made from an edited report is caught.

use std::process::Command;
use std::sync::Arc;

use fieldbook_app::{App, Locale, RecordState, SignOffInput, SystemClock, WorkOrderQuery};
use fieldbook_domain::{Answer, CheckOutcome, ItemKind, StatusAction, WorkOrderStatus};
use fieldbook_server::{AppState, Config};
use fieldbook_server_db::Database;

const PASSWORD: &str = "app-report-pw-1";

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([(x % 256) as u8, (y % 256) as u8, 90]));
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image).write_to(&mut out, image::ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

fn pdftotext(path: &std::path::Path) -> String {
    let output =
        Command::new("pdftotext").arg("-layout").arg(path).arg("-").output().expect("pdftotext (poppler-utils)");
    assert!(output.status.success());
    String::from_utf8(output.stdout).unwrap()
}

/// Takes an assigned visit through every checklist item (photos where asked) to the customer's
/// signature.
fn complete_visit(app: &App, id: &str) {
    app.change_status(id, StatusAction::SetOff).unwrap();
    app.change_status(id, StatusAction::Arrive).unwrap();
    let detail = app.work_order_detail(id).unwrap();
    for item in &detail.template.as_ref().unwrap().items {
        let answer = match &item.kind {
            ItemKind::Check => Answer::Check(CheckOutcome::Normal),
            ItemKind::Reading { min, max, .. } => Answer::Reading(min.or(*max).unwrap_or(1.0)),
            ItemKind::Text => Answer::Text("运行正常 / running normally".into()),
            ItemKind::Photo => Answer::PhotoAttached,
        };
        if item.photo_required || matches!(item.kind, ItemKind::Photo) {
            app.attach_photo(id, Some(&item.key), "现场照片", &jpeg(1200, 900)).unwrap();
        }
        app.record_answer(id, &item.key, answer, "", None).unwrap();
    }
    let input =
        SignOffInput { signer_name: "王经理".into(), opinion: "处理及时,满意".into(), satisfaction: 5 };
    app.sign(id, &input, fieldbook_demo::DEMO_SIGNATURE_PNG, Some(&pad_strokes())).unwrap();
}

/// A signature pad's strokes, as the UI sends them.
fn pad_strokes() -> Vec<u8> {
    let points = |from: f64| -> Vec<serde_json::Value> {
        (0..40)
            .map(|i| {
                let x = from + f64::from(i) * 6.0;
                serde_json::json!({"x": x, "y": 100.0 + (x / 9.0).sin() * 30.0, "time": 1000.0 + x, "pressure": 0.5})
            })
            .collect()
    };
    let groups = serde_json::json!([{"points": points(40.0)}, {"points": points(320.0)}]);
    serde_json::to_vec(&serde_json::json!({"width": 640.0, "height": 200.0, "groups": groups})).unwrap()
}

#[tokio::test]
async fn a_signed_report_is_checked_exported_and_confirmed_by_the_ledger() {
    let dir = tempfile::tempdir().unwrap();
    let db: Arc<dyn Database> =
        Arc::new(fieldbook_server_sqlite::SqliteDatabase::open(dir.path().join("server.sqlite")).unwrap());
    fieldbook_server::demo::load(db.as_ref(), 40, PASSWORD, chrono::Utc::now()).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let state = AppState::new(db.clone(), Arc::new(fieldbook_server::SystemClock), Config::default());
    tokio::spawn(fieldbook_server::serve(listener, state, std::future::pending()));

    let app = App::open(&dir.path().join("device"), Arc::new(SystemClock)).unwrap();
    app.enroll(&base, "tech1", PASSWORD, "平板").await.unwrap();
    app.sync_now().await.unwrap();
    let list = app.list_work_orders(WorkOrderQuery { statuses: vec![WorkOrderStatus::Assigned], ..Default::default() });
    let id = list.unwrap().items.into_iter().find(|w| w.kind == fieldbook_domain::WorkOrderKind::Patrol).unwrap().id;
    assert!(app.reports(&id).unwrap().is_empty(), "no report before sign-off");
    let (code, _) = match app.export_report(&id, None, Locale::En, dir.path()) {
        Err(e) => (e.code, e.message),
        Ok(_) => panic!("a visit without a sign-off has no report to export"),
    };
    assert_eq!(code, fieldbook_app::ErrorCode::NotFound);

    complete_visit(&app, &id);
    let versions = app.reports(&id).unwrap();
    assert_eq!(versions.len(), 1);
    let version = &versions[0];
    assert!(version.intact_here, "{:?}", version.reasons);
    assert_eq!(version.ledger, RecordState::LocalOnly, "signed offline, not sent yet");
    assert!(version.technician.contains("FB-T001"), "{}", version.technician);
    // The pen strokes are kept beside the image, and the report vouches for both.
    let sign_off = app.work_order_detail(&id).unwrap().sign_off.unwrap();
    let strokes = sign_off.strokes.clone().expect("the strokes are kept");
    let kept: fieldbook_media::SignatureStrokes = serde_json::from_slice(&app.blob(strokes.as_str()).unwrap()).unwrap();
    assert_eq!((kept.width, kept.height, kept.strokes.len()), (640, 200, 2));

    // Exported before it was ever sent: the PDF carries the footer and the signed report.
    let exported = app.export_report(&id, None, Locale::ZhCn, &dir.path().join("exports")).unwrap();
    let pdf_path = std::path::PathBuf::from(&exported.path);
    let pdf = std::fs::read(&pdf_path).unwrap();
    assert_eq!(pdf.len() as u64, exported.bytes);
    let text = pdftotext(&pdf_path);
    assert!(text.contains(&version.code), "the footer shows the short code");
    assert!(text.contains("王经理") && text.contains("处理及时,满意"), "the sign-off is in the report");
    let carried = fieldbook_report::signed_report_in_pdf(&pdf).unwrap().expect("the PDF carries its report");
    assert_eq!(carried.hash, version.hash);

    // The photos are in it as the device's thumbnails (1200×900 → 256×192), not the photos.
    let photos = app.work_order_detail(&id).unwrap().photos.len();
    assert!(photos > 0, "the patrol asks for photos");
    let document = lopdf::Document::load_mem(&pdf).unwrap();
    let sizes: Vec<(i64, i64)> = document
        .objects
        .values()
        .filter_map(|object| object.as_stream().ok())
        .filter(|stream| stream.dict.get(b"Subtype").and_then(|s| s.as_name()).is_ok_and(|n| n == b"Image"))
        .map(|stream| {
            let side = |key: &[u8]| stream.dict.get(key).and_then(|v| v.as_i64()).unwrap();
            (side(b"Width"), side(b"Height"))
        })
        .collect();
    assert_eq!(sizes.iter().filter(|s| **s == (256, 192)).count(), photos, "{sizes:?}");
    assert!(sizes.iter().all(|(w, h)| *w <= 1000 && *h <= 1000), "no full-size photo: {sizes:?}");

    // The preview: the same pages as the PDF, as images with ink on them.
    let preview = app.preview_report(&id, Some(&version.hash), Locale::ZhCn).unwrap();
    let pdf_pages = lopdf::Document::load_mem(&pdf).unwrap().get_pages().len();
    assert_eq!(preview.len(), pdf_pages, "one image per PDF page");
    for page in &preview {
        use base64::Engine;
        let png = base64::engine::general_purpose::STANDARD.decode(page).unwrap();
        let image = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap().to_luma8();
        // A4 at 1.5 px per point.
        assert_eq!((image.width(), image.height()), (893, 1263));
        let inked = image.pixels().filter(|p| p.0[0] < 128).count();
        assert!(inked > 10_000, "a page with text on it: {inked} dark pixels");
    }
    let missing = app.preview_report(&id, Some("0000"), Locale::ZhCn).unwrap_err();
    assert_eq!(missing.code, fieldbook_app::ErrorCode::NotFound);

    // Sync: the ledger checks and holds it.
    app.sync_now().await.unwrap();
    let versions = app.verify_reports(&id).await.unwrap();
    assert_eq!(versions[0].ledger, RecordState::Confirmed);
    let server = versions[0].server.as_ref().unwrap();
    assert_eq!((server.verdict.as_str(), server.ledger_seq), ("intact", Some(1)), "{:?}", server.reasons);
    assert!(db.blob(&strokes).await.unwrap().is_some(), "the strokes reached the server");

    // The server's verify command finds the PDF intact, its pages as this tablet sealed them.
    assert!(fieldbook_server::verify::run(db.as_ref(), pdf_path.to_str().unwrap(), true).await.unwrap());
    let fieldbook_domain::evidence::SealCheck::Sealed(seal) = fieldbook_domain::evidence::check_pdf_seal(&pdf) else {
        panic!("the exported PDF is sealed")
    };
    assert_eq!(seal.report_hash, version.hash);
    let tablet = db.device_key(&seal.device_id).await.unwrap().expect("the sealing tablet is enrolled");
    assert_eq!(tablet.0.as_deref(), Some(seal.public_key.as_str()));

    // The pages edited (one byte of the file), the seal stripped, or pages sealed again by a
    // key no enrolled device holds: the record is still intact, the PDF is not.
    let check = |bytes: Vec<u8>| {
        let path = dir.path().join("edited.pdf");
        std::fs::write(&path, bytes).unwrap();
        let db = db.clone();
        async move { fieldbook_server::verify::run(db.as_ref(), path.to_str().unwrap(), false).await.unwrap() }
    };
    let sealed_length = pdf.windows(16).rposition(|w| w == b"\n%FieldbookSeal ").unwrap();
    // One byte inside a photo's JPEG data: the file still reads, a picture on a page differs.
    let photo = pdf.windows(3).position(|w| w == [0xff, 0xd8, 0xff]).expect("a JPEG in the PDF");
    let mut edited = pdf.clone();
    edited[photo + 600] ^= 0x20;
    assert!(fieldbook_report::signed_report_in_pdf(&edited).unwrap().is_some(), "still a readable PDF");
    assert!(!check(edited).await, "a byte of the pages changed");
    assert!(!check(pdf[..sealed_length].to_vec()).await, "the seal stripped");
    let resealed = fieldbook_domain::evidence::DeviceKey::generate().seal_pdf(
        &pdf[..sealed_length],
        &version.hash,
        &seal.device_id,
        chrono::Utc::now(),
    );
    assert!(!check(resealed).await, "sealed by a key the tablet did not enroll with");
    assert!(check(pdf.clone()).await, "the export itself still checks out");

    // Someone edits the report and makes a PDF of it: caught, whether the hash is kept or not.
    let mut forged = carried.clone();
    forged.document.visit.sign_off.as_mut().unwrap().satisfaction =
        fieldbook_domain::Satisfaction::try_from(1i64).unwrap();
    let forged_pdf = dir.path().join("forged.pdf");
    std::fs::write(&forged_pdf, forge(&pdf, &carried, &forged)).unwrap();
    assert!(!fieldbook_server::verify::run(db.as_ref(), forged_pdf.to_str().unwrap(), false).await.unwrap());
    let rehashed = fieldbook_domain::evidence::SignedReport { hash: forged.document.hash(), ..forged.clone() };
    std::fs::write(&forged_pdf, forge(&pdf, &carried, &rehashed)).unwrap();
    assert!(!fieldbook_server::verify::run(db.as_ref(), forged_pdf.to_str().unwrap(), false).await.unwrap());
}

/// The PDF with its attached signed report replaced by `forged` (uncompressed, as a forger's
/// tool would write it).
fn forge(
    pdf: &[u8],
    original: &fieldbook_domain::evidence::SignedReport,
    forged: &fieldbook_domain::evidence::SignedReport,
) -> Vec<u8> {
    let mut document = lopdf::Document::load_mem(pdf).unwrap();
    let mut replaced = 0;
    for object in document.objects.values_mut() {
        if let Ok(stream) = object.as_stream_mut() {
            let content = stream.decompressed_content().unwrap_or_else(|_| stream.content.clone());
            if serde_json::from_slice::<fieldbook_domain::evidence::SignedReport>(&content)
                .is_ok_and(|r| r == *original)
            {
                stream.dict.remove(b"Filter");
                stream.set_content(serde_json::to_vec(forged).unwrap());
                replaced += 1;
            }
        }
    }
    assert_eq!(replaced, 1);
    let mut out = Vec::new();
    document.save_to(&mut out).unwrap();
    out
}

#[test]
fn a_photo_fetched_from_another_device_gets_its_thumbnail_made_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fieldbook.sqlite");
    let mut store = fieldbook_store::Store::open(&path).unwrap();
    let taken_elsewhere = fieldbook_media::process_photo(&jpeg(2000, 1500), &Default::default()).unwrap();
    let id: fieldbook_domain::BlobId = taken_elsewhere.id.parse().unwrap();
    store.put_fetched_blob(&id, &taken_elsewhere.jpeg, chrono::Utc::now()).unwrap();
    assert_eq!(store.thumbnail(&id).unwrap(), None, "fetched photos come without one");
    let app = App::with_store(store, Arc::new(SystemClock));

    let thumbnail = app.photo_thumbnail(id.as_str()).unwrap();
    let image = image::load_from_memory_with_format(&thumbnail, image::ImageFormat::Jpeg).unwrap();
    assert_eq!((image.width(), image.height()), (256, 192));
    assert!(thumbnail.len() < taken_elsewhere.jpeg.len() / 4, "{} bytes", thumbnail.len());
    drop(app);
    let store = fieldbook_store::Store::open(&path).unwrap();
    assert_eq!(store.thumbnail(&id).unwrap(), Some(thumbnail), "kept for next time");

    // A photo not on the device yet, and an id that is no id.
    let app = App::with_store(store, Arc::new(SystemClock));
    let absent = fieldbook_domain::BlobId::of_bytes(b"not here");
    assert_eq!(app.photo_thumbnail(absent.as_str()).unwrap_err().code, fieldbook_app::ErrorCode::NotFound);
    assert_eq!(app.photo_thumbnail("../etc").unwrap_err().code, fieldbook_app::ErrorCode::InvalidInput);
}
