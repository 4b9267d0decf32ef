//! Starts the real Fieldbook binary under tauri-driver and hands out a WebDriver client.
//!
//! Pitfalls handled here (see shared/tauri-testing.md): tauri-driver runs in its own process
//! group and the whole group is killed on drop, or WebKitWebDriver and the app keep the test's
//! pipes open; session creation has a timeout and is retried with a fresh driver, because Xvfb
//! now and then refuses a connection and the new-session call then hangs; both ports are held
//! open together while picking them.

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
use fantoccini::{Client, ClientBuilder, Locator, elements::Element};

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// The app binary to drive: `FIELDBOOK_APP` or the debug build with the bundled UI.
pub fn app_binary() -> PathBuf {
    std::env::var_os("FIELDBOOK_APP")
        .map(PathBuf::from)
        .unwrap_or_else(|| crate::workspace_root().join("target/debug/fieldbook"))
}

fn two_free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let b = TcpListener::bind("127.0.0.1:0").expect("bind a port");
    (a.local_addr().unwrap().port(), b.local_addr().unwrap().port())
}

fn tauri_driver() -> PathBuf {
    if let Ok(path) = std::env::var("TAURI_DRIVER") {
        return path.into();
    }
    let home = std::env::var("CARGO_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".cargo"));
    let candidate = home.join("bin/tauri-driver");
    if candidate.exists() { candidate } else { PathBuf::from("tauri-driver") }
}

/// A running app with a WebDriver session on it.
pub struct Session {
    pub client: Client,
    driver: Child,
    app: PathBuf,
    requested_at: std::time::SystemTime,
}

impl Session {
    /// Draws a three-stroke signature on `canvas` with the mouse: pointer down, several
    /// moves, up, as a finger would.
    pub async fn draw_signature(&self, canvas: &Element) -> Result<(), Error> {
        // Pointer actions do not scroll: bring the box into view as the customer would see it.
        self.client
            .execute(
                "arguments[0].scrollIntoView({ block: 'center' }); return null",
                vec![serde_json::to_value(canvas)?],
            )
            .await?;
        let (_, _, width, height) = canvas.rectangle().await?;
        let strokes: [&[(f64, f64)]; 3] = [
            &[(-0.40, 0.10), (-0.35, -0.20), (-0.30, 0.15), (-0.25, -0.25), (-0.20, 0.10), (-0.15, -0.10)],
            &[(-0.05, -0.20), (0.00, 0.20), (0.05, -0.15), (0.10, 0.20), (0.15, -0.05)],
            &[(0.20, 0.00), (0.25, 0.15), (0.30, -0.15), (0.35, 0.10), (0.40, -0.05)],
        ];
        let mut mouse = MouseActions::new("signer".to_owned());
        for stroke in strokes {
            let at = |(fx, fy): (f64, f64)| (fx * width, fy * height);
            let (x, y) = at(stroke[0]);
            mouse = mouse
                .then(PointerAction::MoveToElement { element: canvas.clone(), duration: None, x, y })
                .then(PointerAction::Down { button: MOUSE_BUTTON_LEFT });
            for point in &stroke[1..] {
                let (x, y) = at(*point);
                mouse = mouse.then(PointerAction::MoveToElement {
                    element: canvas.clone(),
                    duration: Some(Duration::from_millis(30)),
                    x,
                    y,
                });
            }
            mouse = mouse.then(PointerAction::Up { button: MOUSE_BUTTON_LEFT });
        }
        self.client.perform_actions(mouse).await?;
        self.client.release_actions().await?;
        Ok(())
    }

    /// Launches the app with `FIELDBOOK_DATA_DIR=data_dir` and opens a session, retrying up
    /// to three times with a fresh driver.
    pub async fn start(data_dir: &Path) -> Result<Session, Error> {
        Self::start_with_env(data_dir, &[]).await
    }

    /// Like [`Session::start`], with more environment variables for the app.
    pub async fn start_with_env(data_dir: &Path, env: &[(&str, &str)]) -> Result<Session, Error> {
        Self::start_app(&app_binary(), data_dir, env).await
    }

    /// Like [`Session::start_with_env`] with another Tauri binary than the app (the benchmark's
    /// bare window).
    pub async fn start_app(app: &Path, data_dir: &Path, env: &[(&str, &str)]) -> Result<Session, Error> {
        // Both rustls providers are linked (through reqwest and fantoccini); choose one.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let app = app.to_path_buf();
        if !app.exists() {
            return Err(format!("{} is missing; build it first (./dev build)", app.display()).into());
        }
        let mut last_error: Error = "no attempt made".into();
        for attempt in 1..=3 {
            let (port, native_port) = two_free_ports();
            let mut driver = Command::new(tauri_driver())
                .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
                .args(["--native-driver", "/usr/bin/WebKitWebDriver"])
                .env("FIELDBOOK_DATA_DIR", data_dir)
                // Only what the test passes signs the app in: not a developer's shell.
                .env_remove("FIELDBOOK_SERVER")
                .env_remove("FIELDBOOK_USERNAME")
                .env_remove("FIELDBOOK_PASSWORD")
                .envs(env.iter().copied())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .process_group(0)
                .spawn()
                .map_err(|e| {
                    format!("cannot start tauri-driver ({e}); install it with `cargo install tauri-driver`")
                })?;
            let mut requested_at = std::time::SystemTime::now();
            let connected = async {
                wait_for_port(port, Duration::from_secs(10)).await?;
                let capabilities = serde_json::json!({
                    "browserName": "wry",
                    "tauri:options": { "application": app.to_str().expect("the app path is UTF-8") }
                });
                let capabilities = capabilities.as_object().expect("an object").clone();
                requested_at = std::time::SystemTime::now();
                let client = tokio::time::timeout(
                    Duration::from_secs(20),
                    ClientBuilder::rustls()?.capabilities(capabilities).connect(&format!("http://127.0.0.1:{port}")),
                )
                .await
                .map_err(|_| "the WebDriver session did not start within 20 s")??;
                Ok::<Client, Error>(client)
            }
            .await;
            match connected {
                Ok(client) => return Ok(Session { client, driver, app, requested_at }),
                Err(err) => {
                    eprintln!("attempt {attempt} to start the app failed: {err}");
                    kill_group(&mut driver);
                    last_error = err;
                }
            }
        }
        Err(last_error)
    }

    /// The wall-clock time the new-session request that launched the app was sent.
    pub fn requested_at(&self) -> std::time::SystemTime {
        self.requested_at
    }

    /// Ends the session and stops the app and its drivers.
    pub async fn stop(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.client.clone().close()).await;
        kill_group(&mut self.driver);
    }

    /// Waits until `css` matches at least one element and returns the first.
    pub async fn wait_for(&self, css: &str) -> Result<Element, Error> {
        self.wait_for_within(css, Duration::from_secs(15)).await
    }

    /// Like [`Session::wait_for`], with its own time limit.
    pub async fn wait_for_within(&self, css: &str, limit: Duration) -> Result<Element, Error> {
        self.client
            .wait()
            .at_most(limit)
            .for_element(Locator::Css(css))
            .await
            .map_err(|e| format!("{css} did not appear within {limit:?}: {e}").into())
    }

    /// Waits until `css` matches exactly `count` elements, and returns them.
    pub async fn wait_for_count(&self, css: &str, count: usize) -> Result<Vec<Element>, Error> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let found = self.client.find_all(Locator::Css(css)).await?;
            if found.len() == count {
                return Ok(found);
            }
            if Instant::now() > deadline {
                return Err(format!("{css} matched {} elements, not {count}, after 15 s", found.len()).into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks the first element matching `css`, once it is there.
    pub async fn click(&self, css: &str) -> Result<(), Error> {
        self.wait_for(css).await?.click().await.map_err(|e| format!("clicking {css}: {e}"))?;
        Ok(())
    }

    /// Types `text` into the first element matching `css`, once it is there.
    pub async fn type_into(&self, css: &str, text: &str) -> Result<(), Error> {
        self.wait_for(css).await?.send_keys(text).await.map_err(|e| format!("typing into {css}: {e}"))?;
        Ok(())
    }

    /// The process ids of the app binary this session's driver started (it shares the driver's
    /// process group), read from /proc.
    pub fn app_pids(&self) -> Vec<u32> {
        let group = self.driver.id();
        let app = std::fs::canonicalize(&self.app).unwrap_or_else(|_| self.app.clone());
        let mut pids = Vec::new();
        let Ok(entries) = std::fs::read_dir("/proc") else { return pids };
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse::<u32>().ok()) else { continue };
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else { continue };
            // Fields after the command name, which is in parentheses and may hold spaces:
            // state, ppid, pgrp, ...
            let Some(after) = stat.rfind(')').map(|i| &stat[i + 1..]) else { continue };
            let pgrp = after.split_whitespace().nth(2).and_then(|f| f.parse::<u32>().ok());
            if pgrp != Some(group) {
                continue;
            }
            if std::fs::read_link(format!("/proc/{pid}/exe")).is_ok_and(|exe| exe == app) {
                pids.push(pid);
            }
        }
        pids
    }

    /// Kills the app with SIGKILL (no chance to shut down cleanly) and waits until it is gone.
    /// The session is unusable afterwards; drop it.
    pub async fn kill_app(&self) -> Result<u32, Error> {
        let pids = self.app_pids();
        let [pid] = pids[..] else {
            return Err(format!("expected one app process in the driver's group, found {pids:?}").into());
        };
        let status = Command::new("kill").args(["-s", "KILL", &pid.to_string()]).status()?;
        if !status.success() {
            return Err(format!("kill -9 {pid} failed").into());
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        // Gone, or a zombie waiting for WebKitWebDriver to reap it.
        while std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .is_ok_and(|stat| stat.rfind(')').is_some_and(|i| !stat[i + 1..].trim_start().starts_with('Z')))
        {
            if Instant::now() > deadline {
                return Err(format!("the app (pid {pid}) survived SIGKILL for 10 s").into());
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        Ok(pid)
    }

    /// Waits until the text of the first `css` element satisfies `check`, and returns it.
    pub async fn wait_for_text(&self, css: &str, check: impl Fn(&str) -> bool) -> Result<String, Error> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            if check(&text) {
                return Ok(text);
            }
            if Instant::now() > deadline {
                return Err(format!("{css} never showed the expected text; last seen: {text:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Like [`Session::wait_for_text`] with the element's `textContent`: WebKitWebDriver's
    /// rendered text leaves out text in clipped (ellipsis) boxes.
    pub async fn wait_for_content(&self, css: &str, check: impl Fn(&str) -> bool) -> Result<String, Error> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let text = match self.client.find(Locator::Css(css)).await {
                Ok(element) => element.prop("textContent").await.ok().flatten().unwrap_or_default(),
                Err(_) => String::new(),
            };
            let text = text.trim().to_owned();
            if check(&text) {
                return Ok(text);
            }
            if Instant::now() > deadline {
                return Err(format!("{css} never held the expected text; last seen: {text:?}").into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The texts of every element matching `css`.
    pub async fn texts(&self, css: &str) -> Result<Vec<String>, Error> {
        let mut texts = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await? {
            texts.push(element.text().await?);
        }
        Ok(texts)
    }

    pub async fn attr(&self, css: &str, name: &str) -> Result<Option<String>, Error> {
        Ok(self.client.find(Locator::Css(css)).await?.attr(name).await?)
    }

    /// Runs `script` in the page and returns its result.
    pub async fn eval(&self, script: &str) -> Result<serde_json::Value, Error> {
        Ok(self.client.execute(script, vec![]).await?)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        kill_group(&mut self.driver);
    }
}

fn kill_group(child: &mut Child) {
    // The driver leads its own process group; signalling the group reaches WebKitWebDriver and
    // the app as well.
    let _ = Command::new("kill").args(["-s", "KILL", "--", &format!("-{}", child.id())]).status();
    let _ = child.kill();
    let _ = child.wait();
}

async fn wait_for_port(port: u16, limit: Duration) -> Result<(), Error> {
    let deadline = Instant::now() + limit;
    while tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_err() {
        if Instant::now() > deadline {
            return Err(format!("tauri-driver did not listen on port {port}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}
