//! The device half of sync, written as plan → execute: [`plan`] turns outbox rows into
//! protocol mutations and pulled changes into store changes (pure, tested without a network);
//! [`sync_once`] runs one session against a server: blobs first, then the outbox in order,
//! acknowledged only after the server answered, then the pull pages, streamed by the server
//! and each applied with its cursor in one transaction.
//!
//! Architecture invariant: nothing here depends on Tauri; the app decides when to sync.

mod client;
pub mod plan;
mod pull;
mod push;

pub use client::{PageStream, SyncClient};
pub use pull::{ReadyPage, apply_page};
pub use push::push_waiting;

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use fieldbook_domain::BlobId;
use fieldbook_protocol::EnrollResponse;
use fieldbook_store::{Store, StoreError};
use thiserror::Error;

/// Outbox rows sent per push, at most.
pub const PUSH_BATCH: u32 = 200;
/// And at most this many bytes of their payloads (a signed report carries its whole visit),
/// well under the server's request limit; a single larger row still goes alone.
pub const PUSH_BYTES: usize = 2 * 1024 * 1024;
/// Changes asked for per pull, the most a server gives: a first sync of 10k work orders and
/// their results takes about a dozen pages, each one transaction (fewer commits write the
/// store's indexes fewer times), and a page is still only a few MB in memory.
pub const PULL_PAGE: u32 = fieldbook_protocol::MAX_PULL_PAGE;
/// Pulling page by page (from a server without streams), the changes asked for by the first
/// pull of a session: small, so that writing starts early. Each following page asks for half
/// as many again as the last, up to [`PULL_PAGE`], so that the
/// next page arrives about when the device has written this one: work orders take the server,
/// the download and the parsing about as long as the device takes to write them, and pages
/// twice the last left the device waiting about 40 ms of a 10k first sync.
pub const FIRST_PULL_PAGE: u32 = 250;

#[derive(Debug, Error)]
pub enum SyncError {
    #[error("the server cannot be reached ({0}); your work is safe on this device and will be sent later")]
    Offline(String),
    #[error("this app is too old for the server: {0}")]
    Outdated(String),
    #[error("sign in again: {0}")]
    Unauthorized(String),
    #[error("the server refused the sync ({code}): {message}")]
    Server { status: u16, code: String, message: String },
    /// The server holds fewer of this device's changes than the device numbered (a server
    /// restored from a backup): it expects number `resend_from` next, and stored nothing.
    #[error("the server expects this device's changes from number {resend_from}: {message}")]
    SequenceGap { resend_from: u64, message: String },
    /// The pull cursor is past the end of the user's changes on the server (a server restored
    /// from a backup, a device moved between servers): everything must be pulled again.
    #[error("the server's changes end before this device's cursor: {0}")]
    CursorAhead(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("a local change could not be read for sending: {0}")]
    Corrupt(String),
}

/// What one session did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SyncReport {
    pub pushed: usize,
    pub refused: usize,
    pub pulled: usize,
    pub blobs_uploaded: usize,
    pub blobs_downloaded: usize,
    /// The server held fewer of this device's changes than it had acknowledged (restored from a
    /// backup), so the outbox was numbered again from where the server stands.
    pub renumbered: bool,
    /// The pull cursor was past the end of the server's stream, so everything was pulled again.
    pub pulled_again: bool,
}

/// Where a running sync is, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SyncProgress {
    /// Sending changes: `done` of `total`.
    Sending { done: u64, total: u64 },
    /// Uploading photos and signatures: bytes `done` of `total` (of the current batch).
    Uploading { done: u64, total: u64 },
    /// Receiving changes: `received` so far (the total is not known ahead).
    Receiving { received: u64 },
    /// Fetching photos recorded on other devices: `done` of `total`.
    Fetching { done: u64, total: u64 },
}

/// The most photo and signature bytes one sync fetches; the rest follow next time.
pub const FETCH_BUDGET_BYTES: usize = 32 * 1024 * 1024;

pub(crate) fn missing_here(id: &BlobId) -> SyncError {
    SyncError::Corrupt(format!("blob {id} is missing on this device"))
}

pub(crate) fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
    store.lock().unwrap_or_else(|p| p.into_inner())
}

