//! Takes screenshots of every screen in both languages at tablet sizes (landscape 1280×800
//! and portrait 800×1280), from the real app under Xvfb, into the folder given (default
//! `docs/screenshots`). Run with `./dev screenshots`.

use std::path::PathBuf;
use std::time::Duration;

use fantoccini::Locator;
use fieldbook_tests::e2e::{Error, Session};

const SIZES: [(&str, u32, u32); 2] = [("landscape", 1280, 800), ("portrait", 800, 1280)];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let out: PathBuf = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| fieldbook_tests::workspace_root().join("docs/screenshots"));
    std::fs::create_dir_all(&out)?;
    let dir = tempfile::tempdir()?;
    let data = fieldbook_tests::demo_device(dir.path(), 60, "zh-CN");
    // A visit with a checklist, for the checklist shots: on site if there is one.
    let technician = data.technicians[0].id;
    let mine: Vec<_> =
        data.batch.work_orders.iter().filter(|w| w.assignee == Some(technician) && w.template_id.is_some()).collect();
    let with_checklist = mine
        .iter()
        .find(|w| w.status == fieldbook_domain::WorkOrderStatus::OnSite)
        .or_else(|| mine.first())
        .expect("the demo has work orders with checklists")
        .id;
    let session = Session::start(dir.path()).await?;
    for (locale, lang_button) in [("zh-CN", "lang-zh"), ("en", "lang-en")] {
        session.client.find(Locator::Css(&format!("[data-testid={lang_button}]"))).await?.click().await?;
        session.wait_for_text("html", |_| true).await?;
        for (orientation, width, height) in SIZES {
            session.client.set_window_size(width, height).await?;
            // The list.
            session.eval("location.hash = '#/'").await?;
            session.wait_for("[data-testid=wo-row]").await?;
            settle().await;
            save(&session, &out, &format!("list-{orientation}-{locale}.png")).await?;
            // The detail of the most urgent work order, top and further down.
            session.client.find(Locator::Css("[data-testid=wo-row]")).await?.click().await?;
            session.wait_for("[data-testid=detail-checklist]").await?;
            settle().await;
            save(&session, &out, &format!("detail-{orientation}-{locale}.png")).await?;
            session.eval(&format!("location.hash = '#/wo/{with_checklist}'")).await?;
            session.wait_for("[data-testid=checklist-item]").await?;
            session.eval("document.querySelector('[data-testid=detail-checklist]').scrollIntoView()").await?;
            settle().await;
            save(&session, &out, &format!("checklist-{orientation}-{locale}.png")).await?;
        }
    }
    session.stop().await;
    println!("screenshots written to {}", out.display());
    Ok(())
}

async fn settle() {
    tokio::time::sleep(Duration::from_millis(400)).await;
}

async fn save(session: &Session, dir: &std::path::Path, name: &str) -> Result<(), Error> {
    let png = session.client.screenshot().await?;
    std::fs::write(dir.join(name), png)?;
    println!("{name}");
    Ok(())
}
