//! The API the UI calls. Each Tauri command in `src-tauri` is one line over a method here, so
//! everything the UI can do is tested without Tauri, a window or a WebView.
//!
//! Architecture invariant: nothing here depends on Tauri. Errors leave as [`AppError`]
//! `{code, message}` so the UI branches on `code` and shows `message`, never parsing text.

pub mod catalog;
pub mod dto;
mod error;
pub mod monthly;
mod records;
mod reports;
pub mod schedules;
pub mod supervisor;
pub mod sync;
mod views;

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};
use fieldbook_domain::{
    Answer, Clock, CorrectiveRequest, FaultDraft, FaultLevel, FaultRecord, InspectionResult, Note, PartDraft,
    PartUsage, Photo, ResultId, Role, SignOff, SignOffDraft, StatusAction, UserId, WorkOrderId,
};
use fieldbook_store::{ListQuery, NewAnswer, Store};

pub use catalog::{TemplateDraft, TemplateSummary};
pub use dto::*;
pub use error::{AppError, ErrorCode};
pub use monthly::{ChartSet, ExportFormat, ExportedFile, MonthlyView};
pub use reports::{ExportedReport, ReportVersion, ServerCheck};
pub use schedules::{ScheduleDraft, ScheduleView};
pub use supervisor::{Board, Choice, DeviceView, DispatchOptions, Workload};
pub use sync::{SyncState, SyncStatus};

/// The wall clock, for the running app. Tests pass a [`fieldbook_domain::FixedClock`].
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// What a change touched, for screens that must refresh.
#[derive(Debug, Clone, PartialEq, serde::Serialize, ts_rs::TS)]
#[ts(export)]
pub struct StoreChanged {
    pub work_order_id: Option<String>,
}

type Listener = Box<dyn Fn(StoreChanged) + Send + Sync>;
type StatusListener = Box<dyn Fn(SyncStatus) + Send + Sync>;

/// One device's Fieldbook: its store, its clock and whoever is signed in.
pub struct App {
    store: Mutex<Store>,
    clock: Arc<dyn Clock>,
    listener: Mutex<Option<Listener>>,
    status_listener: Mutex<Option<StatusListener>>,
    sync_memo: Mutex<sync::SyncMemo>,
    /// Wakes the background sync after a change.
    wake: tokio::sync::Notify,
}

/// The next local midnight after `now`, in the system's time zone.
fn end_of_local_day(now: DateTime<Utc>) -> DateTime<Utc> {
    let tomorrow = now.with_timezone(&chrono::Local).date_naive() + chrono::Days::new(1);
    let midnight = tomorrow.and_time(chrono::NaiveTime::MIN);
    // A midnight skipped by a daylight-saving change falls back to UTC's reading of it.
    midnight
        .and_local_timezone(chrono::Local)
        .earliest()
        .map_or_else(|| midnight.and_utc(), |at| at.with_timezone(&Utc))
}

const DEFAULT_LIMIT: u32 = 500;
const MAX_LIMIT: u32 = 20_000;

fn parse_id<T: std::str::FromStr<Err = fieldbook_domain::InvalidInput>>(text: &str) -> Result<T, AppError> {
    text.parse().map_err(|e: fieldbook_domain::InvalidInput| AppError::from(e))
}

impl App {
    /// Opens the app over the store in `data_dir` (created if missing).
    pub fn open(data_dir: &Path, clock: Arc<dyn Clock>) -> Result<App, AppError> {
        std::fs::create_dir_all(data_dir).map_err(|e| {
            AppError::new(ErrorCode::Storage, format!("cannot create the data folder {}: {e}", data_dir.display()))
        })?;
        Ok(Self::with_store(Store::open(data_dir.join("fieldbook.sqlite"))?, clock))
    }

    pub fn with_store(store: Store, clock: Arc<dyn Clock>) -> App {
        App {
            store: Mutex::new(store),
            clock,
            listener: Mutex::new(None),
            status_listener: Mutex::new(None),
            sync_memo: Mutex::new(sync::SyncMemo::default()),
            wake: tokio::sync::Notify::new(),
        }
    }

