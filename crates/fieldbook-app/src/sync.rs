//! Background sync for the app: when it runs (on start, shortly after a change, on a timer,
//! on "sync now", and with exponential backoff and jitter after a failure), and what it tells
//! the screens (online or not, what waits to be sent, the last success, the last error in
//! plain words). It never holds the store while waiting on the network, so the UI never waits
//! for sync.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use fieldbook_sync::{SyncClient, SyncError, SyncProgress, remember_enrollment, sync_with_progress};
use serde::Serialize;
use ts_rs::TS;

use crate::{App, AppError, ErrorCode, StoreChanged};

/// How often a device that is up to date checks for new work.
pub const PERIOD: Duration = Duration::from_secs(60);
/// How long after a change the device waits for more before syncing.
pub const DEBOUNCE: Duration = Duration::from_secs(2);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
#[serde(rename_all = "snake_case")]
pub enum SyncState {
    /// No server yet: the device works on its own.
    NotEnrolled,
    Syncing,
    /// The last sync succeeded.
    Online,
    /// The server could not be reached; work waits safely on the device.
    Offline,
    /// The server is newer than this app: update the app.
    Outdated,
    /// The server refused this device (signed out or revoked): sign in again.
    SignedOut,
}

/// What the screens show about sync.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SyncStatus {
    pub state: SyncState,
    pub server: Option<String>,
    /// Changes waiting to be sent.
    #[ts(type = "number")]
    pub pending: u64,
    /// Changes the server refused, kept for people to see.
    pub conflicts: u32,
    /// Bytes of photos and signatures among the pending changes.
    #[ts(type = "number")]
    pub pending_blob_bytes: u64,
    /// How far the running sync has got (absent when none runs).
    pub progress: Option<ProgressView>,
    pub last_success: Option<DateTime<Utc>>,
    /// The last failure in plain words.
    pub last_error: Option<String>,
    /// The signed-in user's role: a supervisor's device shows the board and dispatch.
    pub role: Option<fieldbook_domain::Role>,
}

/// A running sync's progress, for a progress bar: `done` of `total` (no total while receiving,
/// whose size is not known ahead).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct ProgressView {
    /// `sending`, `uploading` (photo and signature bytes), `receiving` or `fetching` (photos
    /// recorded on other devices).
    pub phase: String,
    #[ts(type = "number")]
    pub done: u64,
    #[ts(type = "number | null")]
    pub total: Option<u64>,
}

