//! The architecture's invariants, checked as tests so that a change breaking one fails CI.
//! See ARCHITECTURE.md for why each holds.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// (package name, manifest path, names of its normal and build dependencies)
fn packages() -> Vec<(String, String, Vec<String>)> {
    let output = Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let metadata: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    metadata["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].is_null() || d["kind"] == "build")
                .map(|d| d["name"].as_str().unwrap().to_owned())
                .collect();
            (p["name"].as_str().unwrap().to_owned(), p["manifest_path"].as_str().unwrap().to_owned(), deps)
        })
        .collect()
}

fn crate_packages() -> Vec<(String, Vec<String>)> {
    let crates = root().join("crates");
    packages()
        .into_iter()
        .filter(|(_, manifest, _)| Path::new(manifest).starts_with(&crates))
        .map(|(name, _, deps)| (name, deps))
        .collect()
}

#[test]
fn nothing_under_crates_depends_on_tauri() {
    let crates = crate_packages();
    assert!(crates.len() >= 4, "found the crates: {crates:?}");
    for (name, deps) in crates {
        let tauri: Vec<_> = deps.iter().filter(|d| d.starts_with("tauri")).collect();
        assert!(tauri.is_empty(), "{name} depends on {tauri:?}; only src-tauri may");
    }
}

#[test]
fn the_domain_does_no_io() {
    let forbidden = ["rusqlite", "tokio", "reqwest", "axum", "hyper", "tauri", "image", "fieldbook-store"];
    let (_, deps) = crate_packages().into_iter().find(|(name, _)| name == "fieldbook-domain").unwrap();
    for dep in deps {
        assert!(!forbidden.contains(&dep.as_str()), "fieldbook-domain depends on {dep}");
    }
    // No file system, network or process access in its source either.
    for file in rust_files(&root().join("crates/fieldbook-domain/src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        for needle in ["std::fs", "std::net", "std::process", "std::env", "SystemTime::now", "Utc::now()"] {
            assert!(!text.contains(needle), "{} uses {needle}", file.display());
        }
    }
}

const STORE_CRATES: [&str; 2] = ["fieldbook-store", "fieldbook-server-sqlite"];

#[test]
fn only_the_store_crates_hold_sql() {
    for (name, deps) in crate_packages() {
        if !STORE_CRATES.contains(&name.as_str()) {
            assert!(!deps.iter().any(|d| d == "rusqlite"), "{name} depends on rusqlite; SQL lives in the store crates");
        }
    }
    for file in rust_files(&root().join("crates")).into_iter().chain(rust_files(&root().join("src-tauri/src"))) {
        if STORE_CRATES.iter().any(|c| file.starts_with(root().join("crates").join(c))) {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        for needle in ["CREATE TABLE", "INSERT INTO", "SELECT body"] {
            assert!(!text.contains(needle), "{} contains SQL ({needle})", file.display());
        }
    }
}

#[test]
fn only_the_backend_module_imports_tauri_in_the_ui() {
    let src = root().join("ui/src");
    let mut offenders = Vec::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if matches!(path.extension().and_then(|e| e.to_str()), Some("ts" | "svelte" | "js")) {
                let text = std::fs::read_to_string(&path).unwrap();
                if text.contains("@tauri-apps/") && path != src.join("lib/backend.ts") {
                    offenders.push(path);
                }
            }
        }
    }
    assert!(offenders.is_empty(), "only ui/src/lib/backend.ts may import @tauri-apps: {offenders:?}");
}

#[test]
fn the_server_reaches_storage_only_through_the_trait() {
    let (_, deps) = crate_packages().into_iter().find(|(name, _)| name == "fieldbook-server").unwrap();
    assert!(deps.iter().any(|d| d == "fieldbook-server-db"));
    // Only the command-line entry point names the SQLite backend.
    for file in rust_files(&root().join("crates/fieldbook-server/src")) {
        let text = std::fs::read_to_string(&file).unwrap();
        if file.ends_with("main.rs") {
            continue;
        }
        assert!(
            !text.contains("fieldbook_server_sqlite"),
            "{} names the SQLite backend; use the Database trait",
            file.display()
        );
    }
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files
}
