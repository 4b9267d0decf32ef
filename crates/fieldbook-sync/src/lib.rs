//! The device half of sync, written as plan → execute: [`plan`] turns outbox rows into
//! protocol mutations and pulled changes into store changes (pure, tested without a network);
//! [`sync_once`] runs one session against a server: blobs first, then the outbox in order,
//! acknowledged only after the server answered, then the pull pages, streamed by the server
//! and each applied with its cursor in one transaction.
//!
//! Architecture invariant: nothing here depends on Tauri; the app decides when to sync.

pub mod plan;

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use fieldbook_domain::BlobId;
use fieldbook_protocol::{
    EnrollRequest, EnrollResponse, ErrorBody, MAX_CHUNK_BYTES, MissingBlobsRequest, MissingBlobsResponse, Mutation,
    Outcome, PROTOCOL_HEADER, PROTOCOL_VERSION, PartCatalogEntry, PullResponse, PushRequest, PushResponse,
    UploadStatus,
};
use fieldbook_store::{Acknowledgement, PreparedBodies, PulledChange, Store, StoreError};
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

/// An HTTP client of one server for one enrolled device.
#[derive(Clone)]
pub struct SyncClient {
    http: reqwest::Client,
    base: String,
    token: String,
    /// Changes waiting in the device's outbox, told to the server with each pull so that a
    /// supervisor sees what a device still holds (as of its last sync).
    pending: Option<u64>,
}

async fn answer<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T, SyncError> {
    let status = response.status();
    let bytes = response.bytes().await.map_err(|e| SyncError::Offline(e.to_string()))?;
    if status.is_success() {
        return serde_json::from_slice(&bytes).map_err(|e| SyncError::Offline(format!("an incomplete answer ({e})")));
    }
    Err(failure(status, &bytes))
}

/// The error a non-success answer stands for.
fn failure(status: reqwest::StatusCode, bytes: &[u8]) -> SyncError {
    let body: ErrorBody = serde_json::from_slice(bytes).unwrap_or(ErrorBody {
        code: "http".into(),
        message: String::from_utf8_lossy(bytes).into_owned(),
        resend_from: None,
    });
    match (status.as_u16(), body.code.as_str()) {
        (426, _) | (_, "protocol_mismatch" | "protocol_missing") => SyncError::Outdated(body.message),
        (401, _) => SyncError::Unauthorized(body.message),
        (409, "sequence_gap") if body.resend_from.is_some() => {
            SyncError::SequenceGap { resend_from: body.resend_from.unwrap_or_default(), message: body.message }
        }
        (409, "cursor_ahead") => SyncError::CursorAhead(body.message),
        (code, _) if code >= 500 => SyncError::Offline(format!("the server failed ({code}): {}", body.message)),
        (status, _) => SyncError::Server { status, code: body.code, message: body.message },
    }
}

fn offline(err: reqwest::Error) -> SyncError {
    SyncError::Offline(err.to_string())
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(10))
        .timeout(Duration::from_secs(60))
        .build()
        .expect("the HTTP client builds")
}

impl SyncClient {
    pub fn new(base: &str, token: &str) -> SyncClient {
        SyncClient { http: http(), base: base.trim_end_matches('/').to_owned(), token: token.to_owned(), pending: None }
    }

    /// Signs this device in with its report-signing key's public half (see
    /// [`fieldbook_store::Store::device_key`]) and returns a client with its token.
    pub async fn enroll(
        base: &str,
        username: &str,
        password: &str,
        device_name: &str,
        public_key: &str,
    ) -> Result<(SyncClient, EnrollResponse), SyncError> {
        let base = base.trim_end_matches('/');
        let request = EnrollRequest {
            username: username.into(),
            password: password.into(),
            device_name: device_name.into(),
            public_key: public_key.into(),
        };
        let response = http()
            .post(format!("{base}/v1/enroll"))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .json(&request)
            .send()
            .await
            .map_err(offline)?;
        let enrolled: EnrollResponse = answer(response).await?;
        Ok((SyncClient::new(base, &enrolled.token), enrolled))
    }

    fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .header(PROTOCOL_HEADER, PROTOCOL_VERSION.to_string())
            .bearer_auth(&self.token)
    }

    pub async fn push(&self, mutations: &[Mutation]) -> Result<PushResponse, SyncError> {
        answer(self.send_push(mutations).await.map_err(offline)?).await
    }

    async fn send_push(&self, mutations: &[Mutation]) -> Result<reqwest::Response, reqwest::Error> {
        let request = PushRequest { mutations: mutations.to_vec() };
        self.request(reqwest::Method::POST, "/v1/sync/push").json(&request).send().await
    }

    /// The query of a pull from `after`, pages of at most `limit`.
    fn pull_query(&self, after: u64, limit: u32) -> String {
        let pending = self.pending.map(|n| format!("&pending={n}")).unwrap_or_default();
        format!("?after={after}&limit={limit}{pending}")
    }

    pub async fn pull(&self, after: u64, limit: u32) -> Result<PullResponse, SyncError> {
        let path = format!("/v1/sync/pull{}", self.pull_query(after, limit));
        answer(self.request(reqwest::Method::GET, &path).send().await.map_err(offline)?).await
    }

    /// Opens a stream of the pages after `after` (see the server's `/v1/sync/pull/stream`),
    /// read and parsed on a task of their own while the caller applies them. `None` when the
    /// server has no such stream (one older than it); then [`SyncClient::pull`] serves.
    pub async fn pull_stream(&self, after: u64, limit: u32) -> Result<Option<PageStream>, SyncError> {
        self.pull_stream_as(after, limit, std::convert::identity).await
    }

    /// [`SyncClient::pull_stream`], each page turned by `ready` on the task that reads it.
    async fn pull_stream_as<T: Send + 'static>(
        &self,
        after: u64,
        limit: u32,
        ready: fn(PullResponse) -> T,
    ) -> Result<Option<PageStream<T>>, SyncError> {
        let path = format!("/v1/sync/pull/stream{}", self.pull_query(after, limit));
        let response = self.request(reqwest::Method::GET, &path).send().await.map_err(offline)?;
        let status = response.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !status.is_success() {
            let bytes = response.bytes().await.map_err(|e| SyncError::Offline(e.to_string()))?;
            return Err(failure(status, &bytes));
        }
        // Two pages parsed ahead at most: the rest waits in the connection, and the server
        // waits for it.
        let (pages, received) = tokio::sync::mpsc::channel(2);
        Ok(Some(PageStream { received, reader: tokio::spawn(read_pages(response, pages, ready)) }))
    }

    /// A signed report as the server's ledger holds it, checked now by the server; `None`
    /// when the ledger does not hold it.
    pub async fn check_report(&self, hash: &str) -> Result<Option<fieldbook_protocol::ReportCheck>, SyncError> {
        let response = self
            .request(reqwest::Method::GET, &format!("/v1/reports/{hash}"))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .map_err(offline)?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        Ok(Some(answer(response).await?))
    }

    /// The report ledger's entries of a work order, oldest first.
    pub async fn ledger_of(
        &self,
        work_order: fieldbook_domain::WorkOrderId,
    ) -> Result<Vec<fieldbook_protocol::LedgerEntry>, SyncError> {
        let path = format!("/v1/work-orders/{work_order}/reports");
        answer(
            self.request(reqwest::Method::GET, &path).timeout(Duration::from_secs(10)).send().await.map_err(offline)?,
        )
        .await
    }

    /// The devices the caller may see (a supervisor's team's), with their last sync.
    pub async fn devices(&self) -> Result<Vec<fieldbook_protocol::DeviceInfo>, SyncError> {
        answer(
            self.request(reqwest::Method::GET, "/v1/devices")
                .timeout(Duration::from_secs(10))
                .send()
                .await
                .map_err(offline)?,
        )
        .await
    }

    /// Revokes a lost device: its token stops working at once.
    pub async fn revoke_device(&self, id: &str) -> Result<fieldbook_protocol::DeviceInfo, SyncError> {
        let path = format!("/v1/devices/{id}/revoke");
        let request = self.request(reqwest::Method::POST, &path).json(&serde_json::json!({}));
        answer(request.timeout(Duration::from_secs(10)).send().await.map_err(offline)?).await
    }

    /// Adds a checklist template version to the server's catalogue.
    pub async fn create_template(&self, template: &fieldbook_domain::ChecklistTemplate) -> Result<(), SyncError> {
        let request = self.request(reqwest::Method::POST, "/v1/templates").json(template);
        let _: fieldbook_domain::ChecklistTemplate =
            answer(request.timeout(Duration::from_secs(20)).send().await.map_err(offline)?).await?;
        Ok(())
    }

    /// Adds a part to the server's catalogue or changes it (by part number).
    pub async fn put_part(&self, part: &PartCatalogEntry) -> Result<PartCatalogEntry, SyncError> {
        let request = self.request(reqwest::Method::PUT, "/v1/parts").json(part);
        answer(request.timeout(Duration::from_secs(20)).send().await.map_err(offline)?).await
    }

    /// The periodic duties the caller may see.
    pub async fn schedules(&self) -> Result<Vec<fieldbook_domain::schedule::PatrolSchedule>, SyncError> {
        let request = self.request(reqwest::Method::GET, "/v1/schedules");
        answer(request.timeout(Duration::from_secs(10)).send().await.map_err(offline)?).await
    }

    /// Makes a schedule; a retry of the same request answers with the same schedule.
    pub async fn create_schedule(
        &self,
        schedule: &fieldbook_protocol::CreateSchedule,
    ) -> Result<fieldbook_protocol::ScheduleResult, SyncError> {
        let request = self.request(reqwest::Method::POST, "/v1/schedules").json(schedule);
        answer(request.timeout(Duration::from_secs(20)).send().await.map_err(offline)?).await
    }

    /// Pauses or resumes a schedule.
    pub async fn set_schedule_active(
        &self,
        id: fieldbook_domain::ScheduleId,
        active: bool,
    ) -> Result<fieldbook_protocol::ScheduleResult, SyncError> {
        let path = format!("/v1/schedules/{id}/active");
        let request = self.request(reqwest::Method::PUT, &path).json(&fieldbook_protocol::ScheduleActive { active });
        answer(request.timeout(Duration::from_secs(20)).send().await.map_err(offline)?).await
    }

    /// What a supervisor dispatches to (customers, sites, equipment, policies, checklists and
    /// the team's technicians) and its ETag, or `None` when it is unchanged since `etag`.
    pub async fn dispatch_reference(
        &self,
        etag: Option<&str>,
    ) -> Result<Option<(fieldbook_protocol::ReferenceData, String)>, SyncError> {
        self.get_if_changed("/v1/dispatch/reference", etag).await
    }

    /// The parts catalog and its ETag, or `None` when it is unchanged since `etag`.
    pub async fn parts(&self, etag: Option<&str>) -> Result<Option<(Vec<PartCatalogEntry>, String)>, SyncError> {
        self.get_if_changed("/v1/parts", etag).await
    }

    /// A tagged resource and its new ETag, or `None` when the server says it is still `etag`.
    async fn get_if_changed<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        etag: Option<&str>,
    ) -> Result<Option<(T, String)>, SyncError> {
        let mut request = self.request(reqwest::Method::GET, path);
        if let Some(etag) = etag {
            request = request.header(reqwest::header::IF_NONE_MATCH, etag);
        }
        let response = request.send().await.map_err(offline)?;
        if response.status() == reqwest::StatusCode::NOT_MODIFIED {
            return Ok(None);
        }
        let etag =
            response.headers().get(reqwest::header::ETAG).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
        Ok(Some((answer(response).await?, etag)))
    }

    pub async fn missing_blobs(&self, ids: &[BlobId]) -> Result<Vec<BlobId>, SyncError> {
        let request = MissingBlobsRequest { ids: ids.to_vec() };
        let response: MissingBlobsResponse = answer(
            self.request(reqwest::Method::POST, "/v1/blobs/missing").json(&request).send().await.map_err(offline)?,
        )
        .await?;
        Ok(response.missing)
    }

    /// Uploads a blob in chunks, resuming an upload an earlier session left unfinished.
    /// Fetches a blob's bytes (a photo or signature another device recorded).
    pub async fn download_blob(&self, id: &BlobId) -> Result<Vec<u8>, SyncError> {
        let response = self.request(reqwest::Method::GET, &format!("/v1/blobs/{id}")).send().await.map_err(offline)?;
        let status = response.status();
        let bytes = response.bytes().await.map_err(offline)?;
        if !status.is_success() {
            return Err(failure(status, &bytes));
        }
        Ok(bytes.to_vec())
    }

    /// Whether the server answers at all, quickly: used while offline to notice the network's
    /// return without waiting out the backoff.
    pub async fn reachable(&self) -> bool {
        self.http
            .get(format!("{}/healthz", self.base))
            .timeout(Duration::from_secs(3))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }

    pub async fn upload_blob(&self, id: &BlobId, bytes: &[u8]) -> Result<(), SyncError> {
        let status =
            self.request(reqwest::Method::GET, &format!("/v1/blobs/{id}/status")).send().await.map_err(offline)?;
        let mut offset = if status.status().is_success() {
            let status: UploadStatus = answer(status).await?;
            if status.complete {
                return Ok(());
            }
            status.received as usize
        } else {
            0
        };
        while offset < bytes.len() {
            let end = (offset + MAX_CHUNK_BYTES).min(bytes.len());
            let path = format!("/v1/blobs/{id}?offset={offset}&total={}", bytes.len());
            let status: UploadStatus = answer(
                self.request(reqwest::Method::PUT, &path)
                    .body(bytes[offset..end].to_vec())
                    .send()
                    .await
                    .map_err(offline)?,
            )
            .await?;
            offset = status.received as usize;
            if status.complete {
                break;
            }
        }
        Ok(())
    }
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