impl From<SyncProgress> for ProgressView {
    fn from(progress: SyncProgress) -> Self {
        let (phase, done, total) = match progress {
            SyncProgress::Sending { done, total } => ("sending", done, Some(total)),
            SyncProgress::Uploading { done, total } => ("uploading", done, Some(total)),
            SyncProgress::Receiving { received } => ("receiving", received, None),
            SyncProgress::Fetching { done, total } => ("fetching", done, Some(total)),
        };
        ProgressView { phase: phase.to_owned(), done, total }
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct SyncMemo {
    pub syncing: bool,
    pub progress: Option<ProgressView>,
    pub failures: u32,
    pub last_success: Option<DateTime<Utc>>,
    pub last_error: Option<(SyncState, String)>,
}

/// The wait before the next attempt after `failures` failures in a row: 5 s doubling up to
/// 5 minutes, spread by ±20 % (`jitter` in 0..1) so a fleet that lost the network together
/// does not come back together.
pub fn backoff(failures: u32, jitter: f64) -> Duration {
    if failures == 0 {
        return PERIOD;
    }
    let base = 5.0 * 2f64.powi(failures.min(16) as i32 - 1);
    Duration::from_secs_f64(base.min(300.0) * (0.8 + 0.4 * jitter.clamp(0.0, 1.0)))
}

impl App {
    pub(crate) fn client(&self) -> Result<Option<SyncClient>, AppError> {
        let store = self.store();
        match (store.setting("sync.server")?, store.setting("sync.token")?) {
            (Some(server), Some(token)) => Ok(Some(SyncClient::new(&server, &token))),
            _ => Ok(None),
        }
    }

    pub fn sync_status(&self) -> Result<SyncStatus, AppError> {
        let (server, pending, conflicts, pending_blob_bytes) = {
            let store = self.store();
            (
                store.setting("sync.server")?,
                store.outbox_len()?,
                store.conflicts_len()? as u32,
                store.pending_blob_bytes()?,
            )
        };
        let memo = self.sync_memo.lock().unwrap_or_else(|p| p.into_inner()).clone();
        let state = if server.is_none() {
            SyncState::NotEnrolled
        } else if memo.syncing {
            SyncState::Syncing
        } else if let Some((state, _)) = &memo.last_error {
            *state
        } else {
            SyncState::Online
        };
        Ok(SyncStatus {
            state,
            server,
            pending,
            conflicts,
            pending_blob_bytes,
            progress: memo.progress,
            last_success: memo.last_success,
            last_error: memo.last_error.map(|(_, message)| message),
            role: self.role()?,
        })
    }

    /// Signs this device in to a server; its work orders arrive with the next sync.
    pub async fn enroll(
        &self,
        server: &str,
        username: &str,
        password: &str,
        device_name: &str,
    ) -> Result<SyncStatus, AppError> {
        let server = server.trim().trim_end_matches('/');
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                "the server address starts with https:// (or http:// on a local network)",
            ));
        }
        // The key this device signs visit reports with; the server keeps its public half.
        let public_key = self.store().device_key()?.public_key();
        let (_, enrolled) = SyncClient::enroll(server, username.trim(), password, device_name, &public_key)
            .await
            .map_err(sync_error)?;
        remember_enrollment(&self.store, server, &enrolled).map_err(sync_error)?;
        self.wake_sync();
        self.sync_status()
    }

    /// One sync session now. Failures are kept in the status (and returned).
    pub async fn sync_now(&self) -> Result<SyncStatus, AppError> {
        let Some(client) = self.client()? else { return self.sync_status() };
        self.sync_memo.lock().unwrap_or_else(|p| p.into_inner()).syncing = true;
        self.status_changed();
        let report_progress = |progress: SyncProgress| {
            self.sync_memo.lock().unwrap_or_else(|p| p.into_inner()).progress = Some(progress.into());
            self.status_changed();
        };
        let result = sync_with_progress(&self.store, &client, self.clock.now(), &report_progress).await;
        {
            let mut memo = self.sync_memo.lock().unwrap_or_else(|p| p.into_inner());
            memo.syncing = false;
            memo.progress = None;
            match &result {
                Ok(_) => {
                    memo.failures = 0;
                    memo.last_success = Some(self.clock.now());
                    memo.last_error = None;
                }
                Err(err) => {
                    memo.failures += 1;
                    let state = match err {
                        SyncError::Outdated(_) => SyncState::Outdated,
                        SyncError::Unauthorized(_) => SyncState::SignedOut,
                        _ => SyncState::Offline,
                    };
                    memo.last_error = Some((state, err.to_string()));
                }
            }
        }
        if let Ok(report) = &result
            && report.pulled + report.pushed + report.blobs_downloaded > 0
        {
            self.notify(StoreChanged { work_order_id: None });
        }
        self.status_changed();
        result.map_err(sync_error)?;
        self.sync_status()
    }

    /// Tells the status listener (the shell's `sync-status` event) where sync stands.
    fn status_changed(&self) {
        if let Ok(status) = self.sync_status() {
            self.notify_status(status);
        }
    }

    /// Whether the server answers now (used while offline, to notice the network's return).
    pub async fn server_reachable(&self) -> bool {
        match self.client() {
            Ok(Some(client)) => client.reachable().await,
            _ => false,
        }
    }

    /// Signs this device out. With changes not yet sent it refuses unless `discard_unsent`, as
    /// signing out removes this user's work orders and records from the device.
    pub fn sign_out(&self, discard_unsent: bool) -> Result<SyncStatus, AppError> {
        let pending = self.store().outbox_len()?;
        if pending > 0 && !discard_unsent {
            return Err(AppError::new(
                ErrorCode::Unsynced,
                format!(
                    "{pending} change(s) on this device have not reached the server yet; sync first, or sign out anyway and lose them"
                ),
            ));
        }
        self.store().forget_user_data()?;
        *self.sync_memo.lock().unwrap_or_else(|p| p.into_inner()) = SyncMemo::default();
        self.notify(StoreChanged { work_order_id: None });
        self.status_changed();
        self.sync_status()
    }

    /// First run without a server: fills the device with a small bilingual demo set (work
    /// orders of the demo technician 张伟, some with finished visits) and signs in as them, so
    /// the whole app can be tried offline. Refused once the device holds a sign-in.
    pub fn open_offline_demo(&self) -> Result<SyncStatus, AppError> {
        if self.current_user()?.is_some() {
            return Err(AppError::new(
                ErrorCode::RuleViolation,
                "this device is already signed in; sign out before opening the demo",
            ));
        }
        let data = fieldbook_demo::generate(&fieldbook_demo::DemoOptions::new(90, self.clock.now()));
        let technician = data.technicians[0].id;
        self.store().import(&data.for_technician(technician))?;
        self.sign_in_as(technician)?;
        self.notify(StoreChanged { work_order_id: None });
        self.sync_status()
    }

    pub(crate) fn sync_failures(&self) -> u32 {
        self.sync_memo.lock().unwrap_or_else(|p| p.into_inner()).failures
    }
}

