//! The HTTP client of one server for one enrolled device: every request the device makes, and
//! what an answer that is not a success stands for ([`SyncError`]). A pull stream is split into
//! its pages here; applying them is `pull.rs`'s.

use std::time::Duration;

use fieldbook_domain::BlobId;
use fieldbook_protocol::{
    EnrollRequest, EnrollResponse, ErrorBody, MAX_CHUNK_BYTES, MissingBlobsRequest, MissingBlobsResponse, Mutation,
    PROTOCOL_HEADER, PROTOCOL_VERSION, PartCatalogEntry, PullResponse, PushRequest, PushResponse, UploadStatus,
};

use crate::SyncError;

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

pub(crate) async fn answer<T: serde::de::DeserializeOwned>(response: reqwest::Response) -> Result<T, SyncError> {
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

pub(crate) fn offline(err: reqwest::Error) -> SyncError {
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
    /// The same client, telling the server with each pull that `pending` changes still wait
    /// in the device's outbox.
    pub(crate) fn with_pending(&self, pending: u64) -> SyncClient {
        SyncClient { pending: Some(pending), ..self.clone() }
    }

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

    pub(crate) async fn send_push(&self, mutations: &[Mutation]) -> Result<reqwest::Response, reqwest::Error> {
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
    pub(crate) async fn pull_stream_as<T: Send + 'static>(
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

/// A pull running on its own task; dropping it cancels the request.
pub(crate) struct Prefetch(tokio::task::JoinHandle<Result<PullResponse, SyncError>>);

impl Prefetch {
    pub(crate) fn start(client: &SyncClient, after: u64, limit: u32) -> Prefetch {
        let client = client.clone();
        Prefetch(tokio::spawn(async move { client.pull(after, limit).await }))
    }

    pub(crate) async fn finish(mut self) -> Result<PullResponse, SyncError> {
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
