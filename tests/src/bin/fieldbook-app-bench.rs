//! Benchmarks the real app against a bare Tauri 2 window in the same run (not a test, not in
//! CI; run with `./dev bench-app`). Prints:
//!
//! 1. **Cold start to the first painted list**: from the WebDriver new-session request that
//!    launches the binary to the first frame rendered after the first `[data-testid=wo-row]`
//!    exists, with a data folder holding 10,000 work orders; the bare window (one static page,
//!    `bench/bare-window`) to its first rendered frame. Both are launched the same way
//!    (tauri-driver → WebKitWebDriver → the binary), alternating, and the instants come from
//!    the page's own clock (`performance.timeOrigin + performance.now()`), so WebDriver's
//!    polling is not counted; its launch overhead is, on both sides alike.
//! 2. **Memory**: PSS (`/proc/PID/smaps_rollup`) summed over the binary and every process
//!    below it (WebKit's web and network processes), after the first paint has settled; for the
//!    app with the 10,000 work orders listed and again after the searches. PSS splits each
//!    shared page among the processes mapping it, so other WebKit processes on the machine
//!    lower it; the private (USS) figure beside it does not move with them.
//! 3. **Search repaint**: in the page, from the `input` event on `[data-testid=search]` to the
//!    first frame rendered after the list's count changed, split into the wait before the
//!    request (any debounce), the IPC call (`list_work_orders`, until its answer's headers),
//!    JSON parsing and the UI update.
//!
//! Usage: `fieldbook-app-bench [RUNS] [WORK_ORDERS]` (defaults 5 and 10000). The app is
//! `FIELDBOOK_APP` (default `target/debug/fieldbook`); the bare window is `FIELDBOOK_BARE_WINDOW`
//! (default: `fieldbook-bare-window` next to the app).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, UNIX_EPOCH};

use fieldbook_tests::e2e::{Error, Session, app_binary};
use serde_json::Value;

/// Resolves with the instant (epoch ms) of the first frame rendered once a work-order row
/// exists: a message posted from inside a `requestAnimationFrame` callback is handled after
/// that frame has been rendered. `late` says the row was already there when the script ran
/// (then the instant is only an upper bound).
const APP_PAINTED: &str = r#"
const done = arguments[arguments.length - 1];
const late = document.querySelector('[data-testid=wo-row]') !== null;
const painted = () => requestAnimationFrame(() => {
  const channel = new MessageChannel();
  channel.port1.onmessage = () => done({
    at: performance.timeOrigin + performance.now(),
    origin: performance.timeOrigin,
    late,
    count: document.querySelector('[data-testid=list-count]')?.textContent.trim() ?? '',
    // Where the time went after navigation start: the document, the UI's own marks.
    timeline: (() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const points = nav ? [['response', nav.responseEnd], ['dom-interactive', nav.domInteractive]] : [];
      for (const mark of performance.getEntriesByType('mark')) points.push([mark.name.replace('fieldbook:', ''), mark.startTime]);
      points.push(['painted', performance.now()]);
      return points.map(([name, at]) => `${name} ${Math.round(at)}`).join(', ');
    })(),
  });
  channel.port2.postMessage(0);
});
if (late) {
  painted();
} else {
  const observer = new MutationObserver(() => {
    if (document.querySelector('[data-testid=wo-row]')) { observer.disconnect(); painted(); }
  });
  observer.observe(document, { childList: true, subtree: true });
}
"#;

/// The bare window's page records its first rendered frame in `window.__painted`.
const BARE_PAINTED: &str = r#"
const done = arguments[arguments.length - 1];
const poll = () => window.__painted
  ? done({ at: window.__painted, origin: performance.timeOrigin, late: false, count: '' })
  : setTimeout(poll, 5);
poll();
"#;

