//! The `fieldbook-server` command: init, accounts, demo data, devices, and serve with graceful
//! shutdown, against a real database file.

use std::process::{Command, Stdio};
use std::time::Duration;

fn server(db: &std::path::Path, args: &[&str]) -> (bool, String) {
    let output =
        Command::new(env!("CARGO_BIN_EXE_fieldbook-server")).env("FIELDBOOK_DATABASE", db).args(args).output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

#[test]
fn init_accounts_demo_and_devices_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite");
    let (ok, out) = server(&db, &["init", "--admin-password", "admin-pw-123"]);
    assert!(ok, "{out}");
    let (ok, out) = server(&db, &["init", "--admin-password", "admin-pw-123"]);
    assert!(!ok, "a second init is refused: {out}");
    assert!(out.contains("already has accounts"), "{out}");
    let (ok, out) = server(&db, &["demo", "--work-orders", "30", "--password", "demo-pw-123"]);
    assert!(ok, "{out}");
    assert!(out.contains("30 work orders"), "{out}");
    let (ok, out) = server(
        &db,
        &[
            "user",
            "add",
            "--username",
            "tech9",
            "--password",
            "tech9-pw-123",
            "--name",
            "周杰",
            "--staff-no",
            "FB-T009",
            "--role",
            "technician",
            "--supervisor",
            "supervisor",
        ],
    );
    assert!(ok, "{out}");
    let (ok, out) = server(
        &db,
        &[
            "user",
            "add",
            "--username",
            "bad",
            "--password",
            "short",
            "--name",
            "x",
            "--staff-no",
            "x",
            "--role",
            "technician",
        ],
    );
    assert!(!ok && out.contains("at least 8"), "{out}");
    let (ok, out) = server(
        &db,
        &[
            "user",
            "add",
            "--username",
            "x2",
            "--password",
            "long-enough",
            "--name",
            "x",
            "--staff-no",
            "x",
            "--role",
            "boss",
        ],
    );
    assert!(!ok && out.contains("role"), "{out}");
    let (ok, out) = server(&db, &["user", "disable", "tech9"]);
    assert!(ok, "{out}");
    let (ok, out) = server(&db, &["user", "list"]);
    assert!(ok, "{out}");
    assert!(out.lines().any(|l| l.starts_with("tech9") && l.contains("disabled") && l.contains("周杰")), "{out}");
    assert!(out.lines().any(|l| l.starts_with("admin") && l.contains("active")), "{out}");
    let (ok, out) = server(&db, &["device", "revoke", "no-such-device"]);
    assert!(!ok, "{out}");
    let (ok, _) = server(&db, &["device", "list"]);
    assert!(ok);
    let (ok, out) = server(&db, &["serve", "--help"]);
    assert!(ok && out.contains("FIELDBOOK_LISTEN"), "the help names the environment variables: {out}");
}

#[test]
fn serve_answers_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite");
    assert!(server(&db, &["init", "--admin-password", "admin-pw-123"]).0);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let child = Command::new(env!("CARGO_BIN_EXE_fieldbook-server"))
        .env("FIELDBOOK_DATABASE", &db)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--log-json"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let healthy = runtime.block_on(async {
        for _ in 0..100 {
            if let Ok(response) = reqwest::get(format!("http://127.0.0.1:{port}/healthz")).await {
                return response.status().is_success();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    });
    assert!(healthy);
    Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "a SIGTERM is a clean stop");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(log.lines().all(|l| l.trim().is_empty() || l.starts_with('{')), "JSON log lines: {log}");
    assert!(log.contains("shutting down"), "{log}");
}

#[test]
fn serve_takes_its_settings_from_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite");
    assert!(server(&db, &["init", "--admin-password", "admin-pw-123"]).0);
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new(env!("CARGO_BIN_EXE_fieldbook-server"))
        .env("FIELDBOOK_DATABASE", &db)
        .env("FIELDBOOK_LISTEN", format!("127.0.0.1:{port}"))
        .env("FIELDBOOK_MAX_BODY_BYTES", "2000")
        .env("FIELDBOOK_LOGIN_ATTEMPTS_PER_MINUTE", "1")
        .arg("serve")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let base = format!("http://127.0.0.1:{port}");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let statuses = runtime.block_on(async {
        let client = reqwest::Client::new();
        let mut up = false;
        for _ in 0..100 {
            if client.get(format!("{base}/healthz")).send().await.is_ok() {
                up = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert!(up, "the server listens where FIELDBOOK_LISTEN says");
        let enroll = |password: String| {
            let body = serde_json::json!({"username": "admin", "password": password, "device_name": "t",
                "public_key": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"});
            client
                .post(format!("{base}/v1/enroll"))
                .header(fieldbook_protocol::PROTOCOL_HEADER, fieldbook_protocol::PROTOCOL_VERSION.to_string())
                .json(&body)
                .send()
        };
        let too_large = enroll("x".repeat(3000)).await.unwrap().status().as_u16();
        let wrong = enroll("wrong-password".into()).await.unwrap().status().as_u16();
        let limited = enroll("admin-pw-123".into()).await.unwrap().status().as_u16();
        (too_large, wrong, limited)
    });
    child.kill().unwrap();
    child.wait().unwrap();
    // A body over FIELDBOOK_MAX_BODY_BYTES, then one sign-in a minute (FIELDBOOK_LOGIN_ATTEMPTS_PER_MINUTE):
    // the second attempt is refused even with the right password.
    assert_eq!(statuses, (413, 401, 429));
}

#[test]
fn a_setting_from_the_environment_that_does_not_parse_stops_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("server.sqlite");
    assert!(server(&db, &["init", "--admin-password", "admin-pw-123"]).0);
    for variable in
        ["FIELDBOOK_MAX_BODY_BYTES", "FIELDBOOK_LOGIN_ATTEMPTS_PER_MINUTE", "FIELDBOOK_PULL_STREAM_BUDGET_MS"]
    {
        let output = Command::new(env!("CARGO_BIN_EXE_fieldbook-server"))
            .env("FIELDBOOK_DATABASE", &db)
            .env("FIELDBOOK_LISTEN", "127.0.0.1:0")
            .env(variable, "many")
            .arg("serve")
            .output()
            .unwrap();
        let said = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{variable}=many is refused");
        assert!(said.contains("many"), "{variable}: {said}");
    }
}