/// A pull running on its own task; dropping it cancels the request.
struct Prefetch(tokio::task::JoinHandle<Result<PullResponse, SyncError>>);

impl Prefetch {
    fn start(client: &SyncClient, after: u64, limit: u32) -> Prefetch {
        let client = client.clone();
        Prefetch(tokio::spawn(async move { client.pull(after, limit).await }))
    }

    async fn finish(mut self) -> Result<PullResponse, SyncError> {
        match (&mut self.0).await {
            Ok(result) => result,
            Err(err) => Err(SyncError::Offline(format!("the download stopped: {err}"))),
        }
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The pages of one pull stream, in order, as they arrive; dropping it ends the download.
pub struct PageStream<T = PullResponse> {
    received: tokio::sync::mpsc::Receiver<Result<T, SyncError>>,
    reader: tokio::task::JoinHandle<()>,
}

impl<T> PageStream<T> {
    /// The next page; `None` once the server ended the stream whole (a stream cut short ends
    /// with an error instead).
    pub async fn next(&mut self) -> Option<Result<T, SyncError>> {
        self.received.recv().await
    }
}

impl<T> Drop for PageStream<T> {
    fn drop(&mut self) {
        self.reader.abort();
    }
}

/// Splits a pull stream into its lines and parses each into a page, made `ready`. Stops at the
/// first failure, after sending it: a cut connection, a damaged body, or a last line without
/// its end.
async fn read_pages<T>(
    mut response: reqwest::Response,
    pages: tokio::sync::mpsc::Sender<Result<T, SyncError>>,
    ready: fn(PullResponse) -> T,
) {
    let mut buffer: Vec<u8> = Vec::new();
    // Where the search for the current line's end goes on from.
    let mut searched = 0;
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) if buffer.is_empty() => return,
            Ok(None) => {
                let _ =
                    pages.send(Err(SyncError::Offline("the download stopped in the middle of a page".into()))).await;
                return;
            }
            Err(err) => {
                let _ = pages.send(Err(offline(err))).await;
                return;
            }
        };
        buffer.extend_from_slice(&chunk);
        let mut start = 0;
        while let Some(end) = memchr::memchr(b'\n', &buffer[searched..]).map(|at| searched + at) {
            let page = serde_json::from_slice::<PullResponse>(&buffer[start..end])
                .map(ready)
                .map_err(|e| SyncError::Offline(format!("an incomplete answer ({e})")));
            let failed = page.is_err();
            if pages.send(page).await.is_err() || failed {
                return;
            }
            start = end + 1;
            searched = start;
        }
        buffer.drain(..start);
        searched = buffer.len();
    }
}