    /// Called after every committed change (the shell turns it into a UI event).
    pub fn on_change(&self, listener: impl Fn(StoreChanged) + Send + Sync + 'static) {
        *self.listener.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(listener));
    }

    /// Called whenever sync's status changes: it starts, progresses, ends or fails.
    pub fn on_sync_status(&self, listener: impl Fn(SyncStatus) + Send + Sync + 'static) {
        *self.status_listener.lock().unwrap_or_else(|p| p.into_inner()) = Some(Box::new(listener));
    }

    fn notify_status(&self, status: SyncStatus) {
        if let Some(listener) = &*self.status_listener.lock().unwrap_or_else(|p| p.into_inner()) {
            listener(status);
        }
    }

    fn store(&self) -> MutexGuard<'_, Store> {
        // A panic while holding the lock cannot leave a half-written transaction behind
        // (SQLite rolls it back), so the store is still consistent.
        self.store.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A local change: the screens refresh and sync sends it soon.
    fn changed(&self, work_order_id: WorkOrderId) {
        self.notify(StoreChanged { work_order_id: Some(work_order_id.to_string()) });
        self.wake_sync();
    }

    fn notify(&self, change: StoreChanged) {
        if let Some(listener) = &*self.listener.lock().unwrap_or_else(|p| p.into_inner()) {
            listener(change);
        }
    }

    /// Asks the background sync to run soon (after its debounce).
    pub fn wake_sync(&self) {
        self.wake.notify_one();
    }

    pub fn settings(&self) -> Result<Settings, AppError> {
        let locale = match self.store().setting("locale")?.as_deref() {
            Some("en") => Locale::En,
            _ => Locale::ZhCn,
        };
        Ok(Settings { locale })
    }

    pub fn set_locale(&self, locale: Locale) -> Result<Settings, AppError> {
        self.store().set_setting("locale", locale.as_str())?;
        self.settings()
    }

    /// The signed-in user of this device.
    pub fn current_user(&self) -> Result<Option<UserId>, AppError> {
        self.store().setting("user_id")?.map(|id| parse_id(&id)).transpose()
    }

    pub fn sign_in_as(&self, user: UserId) -> Result<(), AppError> {
        self.store().set_setting("user_id", &user.to_string())?;
        Ok(())
    }

    pub fn list_work_orders(&self, query: WorkOrderQuery) -> Result<WorkOrderList, AppError> {
        let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
        if limit == 0 || limit > MAX_LIMIT {
            return Err(AppError::new(
                ErrorCode::InvalidInput,
                format!("limit must be between 1 and {MAX_LIMIT} (got {limit})"),
            ));
        }
        let search = query.search.map(|s| fieldbook_domain::text::optional_text("search", &s, 200)).transpose()?;
        let now = self.clock.now();
        let day = query.view.map(|view| {
            let view = match view {
                dto::DayView::Today => fieldbook_store::DayView::Today,
                dto::DayView::Upcoming => fieldbook_store::DayView::Upcoming,
                dto::DayView::Done => fieldbook_store::DayView::Done,
            };
            (view, query.day_ends_at.unwrap_or_else(|| end_of_local_day(now)))
        });
        let offset = query.offset.unwrap_or(0);
        let page = self.store().list_page(&ListQuery {
            search,
            statuses: query.statuses,
            kinds: query.kinds,
            day,
            offset,
            limit,
        })?;
        Ok(WorkOrderList {
            items: page.rows.iter().map(|row| views::summary(row, now)).collect(),
            offset,
            total: page.total(),
            groups: page.groups.into_iter().map(|(status, count)| StatusCount { status, count }).collect(),
            now,
        })
    }

    pub fn work_order_detail(&self, id: &str) -> Result<WorkOrderDetail, AppError> {
        let id: WorkOrderId = parse_id(id)?;
        let store = self.store();
        let row = store.work_order_row(id)?;
        let visit = store.visit(id)?;
        let corrective_requests = store.corrective_requests(id)?;
        let history = match row.asset.as_ref() {
            Some(asset) => store.asset_history(asset.id, id, 20)?,
            None => Vec::new(),
        };
        drop(store);
        let (record_states, conflicts) = self.visit_sync(id)?;
        let mut detail = views::detail(&row, &visit, &history, self.clock.now());
        detail.record_states = record_states;
        detail.conflicts = conflicts;
        detail.corrective_requests = corrective_requests;
        Ok(detail)
    }

    /// Loads a work order the signed-in technician may write to.
    fn writable(&self, id: &str) -> Result<WorkOrderId, AppError> {
        let id: WorkOrderId = parse_id(id)?;
        let user = self.current_user()?.ok_or_else(|| {
            AppError::new(ErrorCode::NotSignedIn, "sign in before recording anything on a work order")
        })?;
        let work_order = self.store().work_order(id)?;
        if work_order.assignee != Some(user) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                format!(
                    "work order {} is assigned to someone else; only its assignee can record on it",
                    work_order.number
                ),
            ));
        }
        Ok(id)
    }

    pub fn record_answer(
        &self,
        work_order_id: &str,
        item_key: &str,
        answer: Answer,
        note: &str,
        supersedes: Option<&str>,
    ) -> Result<InspectionResult, AppError> {
        let id = self.writable(work_order_id)?;
        let supersedes: Option<ResultId> = supersedes.map(parse_id).transpose()?;
        let new =
            NewAnswer { work_order_id: id, item_key: item_key.to_owned(), answer, note: note.to_owned(), supersedes };
        let result = self.store().record_answer(&new, self.clock.now())?;
        self.changed(id);
        Ok(result)
    }

    pub fn record_fault(&self, work_order_id: &str, draft: &FaultDraft) -> Result<FaultRecord, AppError> {
        let id = self.writable(work_order_id)?;
        let fault = self.store().record_fault(id, draft, self.clock.now())?;
        self.changed(id);
        Ok(fault)
    }

    /// Asks for a corrective work order from this visit (from an abnormal item, when `item_key`
    /// names one). Drafted here, offline if need be; the server makes the work order on sync.
    pub fn request_corrective(
        &self,
        work_order_id: &str,
        item_key: Option<&str>,
        fault_level: FaultLevel,
        symptom: &str,
    ) -> Result<CorrectiveRequest, AppError> {
        let id = self.writable(work_order_id)?;
        let by = self.current_user()?;
        let request = self.store().request_corrective(id, item_key, fault_level, symptom, by, self.clock.now())?;
        self.changed(id);
        Ok(request)
    }

    pub fn record_part(&self, work_order_id: &str, draft: &PartDraft) -> Result<PartUsage, AppError> {
        let id = self.writable(work_order_id)?;
        let part = self.store().record_part(id, draft, self.clock.now())?;
        self.changed(id);
        Ok(part)
    }

    pub fn attach_photo(
        &self,
        work_order_id: &str,
        item_key: Option<&str>,
        caption: &str,
        bytes: &[u8],
    ) -> Result<Photo, AppError> {
        let id = self.writable(work_order_id)?;
        // Upright, at most 1600 px, metadata stripped: what is kept, sent and put in the report.
        // Refused (with the reason) when empty, too large, broken, a bomb or not a photo.
        let processed = fieldbook_media::process_photo(bytes, &fieldbook_media::PhotoOptions::default())
            .map_err(|e| AppError::new(ErrorCode::InvalidInput, e.to_string()))?;
        let now = self.clock.now();
        let taken_at = processed.captured_at.and_then(|t| capture_time(t, now)).unwrap_or(now);
        let photo = {
            let mut store = self.store();
            let photo = store.attach_photo(id, item_key, caption, &processed.jpeg, taken_at, now)?;
            // The photo is saved and queued: a thumbnail not kept now is made on first view.
            let _ = store.put_thumbnail(&photo.blob, &processed.thumbnail);
            photo
        };
        self.changed(id);
        Ok(photo)
    }

    pub fn add_note(&self, work_order_id: &str, text: &str) -> Result<Note, AppError> {
        let id = self.writable(work_order_id)?;
        let author = self.current_user()?;
        let note = self.store().add_note(id, author, text, self.clock.now())?;
        self.changed(id);
        Ok(note)
    }

    /// A technician's status step: set off, turn back, arrive, reopen.
    pub fn change_status(&self, work_order_id: &str, action: StatusAction) -> Result<WorkOrderSummary, AppError> {
        let id = self.writable(work_order_id)?;
        if !action.allowed_for(Role::Technician) {
            return Err(AppError::new(
                ErrorCode::Forbidden,
                format!("a technician cannot {action} a work order; ask a supervisor"),
            ));
        }
        self.store().change_status(id, action, self.clock.now())?;
        self.changed(id);
        let row = self.store().work_order_row(id)?;
        Ok(views::summary(&row, self.clock.now()))
    }

    /// The customer signs; the visit completes and locks.
    pub fn sign_off(
        &self,
        work_order_id: &str,
        draft: &SignOffDraft,
        signature_png: &[u8],
        strokes: Option<&[u8]>,
    ) -> Result<SignOff, AppError> {
        let id = self.writable(work_order_id)?;
        let (sign_off, _) = self.store().sign_off(id, draft, signature_png, strokes, self.clock.now())?;
        self.changed(id);
        Ok(sign_off)
    }

    /// The customer signs with the form's fields, the signature image (PNG) drawn on the
    /// device and, when the pad gave them, its pen strokes (JSON); each is kept by its hash.
    pub fn sign(
        &self,
        work_order_id: &str,
        input: &SignOffInput,
        signature_png: &[u8],
        strokes: Option<&[u8]>,
    ) -> Result<SignOff, AppError> {
        // Blank, a dot or a faint scribble is refused; the kept image is trimmed to the ink.
        let checked = fieldbook_media::check_signature(signature_png)
            .map_err(|e| AppError::new(ErrorCode::InvalidInput, e.to_string()))?;
        let strokes = strokes
            .map(fieldbook_media::check_strokes)
            .transpose()
            .map_err(|e| AppError::new(ErrorCode::InvalidInput, e.to_string()))?;
        let draft = SignOffDraft {
            signer_name: input.signer_name.clone(),
            opinion: input.opinion.clone(),
            satisfaction: input.satisfaction,
            signature: fieldbook_domain::BlobId::of_bytes(&checked.png),
            strokes: strokes.as_ref().map(|s| fieldbook_domain::BlobId::of_bytes(&s.json)),
        };
        self.sign_off(work_order_id, &draft, &checked.png, strokes.as_ref().map(|s| s.json.as_slice()))
    }

    /// Parts-catalog entries whose number or name contains `search` (at most 50).
    pub fn search_parts(&self, search: &str) -> Result<Vec<PartOption>, AppError> {
        let search = fieldbook_domain::text::optional_text("search", search, 200)?;
        self.search_parts_up_to(&search, 50)
    }

    /// Catalogue entries matching `search`, by part number, at most `limit`.
    pub(crate) fn search_parts_up_to(&self, search: &str, limit: u32) -> Result<Vec<PartOption>, AppError> {
        Ok(self
            .store()
            .search_parts(search, limit)?
            .into_iter()
            .map(|(part_number, name, needs_customer_approval, unit_price_cents)| PartOption {
                part_number,
                name,
                needs_customer_approval,
                unit_price_cents,
            })
            .collect())
    }

    /// A photo's or signature's bytes, when they are on this device.
    pub fn blob(&self, id: &str) -> Result<Vec<u8>, AppError> {
        let id: fieldbook_domain::BlobId = parse_id(id)?;
        self.store().blob(&id)?.ok_or_else(not_on_device)
    }

    /// A photo's thumbnail (at most 256 px): kept since the photo was taken here, or made now
    /// from the photo (one fetched from the server) and kept. `not_found` while the photo
    /// itself has not arrived.
    pub fn photo_thumbnail(&self, id: &str) -> Result<Vec<u8>, AppError> {
        let id: fieldbook_domain::BlobId = parse_id(id)?;
        self.thumbnail(&id)?.ok_or_else(not_on_device)
    }

    /// A photo's thumbnail from the store, made from the photo when missing (without holding
    /// the store while the photo is decoded) and kept when the store takes it; `None` while
    /// the photo is not on the device.
    pub(crate) fn thumbnail(&self, photo: &fieldbook_domain::BlobId) -> Result<Option<Vec<u8>>, AppError> {
        let bytes = {
            let store = self.store();
            if let Some(thumbnail) = store.thumbnail(photo)? {
                return Ok(Some(thumbnail));
            }
            let Some(bytes) = store.blob(photo)? else { return Ok(None) };
            bytes
        };
        let thumbnail = fieldbook_media::thumbnail_of(&bytes, &fieldbook_media::PhotoOptions::default())
            .map_err(|e| AppError::new(ErrorCode::Storage, format!("the photo {photo} cannot be shown: {e}")))?;
        // Kept for next time when the store takes it; made again otherwise.
        let _ = self.store().put_thumbnail(photo, &thumbnail);
        Ok(Some(thumbnail))
    }

    /// How many changes wait to be sent.
    pub fn pending_changes(&self) -> Result<u64, AppError> {
        Ok(self.store().outbox_len()?)
    }
}

/// A photo (or signature) recorded on another device and not fetched yet.
fn not_on_device() -> AppError {
    AppError::new(ErrorCode::NotFound, "this photo is not on the device yet; it arrives with the next sync")
}

/// A camera's capture time (local time of the device, without a zone) as a moment, when it is
/// believable: not in the future and not before digital photos of this visit could exist.
fn capture_time(local: chrono::NaiveDateTime, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    use chrono::TimeZone;
    let at = chrono::Local.from_local_datetime(&local).earliest()?.with_timezone(&Utc);
    let earliest = now - chrono::Duration::days(366);
    (at <= now + chrono::Duration::minutes(5) && at >= earliest).then_some(at)
}