/// Types `arguments[0]` into the search box (sets the value, fires `input`) and times the way
/// to the repainted list. Every instant is `performance.now()` in ms.
const SEARCH: &str = r#"
const [query, done] = arguments;
const input = document.querySelector('[data-testid=search]');
const count = document.querySelector('[data-testid=list-count]');
const before = count.textContent;
const t = {};
const realFetch = window.fetch;
// Tauri's IPC on Linux is a fetch to ipc://localhost/<command>.
window.fetch = function (url) {
  if (!String(url).includes('list_work_orders')) return realFetch.apply(this, arguments);
  t.request = performance.now();
  return realFetch.apply(this, arguments).then((response) => {
    t.response = performance.now();
    // Read as text and parse, so the answer's size is known (counted once the frame is done).
    response.json = () => response.text().then((text) => {
      body = text;
      const value = JSON.parse(text);
      t.parsed = performance.now();
      return value;
    });
    return response;
  });
};
let timer;
let body = '';
const finish = (extra) => {
  window.fetch = realFetch;
  t.bytes = new TextEncoder().encode(body).length;
  observer.disconnect();
  clearTimeout(timer);
  done(Object.assign(t, extra));
};
const observer = new MutationObserver(() => {
  if (t.response === undefined || count.textContent === before) return;
  observer.disconnect();
  t.updated = performance.now();
  requestAnimationFrame(() => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      t.painted = performance.now();
      finish({ text: count.textContent.trim() });
    };
    channel.port2.postMessage(0);
  });
});
observer.observe(count, { childList: true, characterData: true, subtree: true });
timer = setTimeout(() => finish({ error: 'the list count did not change within 10 s' }), 10000);
t.input = performance.now();
input.value = query;
input.dispatchEvent(new Event('input', { bubbles: true }));
"#;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Bare,
    App,
}

struct ColdStart {
    /// New-session request → the page's navigation start.
    to_navigation: f64,
    /// New-session request → the first rendered frame (with the list, for the app).
    to_paint: f64,
    late: bool,
    pss_mb: f64,
    uss_mb: f64,
    processes: String,
    /// The page's own instants after navigation start (the app only).
    timeline: String,
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let runs: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(5);
    let work_orders: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(10_000);
    let app = app_binary();
    let bare = std::env::var_os("FIELDBOOK_BARE_WINDOW")
        .map(PathBuf::from)
        .unwrap_or_else(|| app.with_file_name("fieldbook-bare-window"));
    for binary in [&app, &bare] {
        if !binary.exists() {
            return Err(format!("{} is missing; build it first (./dev bench-app)", binary.display()).into());
        }
    }
    let load = || std::fs::read_to_string("/proc/loadavg").unwrap_or_default().trim().to_owned();
    println!("load average at start: {}", load());
    println!("app:         {}", app.display());
    println!("bare window: {}", bare.display());

    let dir = tempfile::tempdir()?;
    // FIELDBOOK_BENCH_KEEP=<folder> leaves the app's data folder there afterwards, to open the
    // same 10,000 work orders by hand (FIELDBOOK_DATA_DIR=<folder>/app).
    let dir_path = std::env::var_os("FIELDBOOK_BENCH_KEEP").map(PathBuf::from).unwrap_or_else(|| dir.path().into());
    let _ = std::fs::remove_dir_all(dir_path.join("app"));
    let app_data = dir_path.join("app");
    let bare_data = dir_path.join("bare");
    std::fs::create_dir_all(&bare_data)?;
    let started = Instant::now();
    let data = fieldbook_tests::demo_device(&app_data, work_orders, "zh-CN");
    let technician = data.technicians[0].id;
    let mine: Vec<_> = data.batch.work_orders.iter().filter(|w| w.assignee == Some(technician)).collect();
    println!("device store with {} work orders made in {:.1} s", mine.len(), started.elapsed().as_secs_f64());
    let serial = mine
        .iter()
        .filter_map(|w| w.asset_id)
        .find_map(|id| data.batch.assets.iter().find(|a| a.id == id))
        .map(|a| a.serial.clone())
        .expect("the demo work orders have assets");

    // 1 and 2: cold starts, alternating, after one discarded warm-up launch of each.
    println!("\nwarm-up launches (not counted):");
    for kind in [Kind::Bare, Kind::App] {
        let run = cold_start(kind, &app, &bare, &app_data, &bare_data).await?;
        print_cold(kind, &run);
    }
    println!("\ncold starts:");
    let mut bare_runs = Vec::new();
    let mut app_runs = Vec::new();
    for round in 0..runs {
        let order = if round % 2 == 0 { [Kind::Bare, Kind::App] } else { [Kind::App, Kind::Bare] };
        for kind in order {
            let run = cold_start(kind, &app, &bare, &app_data, &bare_data).await?;
            print_cold(kind, &run);
            if kind == Kind::Bare { bare_runs.push(run) } else { app_runs.push(run) }
        }
    }