/// Applies one pulled page to the store, with its cursor, in one transaction.
pub fn apply_page(store: &mut Store, page: PullResponse, now: DateTime<Utc>) -> Result<(), SyncError> {
    ReadyPage::of(page).apply(store, now)
}

/// A pulled page in the store's terms, with the stored bodies of its work orders and answers
/// made ([`PreparedBodies`]): made on the task that reads the pull stream, while the store
/// writes the page before.
pub struct ReadyPage {
    /// How many changes the server sent.
    pub pulled: usize,
    changes: Vec<PulledChange>,
    reference: fieldbook_store::ImportBatch,
    bodies: PreparedBodies,
    cursor: u64,
    /// More changes wait beyond this page.
    pub more: bool,
}

impl ReadyPage {
    pub fn of(page: PullResponse) -> ReadyPage {
        let pulled = page.changes.len();
        let changes: Vec<_> = page.changes.into_iter().filter_map(|c| plan::into_pulled(c.body)).collect();
        let bodies = PreparedBodies::of(&changes);
        let reference = plan::to_reference(page.reference);
        ReadyPage { pulled, changes, reference, bodies, cursor: page.cursor, more: page.more }
    }

    /// Writes the page to the store, with its cursor, in one transaction.
    pub fn apply(self, store: &mut Store, now: DateTime<Utc>) -> Result<(), SyncError> {
        store.apply_pulled_prepared(&self.reference, &self.changes, &self.bodies, self.cursor, now)?;
        Ok(())
    }
}