pub(crate) fn sync_error(err: SyncError) -> AppError {
    let code = match err {
        SyncError::Store(_) | SyncError::Corrupt(_) => ErrorCode::Storage,
        SyncError::Unauthorized(_) => ErrorCode::NotSignedIn,
        // A gap or a cursor past the stream is put right within the sync that meets it; met
        // again in the same sync, the server is not answering as it should.
        SyncError::Server { .. } | SyncError::SequenceGap { .. } | SyncError::CursorAhead(_) => {
            ErrorCode::RuleViolation
        }
        SyncError::Offline(_) | SyncError::Outdated(_) => ErrorCode::Offline,
    };
    AppError::new(code, err.to_string())
}

/// A request to the server that it refused, in the app's words: bad input, not allowed, not
/// found, or a rule (a conflict); anything else as [`sync_error`] says it.
pub(crate) fn server_refusal(err: SyncError) -> AppError {
    match err {
        SyncError::Server { status: 400 | 422, message, .. } => AppError::new(ErrorCode::InvalidInput, message),
        SyncError::Server { status: 403, message, .. } => AppError::new(ErrorCode::Forbidden, message),
        SyncError::Server { status: 404, message, .. } => AppError::new(ErrorCode::NotFound, message),
        err => sync_error(err),
    }
}

/// Runs sync for as long as the app lives: at start, [`DEBOUNCE`] after a change, every
/// [`PERIOD`], on "sync now", and after a failure with [`backoff`].
pub async fn run(app: Arc<App>) {
    loop {
        let _ = app.sync_now().await;
        let failures = app.sync_failures();
        let wait = backoff(failures, rand::random::<f64>());
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = app.wake.notified() => {
                // Let a burst of changes finish before sending them together.
                tokio::time::sleep(DEBOUNCE).await;
            }
            // While offline, notice the network's return within seconds instead of waiting
            // out the backoff: a cheap health check every few seconds.
            _ = network_returns(&app), if failures > 0 => {}
        }
    }
}

/// How often an offline device checks whether the server answers again.
pub const PROBE_EVERY: Duration = Duration::from_secs(5);

async fn network_returns(app: &App) {
    loop {
        tokio::time::sleep(PROBE_EVERY).await;
        if app.server_reachable().await {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_five_minutes_with_jitter() {
        assert_eq!(backoff(0, 0.5), PERIOD);
        assert_eq!(backoff(1, 0.5), Duration::from_secs(5));
        assert_eq!(backoff(2, 0.5), Duration::from_secs(10));
        assert_eq!(backoff(3, 0.5), Duration::from_secs(20));
        assert_eq!(backoff(30, 0.5), Duration::from_secs(300));
        assert_eq!(backoff(1, 0.0), Duration::from_secs(4));
        assert_eq!(backoff(1, 1.0), Duration::from_secs(6));
    }
}