    // 3: searches, in one more app session.
    println!("\nsearches (each from the full list, then cleared back to it):");
    let session = Session::start_app(&app, &app_data, &[]).await?;
    let first: Value = session.client.execute_async(APP_PAINTED, vec![]).await?;
    println!("list shown: {}", first["count"].as_str().unwrap_or_default());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (list_pss, list_uss, _) = memory(&session);
    let queries = ["人民医院", "harbour", serial.as_str(), "医院", "上海", "no-such-work-order"];
    let mut searches = Vec::new();
    let mut clears = Vec::new();
    for _ in 0..3 {
        for query in queries {
            let s = search(&session, query).await?;
            println!("  {:<20} {}", format!("{query:?}"), describe(&s));
            searches.push(s);
            let c = search(&session, "").await?;
            println!("  {:<20} {}", "(cleared)", describe(&c));
            clears.push(c);
        }
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (search_pss, search_uss, processes) = memory(&session);
    session.stop().await;

    // The summary.
    let median_of = |runs: &[ColdStart], f: fn(&ColdStart) -> f64| median(runs.iter().map(f).collect());
    let bare_paint = median_of(&bare_runs, |r| r.to_paint);
    let app_paint = median_of(&app_runs, |r| r.to_paint);
    let bare_nav = median_of(&bare_runs, |r| r.to_navigation);
    let app_nav = median_of(&app_runs, |r| r.to_navigation);
    let bare_pss = median_of(&bare_runs, |r| r.pss_mb);
    let bare_uss = median_of(&bare_runs, |r| r.uss_mb);
    let app_pss = median_of(&app_runs, |r| r.pss_mb);
    let late = app_runs.iter().filter(|r| r.late).count();
    println!("\nload average at the end: {}", load());
    println!("\n== summary ({runs} launches of each, medians) ==");
    println!("cold start, launch request -> first rendered frame (navigation start in brackets):");
    println!("  bare Tauri window:                {bare_paint:7.0} ms  ({bare_nav:.0} ms)");
    println!("  Fieldbook, list of {work_orders} painted: {app_paint:7.0} ms  ({app_nav:.0} ms)");
    if late > 0 {
        println!("  ({late} app launches had the list before the probe ran: upper bounds)");
    }
    println!("  ratio {:.2}x (goal <= 1.5x)", app_paint / bare_paint);
    let app_uss = median_of(&app_runs, |r| r.uss_mb);
    println!("memory 1.5 s after the first paint, PSS summed over the binary and its WebKit processes");
    println!("({processes}; private = USS, shared pages left out):");
    println!("  bare Tauri window:                {bare_pss:7.1} MB  (private {bare_uss:.1} MB)");
    println!("  Fieldbook, list of {work_orders} shown:  {app_pss:7.1} MB  (private {app_uss:.1} MB)");
    println!(
        "  Fieldbook over the bare window:  {:+7.1} MB  (private {:+.1} MB)",
        app_pss - bare_pss,
        app_uss - bare_uss
    );
    println!("  goal <= 250 MB: {:.2}x of it", app_pss / 250.0);
    println!("  the search session, list shown:   {list_pss:7.1} MB  (private {list_uss:.1} MB)");
    println!(
        "  ... after its {} searches:        {search_pss:7.1} MB  (private {search_uss:.1} MB)",
        searches.len() + clears.len()
    );
    for (what, runs) in [("search", &searches), ("clear back to the full list", &clears)] {
        let field = |f: fn(&Search) -> f64| -> (f64, f64) {
            let v: Vec<f64> = runs.iter().map(f).collect();
            (median(v.clone()), v.iter().cloned().fold(0.0, f64::max))
        };
        let (work, work_max) = field(|s| s.painted - s.request);
        let (whole, whole_max) = field(|s| s.painted - s.input);
        let (ipc, _) = field(|s| s.response - s.request);
        let (parse, _) = field(|s| s.parsed - s.response);
        let (ui, _) = field(|s| s.painted - s.parsed);
        println!("{what} repaint over {work_orders} work orders ({} runs), median / max:", runs.len());
        println!(
            "  list request -> painted: {work:6.1} / {work_max:6.1} ms  (IPC {ipc:.1}, JSON {parse:.1}, UI {ui:.1})"
        );
        println!("  input event  -> painted: {whole:6.1} / {whole_max:6.1} ms  (includes any wait before the request)");
        let bytes = median(runs.iter().filter_map(|s| s.bytes).collect());
        println!("  answer size: {:.0} KB median", bytes / 1024.0);
    }
    let work = median(searches.iter().map(|s| s.painted - s.request).collect());
    println!("  search goal <= 50 ms: {:.2}x of it (request -> painted)", work / 50.0);
    Ok(())
}

async fn cold_start(
    kind: Kind,
    app: &Path,
    bare: &Path,
    app_data: &Path,
    bare_data: &Path,
) -> Result<ColdStart, Error> {
    let (binary, data, probe) = match kind {
        Kind::Bare => (bare, bare_data, BARE_PAINTED),
        Kind::App => (app, app_data, APP_PAINTED),
    };
    let session = Session::start_app(binary, data, &[]).await?;
    let requested = session.requested_at().duration_since(UNIX_EPOCH)?.as_secs_f64() * 1000.0;
    let painted: Value = session.client.execute_async(probe, vec![]).await?;
    let at = painted["at"].as_f64().ok_or("the probe returned no instant")?;
    let origin = painted["origin"].as_f64().ok_or("the probe returned no navigation start")?;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let (pss_mb, uss_mb, processes) = memory(&session);
    session.stop().await;
    Ok(ColdStart {
        to_navigation: origin - requested,
        to_paint: at - requested,
        late: painted["late"].as_bool().unwrap_or(false),
        pss_mb,
        uss_mb,
        processes,
        timeline: painted["timeline"].as_str().unwrap_or_default().to_owned(),
    })
}

fn print_cold(kind: Kind, run: &ColdStart) {
    let name = if kind == Kind::Bare { "bare window" } else { "Fieldbook  " };
    println!(
        "  {name} painted {:6.0} ms (navigation start {:5.0} ms){}   PSS {:6.1} MB  private {:6.1} MB  [{}]",
        run.to_paint,
        run.to_navigation,
        if run.late { " (late probe)" } else { "" },
        run.pss_mb,
        run.uss_mb,
        run.processes
    );
    if !run.timeline.is_empty() {
        println!("      ms after navigation start: {}", run.timeline);
    }
}

struct Search {
    input: f64,
    request: f64,
    response: f64,
    parsed: f64,
    painted: f64,
    bytes: Option<f64>,
    text: String,
}

async fn search(session: &Session, query: &str) -> Result<Search, Error> {
    // Let the previous repaint and any timers settle.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let t: Value = session.client.execute_async(SEARCH, vec![Value::from(query)]).await?;
    if let Some(error) = t["error"].as_str() {
        return Err(format!("search {query:?}: {error}").into());
    }
    let get = |k: &str| t[k].as_f64().ok_or_else(|| format!("search {query:?}: no {k} in {t}"));
    Ok(Search {
        input: get("input")?,
        request: get("request")?,
        response: get("response")?,
        parsed: get("parsed")?,
        painted: get("painted")?,
        bytes: t["bytes"].as_f64(),
        text: t["text"].as_str().unwrap_or_default().to_owned(),
    })
}

fn describe(s: &Search) -> String {
    format!(
        "{:<24} input->painted {:6.1} ms = to request {:5.1} + IPC {:5.1} + JSON {:4.1} + UI {:5.1}  ({} KB)",
        s.text,
        s.painted - s.input,
        s.request - s.input,
        s.response - s.request,
        s.parsed - s.response,
        s.painted - s.parsed,
        s.bytes.map(|b| format!("{:.0}", b / 1024.0)).unwrap_or_else(|| "?".into())
    )
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    match values.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => values[n / 2],
        n => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

/// PSS and USS (private pages: no shared library counted) in MB summed over the session's app process and every process below it, and
/// the processes counted (by name).
fn memory(session: &Session) -> (f64, f64, String) {
    let pids = descendants(&session.app_pids());
    let (mut pss, mut uss) = (0u64, 0u64);
    let mut names: Vec<String> = Vec::new();
    for pid in &pids {
        let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else { continue };
        let field = |name: &str| {
            rollup
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kb| kb.parse::<u64>().ok())
                .unwrap_or(0)
        };
        pss += field("Pss:");
        uss += field("Private_Clean:") + field("Private_Dirty:");
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
        names.push(format!("{} {:.0}", name.trim(), field("Pss:") as f64 / 1024.0));
    }
    (pss as f64 / 1024.0, uss as f64 / 1024.0, names.join(" + "))
}

/// `roots` and all their descendants, found through the parent ids in /proc/*/stat.
fn descendants(roots: &[u32]) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            // After the command name (in parentheses, may hold spaces): state, ppid, ...
            let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
            if let Some(ppid) = after.split_whitespace().nth(1).and_then(|f| f.parse::<u32>().ok()) {
                children.entry(ppid).or_default().push(pid);
            }
        }
    }
    let mut all = roots.to_vec();
    let mut i = 0;
    while i < all.len() {
        if let Some(kids) = children.get(&all[i]) {
            all.extend(kids);
        }
        i += 1;
    }
    all
}