fn missing_here(id: &BlobId) -> SyncError {
    SyncError::Corrupt(format!("blob {id} is missing on this device"))
}

fn lock(store: &Mutex<Store>) -> std::sync::MutexGuard<'_, Store> {
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

/// The pull half of a sync session: pages applied in order, each with its cursor in one
/// transaction; on any failure the page in flight is dropped and the next session starts from
/// the last saved cursor.
struct Pull<'a> {
    store: &'a Mutex<Store>,
    now: DateTime<Utc>,
    progress: &'a (dyn Fn(SyncProgress) + Sync),
    report: &'a mut SyncReport,
    /// Set once a page says more follow: see `Store::set_bulk_pull`.
    bulk: bool,
}

impl Pull<'_> {
    /// Every change after the saved cursor, streamed (or page by page from a server without
    /// streams). The server reads, sends and the device parses the next pages while this one
    /// is written.
    async fn all(&mut self, client: &SyncClient) -> Result<(), SyncError> {
        let mut restarted = false;
        loop {
            let after = lock(self.store).pull_cursor()?;
            let pages = match client.pull_stream_as(after, PULL_PAGE, ReadyPage::of).await {
                Err(SyncError::CursorAhead(_)) if !restarted && after > 0 => {
                    // The server's stream ends before our cursor: pull it all again from 0.
                    // Every change applies as an upsert or is already here, so nothing is
                    // lost and nothing doubles.
                    restarted = true;
                    self.report.pulled_again = true;
                    lock(self.store).reset_pull_cursor()?;
                    continue;
                }
                pages => pages?,
            };
            let Some(mut pages) = pages else {
                return self.paged(client, after).await;
            };
            let mut last_more = None;
            while let Some(page) = pages.next().await {
                let page = page?;
                last_more = Some(page.more);
                self.apply(page)?;
            }
            match last_more {
                // The server ended this stream with more to send: ask again from the cursor.
                Some(true) => continue,
                Some(false) => return Ok(()),
                None => return Err(SyncError::Offline("the server sent no page".into())),
            }
        }
    }

    fn apply(&mut self, page: ReadyPage) -> Result<(), SyncError> {
        if page.more && !self.bulk {
            // Set first: whatever `set_bulk_pull(true)` did before a failure is undone.
            self.bulk = true;
            lock(self.store).set_bulk_pull(true)?;
        }
        self.report.pulled += page.pulled;
        // Writing a page takes tens of milliseconds: on a multi-threaded runtime this worker
        // hands its other tasks (the next page's download and parsing among them) to another
        // thread meanwhile, instead of holding them up.
        let write = || page.apply(&mut lock(self.store), self.now);
        if tokio::runtime::Handle::current().runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
            tokio::task::block_in_place(write)?;
        } else {
            write()?;
        }
        (self.progress)(SyncProgress::Receiving { received: self.report.pulled as u64 });
        Ok(())
    }

    /// Page by page: the next page is asked for while this one is written.
    async fn paged(&mut self, client: &SyncClient, after: u64) -> Result<(), SyncError> {
        let mut limit = FIRST_PULL_PAGE;
        let mut in_flight = Some(Prefetch::start(client, after, limit));
        while let Some(request) = in_flight.take() {
            let page = request.finish().await?;
            if page.more {
                limit = (limit * 3 / 2).min(PULL_PAGE);
                in_flight = Some(Prefetch::start(client, page.cursor, limit));
            }
            self.apply(ReadyPage::of(page))?;
        }
        Ok(())
    }
}