/// Records the enrollment in the store: the server, the token, and where this device's
/// mutation numbers start: one above the last the server holds from this device (0 for a new
/// device), for the first change still waiting.
pub fn remember_enrollment(store: &Mutex<Store>, server: &str, enrolled: &EnrollResponse) -> Result<(), SyncError> {
    let mut store = lock(store);
    let pending_from = store.outbox(1)?.first().map(|e| e.seq);
    let held = enrolled.last_seq as i64;
    let base = match pending_from {
        Some(first) => first - 1 - held,
        None => store.last_outbox_seq()? - held,
    };
    store.set_setting("sync.server", server)?;
    store.set_setting("sync.token", &enrolled.token)?;
    store.set_setting("sync.device_id", &enrolled.device_id)?;
    store.set_setting("sync.seq_base", &base.to_string())?;
    store.set_setting("user_id", &enrolled.user.id.to_string())?;
    store.set_setting("user_role", enrolled.user.role.as_str())?;
    Ok(())
}

/// One sync session: send everything pending, then fetch everything new.
pub async fn sync_once(store: &Mutex<Store>, client: &SyncClient, now: DateTime<Utc>) -> Result<SyncReport, SyncError> {
    sync_with_progress(store, client, now, &|_| {}).await
}

/// One sync session, telling `progress` how far it has got.
pub async fn sync_with_progress(
    store: &Mutex<Store>,
    client: &SyncClient,
    now: DateTime<Utc>,
    progress: &(dyn Fn(SyncProgress) + Sync),
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let total = lock(store).outbox_len()?;
    loop {
        progress(SyncProgress::Sending { done: report.pushed as u64, total });
        if !push::push_waiting(store, client, PUSH_BATCH, now, progress, &mut report).await? {
            break;
        }
    }
    // The pages stream in while each is written, so the server's reading, the transfer and
    // the parsing overlap the device's SQLite writes (see `Pull`).
    progress(SyncProgress::Receiving { received: 0 });
    // What is still waiting after the push (a refused or unsent change), as of this sync.
    let client = &client.with_pending(lock(store).outbox_len()?);
    let mut pull = pull::Pull { store, now, progress, report: &mut report, bulk: false };
    let pulled = pull.all(client).await;
    let bulk = pull.bulk;
    let restored = if bulk { lock(store).set_bulk_pull(false) } else { Ok(()) };
    pulled?;
    restored?;
    // The parts catalog, when it changed since the last sync.
    let etag = lock(store).setting("parts.etag")?;
    if let Some((parts, etag)) = client.parts(etag.as_deref()).await? {
        let rows: Vec<_> =
            parts.into_iter().map(|p| (p.part_number, p.name, p.needs_customer_approval, p.unit_price_cents)).collect();
        lock(store).replace_parts_catalog(&rows, &etag)?;
    }
    // A supervisor records calls and dispatches offline: every customer, site and piece of
    // equipment, and the team's technicians, kept as the server has them.
    // Asked with the tag of the last one kept, so an unchanged catalogue costs one small answer.
    if matches!(lock(store).setting("user_role")?.as_deref(), Some("supervisor" | "admin")) {
        let etag = lock(store).setting("dispatch.etag")?;
        if let Some((reference, etag)) = client.dispatch_reference(etag.as_deref()).await? {
            let mut store = lock(store);
            store.import(&plan::to_reference(reference))?;
            // Kept after the import: a crash between the two asks again next time.
            store.set_setting("dispatch.etag", &etag)?;
        }
    }
    // Photos and signatures recorded on other devices, newest visits first, within a budget.
    let wanted = lock(store).missing_blobs(200)?;
    let mut fetched_bytes = 0;
    for (done, id) in wanted.iter().enumerate() {
        if fetched_bytes >= FETCH_BUDGET_BYTES {
            break;
        }
        progress(SyncProgress::Fetching { done: done as u64, total: wanted.len() as u64 });
        let bytes = match client.download_blob(id).await {
            Ok(bytes) => bytes,
            // Not (or no longer) on the server, or not ours to read: try again next time.
            Err(SyncError::Server { .. }) => continue,
            Err(err) => return Err(err),
        };
        fetched_bytes += bytes.len();
        match lock(store).put_fetched_blob(id, &bytes, now) {
            Ok(()) => report.blobs_downloaded += 1,
            // Damaged on the way: not kept, fetched again next time.
            Err(StoreError::Corrupt(_)) => {}
            Err(err) => return Err(err.into()),
        }
    }
    Ok(report)
}
