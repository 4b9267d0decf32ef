//! The server's storage, as a trait. Handlers see only [`Database`]; the binary chooses the
//! backend (SQLite today, in `fieldbook-server-sqlite`; PostgreSQL can follow without touching
//! a handler). Nothing here is specific to one SQL dialect, and the decisions every backend
//! must make alike — which push mutations apply, what a supervisor's change does to a work
//! order, who receives which change — are pure functions in [`rules`], so backends only store.
//!
//! Architecture invariant: no SQL in this crate.

pub mod rules;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fieldbook_domain::schedule::PatrolSchedule;
use fieldbook_domain::{
    Asset, BlobId, ChecklistTemplate, Customer, InvalidInput, RuleViolation, ScheduleId, ServicePolicy, Site, UserId,
    WorkOrder, WorkOrderId,
};
use fieldbook_protocol::{
    ConflictFilter, ConflictInfo, DeviceInfo, LedgerEntry, Mutation, PartCatalogEntry, PullResponse, PushResponse,
    ReferenceData, ReportCheck, UploadStatus, UserInfo, WorkOrderFilter,
};
use thiserror::Error;

pub use rules::SupervisorChange;

#[derive(Debug, Error)]
pub enum DbError {
    #[error("no {what} with id {id}")]
    NotFound { what: &'static str, id: String },
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Invalid(#[from] InvalidInput),
    #[error(transparent)]
    Rule(#[from] RuleViolation),
    /// A push whose numbers do not continue the device's sequence: nothing was stored, and the
    /// device must send again from `resend_from`, the server's next expected number.
    #[error("mutation {got} does not continue this device's mutations, which the server holds through {held}; nothing was stored, resend from {resend_from}", held = .resend_from - 1)]
    Gap { resend_from: u64, got: u64 },
    /// A push that is malformed as a whole (a mutation number 0): nothing was stored.
    #[error("{0}")]
    Malformed(String),
    /// A pull cursor past the end of the caller's stream (a server restored from a backup, a
    /// device moved between servers): the device must pull everything again from 0.
    #[error("the cursor {cursor} is past the end of your changes ({head}); pull everything again from 0")]
    CursorAhead { cursor: u64, head: u64 },
    /// A new record under an id that a different record already has.
    #[error("{0}")]
    IdTaken(String),
    /// A blob chunk that does not continue the upload where it stands.
    #[error("this upload continues at byte {expected}, not {got}; resume from {expected}")]
    WrongOffset { expected: u64, got: u64 },
    #[error("the uploaded bytes hash to {actual}, not {expected}; the upload was discarded, send it again")]
    HashMismatch { expected: String, actual: String },
    #[error("the storage backend failed: {0}")]
    Backend(String),
}

pub type DbResult<T> = Result<T, DbError>;

/// A user as stored, with the password hash (argon2id, PHC string).
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub info: UserInfo,
    pub password_hash: String,
}

/// A device being enrolled; the token is stored only as its hash.
#[derive(Debug, Clone)]
pub struct NewDevice {
    pub id: String,
    pub user_id: UserId,
    pub name: String,
    pub token_hash: String,
    pub enrolled_at: DateTime<Utc>,
    /// The device's Ed25519 public key for signed reports (hex).
    pub public_key: Option<String>,
}

/// Reference data loaded in bulk (the demo set, a CSV import): all of it or none of it.
#[derive(Debug, Clone, Default)]
pub struct ReferenceBatch {
    pub policies: Vec<ServicePolicy>,
    pub customers: Vec<Customer>,
    pub sites: Vec<Site>,
    pub assets: Vec<Asset>,
    pub templates: Vec<ChecklistTemplate>,
    pub parts: Vec<PartCatalogEntry>,
    /// Work orders with their deadlines already computed.
    pub work_orders: Vec<WorkOrder>,
}

/// Everything the server stores.
///
/// Each method is one transaction. Methods that change a work order or its records append the
/// change, in the same transaction, to the stream of every user who receives it: the work
/// order's assignee and the assignee's supervisor, or every supervisor while it is unassigned. Each stream has its own version
/// counter, so a reader after a cursor never skips a row that commits late.
#[async_trait]
pub trait Database: Send + Sync + 'static {
    // Users and devices.
    async fn create_user(&self, user: UserRecord) -> DbResult<UserInfo>;
    async fn user_by_username(&self, username: &str) -> DbResult<Option<UserRecord>>;
    async fn user(&self, id: UserId) -> DbResult<Option<UserInfo>>;
    async fn users(&self) -> DbResult<Vec<UserInfo>>;
    async fn set_user_disabled(&self, id: UserId, disabled: bool) -> DbResult<UserInfo>;
    async fn create_device(&self, device: NewDevice) -> DbResult<DeviceInfo>;
    /// Enrols a device through sign-in: the user's device with the same public key, unless
    /// revoked, takes the new token and keeps its id and its last mutation number (a retried
    /// enrolment whose answer was lost, or the same tablet signed in again), so no orphan device
    /// is left behind; otherwise as [`Database::create_device`].
    async fn enroll_device(&self, device: NewDevice) -> DbResult<DeviceInfo>;
    /// The device holding this token hash, with its user, unless revoked.
    async fn device_by_token(&self, token_hash: &str) -> DbResult<Option<(DeviceInfo, UserInfo)>>;
    async fn devices(&self) -> DbResult<Vec<DeviceInfo>>;
    async fn revoke_device(&self, id: &str, at: DateTime<Utc>) -> DbResult<DeviceInfo>;
    /// A device's report-signing public key (none for a device enrolled before keys) and when
    /// it was revoked, if it was; `None` for a device not enrolled here.
    async fn device_key(&self, id: &str) -> DbResult<Option<(Option<String>, Option<DateTime<Utc>>)>>;
    /// Notes that the device synced (pulled) at `at`, and the changes it said it still holds.
    async fn record_sync(&self, device_id: &str, at: DateTime<Utc>, pending: Option<u64>) -> DbResult<()>;

    // Reference data.
    async fn import(&self, batch: ReferenceBatch) -> DbResult<()>;
    async fn policy(&self, id: fieldbook_domain::PolicyId) -> DbResult<Option<ServicePolicy>>;
    async fn policies(&self) -> DbResult<Vec<ServicePolicy>>;
    async fn customer(&self, id: fieldbook_domain::CustomerId) -> DbResult<Option<Customer>>;
    async fn customers(&self) -> DbResult<Vec<Customer>>;
    async fn site(&self, id: fieldbook_domain::SiteId) -> DbResult<Option<Site>>;
    async fn asset(&self, id: fieldbook_domain::AssetId) -> DbResult<Option<Asset>>;
    async fn template(&self, id: fieldbook_domain::TemplateId) -> DbResult<Option<ChecklistTemplate>>;
    async fn templates(&self) -> DbResult<Vec<ChecklistTemplate>>;
    async fn parts(&self) -> DbResult<Vec<PartCatalogEntry>>;
    /// What a supervisor's device needs to record calls and dispatch offline: every policy,
    /// customer, site, asset and checklist template, and the active technicians of the team
    /// of `team_of` (all of them when `None`).
    async fn dispatch_reference(&self, team_of: Option<UserId>) -> DbResult<ReferenceData>;

    // Work orders.
    /// Stores a new work order (deadlines computed by the caller) and streams it.
    async fn create_work_order(&self, work_order: WorkOrder) -> DbResult<WorkOrder>;
    async fn work_order(&self, id: WorkOrderId) -> DbResult<Option<WorkOrder>>;
    /// Work orders matching `filter`; with `team_of`, only those assigned to that supervisor's
    /// technicians or unassigned.
    async fn work_orders(&self, filter: &WorkOrderFilter, team_of: Option<UserId>) -> DbResult<Vec<WorkOrder>>;
    /// Applies a supervisor's change through [`rules::apply_supervisor_change`] and streams it
    /// (a reassignment streams a removal to the previous assignee).
    async fn change_work_order(
        &self,
        id: WorkOrderId,
        change: SupervisorChange,
        at: DateTime<Utc>,
    ) -> DbResult<WorkOrder>;

    // Periodic duties.
    /// Stores a new schedule (references checked) and creates the work orders already due by
    /// its `created_at`; returns the schedule and those work orders.
    async fn create_schedule(&self, schedule: PatrolSchedule) -> DbResult<(PatrolSchedule, Vec<WorkOrder>)>;
    /// Schedules, newest first; with `team_of`, those whose assignee is that supervisor's
    /// technician or that have none.
    async fn schedules(&self, team_of: Option<UserId>) -> DbResult<Vec<PatrolSchedule>>;
    async fn schedule(&self, id: ScheduleId) -> DbResult<Option<PatrolSchedule>>;
    /// Pauses or resumes a schedule; resuming creates what is due by `at`.
    async fn set_schedule_active(
        &self,
        id: ScheduleId,
        active: bool,
        at: DateTime<Utc>,
    ) -> DbResult<(PatrolSchedule, Vec<WorkOrder>)>;
    /// Creates every scheduled work order due by `now` that does not exist yet, and streams
    /// them; returns those created. Running it again, or concurrently, creates nothing twice.
    async fn run_schedules(&self, now: DateTime<Utc>) -> DbResult<Vec<WorkOrder>>;

    // Sync.
    /// Stores a device's mutations exactly once each, in sequence order; see [`rules::plan_push`].
    async fn push(
        &self,
        device: &DeviceInfo,
        user: &UserInfo,
        mutations: &[Mutation],
        at: DateTime<Utc>,
    ) -> DbResult<PushResponse>;
    /// The caller's changes after `after`, oldest first, at most `limit`.
    async fn pull(&self, user: UserId, after: u64, limit: u32) -> DbResult<PullResponse>;

    /// Refused changes: of `own` user's devices, or of the technicians `team_of` supervises and
    /// of that supervisor's own devices (neither: all), newest first.
    async fn conflicts(
        &self,
        own: Option<UserId>,
        team_of: Option<UserId>,
        filter: &ConflictFilter,
    ) -> DbResult<Vec<ConflictInfo>>;
    async fn conflict(&self, id: i64) -> DbResult<Option<ConflictInfo>>;
    /// Marks a conflict as dealt with; the record of it stays.
    async fn resolve_conflict(&self, id: i64, by: UserId, at: DateTime<Utc>) -> DbResult<ConflictInfo>;

    // Blobs.
    /// Which of these blobs `user` has not uploaded (every byte, hash-checked): a blob someone
    /// else uploaded is missing for them too, so its existence tells nobody anything.
    async fn missing_blobs(&self, ids: &[BlobId], user: UserId) -> DbResult<Vec<BlobId>>;
    /// Appends a chunk at `offset`; on the last chunk re-hashes the whole blob and stores it
    /// only if the hash is its id.
    /// Appends a chunk of `user`'s upload of the blob; once every byte has arrived and hashes to
    /// the id, `user` holds the blob (whoever else uploaded the same bytes before).
    async fn upload_chunk(
        &self,
        id: &BlobId,
        user: UserId,
        offset: u64,
        total: u64,
        bytes: &[u8],
    ) -> DbResult<UploadStatus>;
    /// How far `user`'s upload of the blob got, complete once they hold it.
    async fn upload_status(&self, id: &BlobId, user: UserId) -> DbResult<Option<UploadStatus>>;
    /// Whether `user` uploaded this blob.
    async fn holds_blob(&self, id: &BlobId, user: UserId) -> DbResult<bool>;
    async fn blob(&self, id: &BlobId) -> DbResult<Option<Vec<u8>>>;
    /// The work orders that reference a blob (photos and signatures), for authorization.
    async fn blob_work_orders(&self, id: &BlobId) -> DbResult<Vec<WorkOrderId>>;

    // The report ledger (signed reports arrive by push, checked by [`rules::check_report`]).
    /// The ledger's entries of one work order, oldest first.
    async fn reports(&self, work_order: WorkOrderId) -> DbResult<Vec<LedgerEntry>>;
    /// The ledger entry of the report whose hash starts with `hash` (as for
    /// [`Database::check_report`]), without checking the report: to authorize first.
    async fn report_entry(&self, hash: &str) -> DbResult<Option<LedgerEntry>>;
    /// The report whose hash starts with `hash` (at least 8 hex digits; a short code's dash is
    /// ignored), checked now: hash, signature, images, the device's enrolled key and its
    /// revocation, and the entry's link to the one before it.
    async fn check_report(&self, hash: &str) -> DbResult<Option<ReportCheck>>;
    /// Recomputes the whole ledger's chain: the number of entries, or the first that breaks it.
    async fn check_ledger(&self) -> DbResult<LedgerCheck>;
}

/// What walking the ledger's chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LedgerCheck {
    Sound { entries: u64 },
    Broken { seq: u64, reason: String },
}