/// One sync session, telling `progress` how far it has got.
pub async fn sync_with_progress(
    store: &Mutex<Store>,
    client: &SyncClient,
    now: DateTime<Utc>,
    progress: &(dyn Fn(SyncProgress) + Sync),
) -> Result<SyncReport, SyncError> {
    let mut report = SyncReport::default();
    let mut seq_base: i64 = lock(store).setting("sync.seq_base")?.and_then(|v| v.parse().ok()).unwrap_or(0);
    let total = lock(store).outbox_len()?;
    loop {
        progress(SyncProgress::Sending { done: report.pushed as u64, total });
        let mut entries = lock(store).outbox(PUSH_BATCH)?;
        let mut bytes = 0;
        let fits = entries
            .iter()
            .take_while(|e| {
                bytes += e.payload.len();
                bytes <= PUSH_BYTES
            })
            .count();
        entries.truncate(fits.max(1));
        let Some(last) = entries.last().map(|e| e.seq) else { break };
        let mutations = entries.iter().map(|e| plan::to_mutation(e, seq_base)).collect::<Result<Vec<_>, _>>()?;
        let needed = plan::blobs_of(&mutations);
        if !needed.is_empty() {
            let missing = client.missing_blobs(&needed).await?;
            // Sizes first, for the progress bar; each blob is read only when it is sent.
            let mut total_bytes = 0;
            for id in &missing {
                total_bytes += lock(store).blob_len(id)?.ok_or_else(|| missing_here(id))?;
            }
            let mut done_bytes = 0;
            for id in &missing {
                progress(SyncProgress::Uploading { done: done_bytes, total: total_bytes });
                let bytes = lock(store).blob(id)?.ok_or_else(|| missing_here(id))?;
                client.upload_blob(id, &bytes).await?;
                done_bytes += bytes.len() as u64;
                report.blobs_uploaded += 1;
            }
        }
        lock(store).mark_sent(last, now)?;
        let response = match client.send_push(&mutations).await {
            Ok(response) => match answer::<PushResponse>(response).await {
                Err(SyncError::SequenceGap { resend_from, .. })
                    if mutations.first().is_some_and(|m| m.seq > resend_from) && !report.renumbered =>
                {
                    // The server lost changes it had acknowledged (restored from a backup):
                    // they left this device when it was told they were stored, so they cannot
                    // be sent again. Number what is still here from where the server stands,
                    // or the outbox could never drain.
                    // A server that lost changes lost part of the change streams too: pull
                    // everything again after this push.
                    let first = entries[0].seq;
                    seq_base = first - resend_from as i64;
                    {
                        let mut store = lock(store);
                        store.set_setting("sync.seq_base", &seq_base.to_string())?;
                        store.unmark_sent(last, now)?;
                        store.reset_pull_cursor()?;
                    }
                    report.renumbered = true;
                    report.pulled_again = true;
                    continue;
                }
                answer => answer?,
            },
            Err(err) => {
                // No connection was made, so nothing left: the changes are local only again.
                // Any other failure may have reached the server; they stay "sent" until the
                // next push settles them.
                if err.is_connect() {
                    lock(store).unmark_sent(last, now)?;
                }
                return Err(offline(err));
            }
        };
        let outcomes: Vec<(i64, Acknowledgement)> = response
            .outcomes
            .iter()
            .map(|o| {
                let seq = o.seq as i64 + seq_base;
                let ack = match &o.outcome {
                    Outcome::Rejected { code, message } => {
                        Acknowledgement::Refused { code: code.clone(), message: message.clone() }
                    }
                    _ => Acknowledgement::Stored,
                };
                (seq, ack)
            })
            .collect();
        report.refused += outcomes.iter().filter(|(_, a)| matches!(a, Acknowledgement::Refused { .. })).count();
        report.pushed += outcomes.len();
        // Never past what this push sent: rows beyond it have no outcome in this answer.
        let through = (response.acked_through as i64 + seq_base).min(last);
        lock(store).acknowledge(through, &outcomes, now)?;
    }
    // The pages stream in while each is written, so the server's reading, the transfer and
    // the parsing overlap the device's SQLite writes (see `Pull`).
    progress(SyncProgress::Receiving { received: 0 });
    // What is still waiting after the push (a refused or unsent change), as of this sync.
    let client = &SyncClient { pending: Some(lock(store).outbox_len()?), ..client.clone() };
    let mut pull = Pull { store, now, progress, report: &mut report, bulk: false };
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
