//! The server's embedded SQLite backend of [`fieldbook_server_db::Database`].
//!
//! Architecture invariant: this crate and `fieldbook-store` are the only ones holding SQL.
//!
//! # Concurrency
//!
//! One connection, held in an `Arc<Mutex<Connection>>`; every trait method runs its body on
//! tokio's blocking pool (`spawn_blocking`, since rusqlite blocks) as **one transaction**,
//! committed before the method returns. SQLite admits one writer at a time anyway, so a single
//! connection costs writers nothing and makes every method serializable with no
//! `SQLITE_BUSY` retries; readers wait behind a running write (a push of 500 mutations holds
//! the lock for milliseconds). Writing methods begin `IMMEDIATE`, so a transaction never has
//! to upgrade its lock halfway. Prepared statements are cached on the connection.
//!
//! # Durability
//!
//! `journal_mode=WAL`, `synchronous=FULL` (each commit is fsynced before the method returns),
//! `foreign_keys=ON`, a `busy_timeout` for outside readers (backups, `sqlite3` on the file),
//! and `temp_store=MEMORY`. The schema lives in [`schema`] as append-only migrations.
//!
//! # Storage
//!
//! Each domain value is stored as its JSON `body` beside the columns queries filter, sort or
//! constrain on; times are Unix milliseconds. Every change to a work order or its records is
//! appended, in the same transaction, to the assignee's stream (`streams` holds each user's
//! version counter, `changes` the changes), which is what `pull` reads.

mod blobs;
mod codec;
mod conflicts;
mod ledger;
mod reference;
mod schedules;
mod schema;
mod sync;
mod users;
mod work_orders;

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use fieldbook_domain::schedule::PatrolSchedule;
use fieldbook_domain::{
    Asset, AssetId, BlobId, ChecklistTemplate, Customer, CustomerId, PolicyId, ScheduleId, ServicePolicy, Site, SiteId,
    TemplateId, UserId, WorkOrder, WorkOrderId,
};
use fieldbook_protocol::{
    ConflictFilter, ConflictInfo, DeviceInfo, LedgerEntry, Mutation, PartCatalogEntry, PullResponse, PushResponse,
    ReferenceData, ReportCheck, UploadStatus, UserInfo, WorkOrderFilter,
};
use fieldbook_server_db::{
    Database, DbError, DbResult, LedgerCheck, NewDevice, ReferenceBatch, SupervisorChange, UserRecord,
};
use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::codec::SqlResult;

/// The pragmas every connection runs with. `synchronous=FULL` makes each commit durable in WAL
/// mode before it returns (NORMAL may lose the last commits on power loss). The first 256 MB of
/// the file are read through a memory map: a pull page reads thousands of stored changes, and
/// copying each page through `read()` into SQLite's 2 MB cache was about a third of the
/// server's time for a first sync (docs/benchmarks.md). Writes still go through the log.
pub const PRAGMAS: &str = "
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = FULL;
    PRAGMA foreign_keys = ON;
    PRAGMA busy_timeout = 5000;
    PRAGMA temp_store = MEMORY;
    PRAGMA mmap_size = 268435456;
";

/// The server's database in one SQLite file.
#[derive(Clone)]
pub struct SqliteDatabase {
    conn: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for SqliteDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteDatabase").finish_non_exhaustive()
    }
}

impl SqliteDatabase {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date.
    pub fn open(path: impl AsRef<Path>) -> DbResult<Self> {
        let path = path.as_ref();
        let conn = Connection::open(path)
            .map_err(|e| DbError::Backend(format!("could not open the database {}: {e}", path.display())))?;
        Self::init(conn)
    }

    /// A private database in memory (tests, trials); gone when dropped.
    pub fn open_in_memory() -> DbResult<Self> {
        Self::init(Connection::open_in_memory().db()?)
    }

    fn init(mut conn: Connection) -> DbResult<Self> {
        conn.execute_batch(PRAGMAS).db()?;
        conn.set_prepared_statement_cache_capacity(64);
        schema::migrations()
            .to_latest(&mut conn)
            .map_err(|e| DbError::Backend(format!("the database schema could not be brought up to date: {e}")))?;
        Ok(SqliteDatabase { conn: Arc::new(Mutex::new(conn)) })
    }

    /// Runs `f` in one transaction on the blocking pool and commits it if `f` succeeds.
    async fn transaction<T, F>(&self, behavior: TransactionBehavior, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> DbResult<T> + Send + 'static,
    {
        let conn = Arc::clone(&self.conn);
        tokio::task::spawn_blocking(move || {
            // A panic while the lock was held rolled its transaction back as it unwound, so the
            // connection is still sound.
            let mut conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            let tx = conn.transaction_with_behavior(behavior).db()?;
            let value = f(&tx)?;
            tx.commit().db()?;
            Ok(value)
        })
        .await
        .map_err(|e| DbError::Backend(format!("a database task failed: {e}")))?
    }

    async fn write<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> DbResult<T> + Send + 'static,
    {
        self.transaction(TransactionBehavior::Immediate, f).await
    }

    async fn read<T, F>(&self, f: F) -> DbResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction<'_>) -> DbResult<T> + Send + 'static,
    {
        self.transaction(TransactionBehavior::Deferred, f).await
    }
}

#[async_trait]
impl Database for SqliteDatabase {
    async fn create_user(&self, user: UserRecord) -> DbResult<UserInfo> {
        self.write(move |tx| users::create_user(tx, user)).await
    }

    async fn user_by_username(&self, username: &str) -> DbResult<Option<UserRecord>> {
        let username = username.to_owned();
        self.read(move |tx| users::user_by_username(tx, &username)).await
    }

    async fn user(&self, id: UserId) -> DbResult<Option<UserInfo>> {
        self.read(move |tx| users::user(tx, id)).await
    }

    async fn users(&self) -> DbResult<Vec<UserInfo>> {
        self.read(|tx| users::users(tx)).await
    }

    async fn set_user_disabled(&self, id: UserId, disabled: bool) -> DbResult<UserInfo> {
        self.write(move |tx| users::set_user_disabled(tx, id, disabled)).await
    }

    async fn create_device(&self, device: NewDevice) -> DbResult<DeviceInfo> {
        self.write(move |tx| users::create_device(tx, device)).await
    }

    async fn enroll_device(&self, device: NewDevice) -> DbResult<DeviceInfo> {
        self.write(move |tx| users::enroll_device(tx, device)).await
    }

    async fn device_by_token(&self, token_hash: &str) -> DbResult<Option<(DeviceInfo, UserInfo)>> {
        let token_hash = token_hash.to_owned();
        self.read(move |tx| users::device_by_token(tx, &token_hash)).await
    }

    async fn devices(&self) -> DbResult<Vec<DeviceInfo>> {
        self.read(|tx| users::devices(tx)).await
    }

    async fn device_key(&self, id: &str) -> DbResult<Option<(Option<String>, Option<DateTime<Utc>>)>> {
        let id = id.to_owned();
        self.read(move |tx| users::device_key(tx, &id)).await
    }

    async fn revoke_device(&self, id: &str, at: DateTime<Utc>) -> DbResult<DeviceInfo> {
        let id = id.to_owned();
        self.write(move |tx| users::revoke_device(tx, &id, at)).await
    }

    async fn record_sync(&self, device_id: &str, at: DateTime<Utc>, pending: Option<u64>) -> DbResult<()> {
        let device_id = device_id.to_owned();
        self.write(move |tx| users::record_sync(tx, &device_id, at, pending)).await
    }

    async fn import(&self, batch: ReferenceBatch) -> DbResult<()> {
        self.write(move |tx| reference::import(tx, &batch)).await
    }

    async fn policy(&self, id: PolicyId) -> DbResult<Option<ServicePolicy>> {
        self.read(move |tx| work_orders::body_by_id(tx, "SELECT body FROM policies WHERE id = ?1", &id.to_string()))
            .await
    }

    async fn policies(&self) -> DbResult<Vec<ServicePolicy>> {
        self.read(|tx| reference::all(tx, "SELECT body FROM policies ORDER BY id")).await
    }

    async fn customer(&self, id: CustomerId) -> DbResult<Option<Customer>> {
        self.read(move |tx| work_orders::body_by_id(tx, "SELECT body FROM customers WHERE id = ?1", &id.to_string()))
            .await
    }

    async fn customers(&self) -> DbResult<Vec<Customer>> {
        self.read(|tx| reference::all(tx, "SELECT body FROM customers ORDER BY name, id")).await
    }

    async fn site(&self, id: SiteId) -> DbResult<Option<Site>> {
        self.read(move |tx| work_orders::body_by_id(tx, "SELECT body FROM sites WHERE id = ?1", &id.to_string())).await
    }

    async fn asset(&self, id: AssetId) -> DbResult<Option<Asset>> {
        self.read(move |tx| work_orders::body_by_id(tx, "SELECT body FROM assets WHERE id = ?1", &id.to_string())).await
    }

    async fn template(&self, id: TemplateId) -> DbResult<Option<ChecklistTemplate>> {
        self.read(move |tx| work_orders::body_by_id(tx, "SELECT body FROM templates WHERE id = ?1", &id.to_string()))
            .await
    }

    async fn templates(&self) -> DbResult<Vec<ChecklistTemplate>> {
        self.read(|tx| reference::all(tx, "SELECT body FROM templates ORDER BY code, version")).await
    }

    async fn parts(&self) -> DbResult<Vec<PartCatalogEntry>> {
        self.read(|tx| reference::parts(tx)).await
    }

    async fn dispatch_reference(&self, team_of: Option<UserId>) -> DbResult<ReferenceData> {
        self.read(move |tx| {
            let users = users::users(tx)?
                .into_iter()
                .filter(|u| u.role == fieldbook_domain::Role::Technician && !u.disabled)
                .filter(|u| team_of.is_none() || u.supervisor_id == team_of)
                .collect();
            Ok(ReferenceData {
                policies: reference::all(tx, "SELECT body FROM policies ORDER BY id")?,
                customers: reference::all(tx, "SELECT body FROM customers ORDER BY name, id")?,
                sites: reference::all(tx, "SELECT body FROM sites ORDER BY customer_id, id")?,
                assets: reference::all(tx, "SELECT body FROM assets ORDER BY site_id, id")?,
                templates: reference::all(tx, "SELECT body FROM templates ORDER BY code, version")?,
                users,
            })
        })
        .await
    }

    async fn create_work_order(&self, work_order: WorkOrder) -> DbResult<WorkOrder> {
        self.write(move |tx| work_orders::create(tx, work_order)).await
    }

    async fn work_order(&self, id: WorkOrderId) -> DbResult<Option<WorkOrder>> {
        self.read(move |tx| work_orders::load(tx, id)).await
    }

    async fn work_orders(&self, filter: &WorkOrderFilter, team_of: Option<UserId>) -> DbResult<Vec<WorkOrder>> {
        let filter = filter.clone();
        self.read(move |tx| work_orders::list(tx, &filter, team_of)).await
    }

    async fn change_work_order(
        &self,
        id: WorkOrderId,
        change: SupervisorChange,
        at: DateTime<Utc>,
    ) -> DbResult<WorkOrder> {
        self.write(move |tx| work_orders::change(tx, id, change, at)).await
    }

    async fn create_schedule(&self, schedule: PatrolSchedule) -> DbResult<(PatrolSchedule, Vec<WorkOrder>)> {
        self.write(move |tx| schedules::create(tx, schedule)).await
    }

    async fn schedules(&self, team_of: Option<UserId>) -> DbResult<Vec<PatrolSchedule>> {
        self.read(move |tx| schedules::list(tx, team_of)).await
    }

    async fn schedule(&self, id: ScheduleId) -> DbResult<Option<PatrolSchedule>> {
        self.read(move |tx| schedules::load(tx, id)).await
    }

    async fn set_schedule_active(
        &self,
        id: ScheduleId,
        active: bool,
        at: DateTime<Utc>,
    ) -> DbResult<(PatrolSchedule, Vec<WorkOrder>)> {
        self.write(move |tx| schedules::set_active(tx, id, active, at)).await
    }

    async fn run_schedules(&self, now: DateTime<Utc>) -> DbResult<Vec<WorkOrder>> {
        self.write(move |tx| schedules::run_all(tx, now)).await
    }

    async fn push(
        &self,
        device: &DeviceInfo,
        user: &UserInfo,
        mutations: &[Mutation],
        at: DateTime<Utc>,
    ) -> DbResult<PushResponse> {
        let device_id = device.id.clone();
        let user = user.clone();
        let mutations = mutations.to_vec();
        self.write(move |tx| sync::push(tx, &device_id, &user, &mutations, at)).await
    }

    async fn pull(&self, user: UserId, after: u64, limit: u32) -> DbResult<PullResponse> {
        self.read(move |tx| sync::pull(tx, user, after, limit)).await
    }

    async fn conflicts(
        &self,
        own: Option<UserId>,
        team_of: Option<UserId>,
        filter: &ConflictFilter,
    ) -> DbResult<Vec<ConflictInfo>> {
        let filter = filter.clone();
        self.read(move |tx| conflicts::list(tx, own, team_of, &filter)).await
    }

    async fn conflict(&self, id: i64) -> DbResult<Option<ConflictInfo>> {
        self.read(move |tx| conflicts::get(tx, id)).await
    }

    async fn resolve_conflict(&self, id: i64, by: UserId, at: DateTime<Utc>) -> DbResult<ConflictInfo> {
        self.write(move |tx| conflicts::resolve(tx, id, by, at)).await
    }

    async fn missing_blobs(&self, ids: &[BlobId], user: UserId) -> DbResult<Vec<BlobId>> {
        let ids = ids.to_vec();
        self.read(move |tx| blobs::missing(tx, &ids, user)).await
    }

    async fn upload_chunk(
        &self,
        id: &BlobId,
        user: UserId,
        offset: u64,
        total: u64,
        bytes: &[u8],
    ) -> DbResult<UploadStatus> {
        let id = id.clone();
        let bytes = bytes.to_vec();
        // A hash mismatch is committed (the upload is discarded) and then reported.
        self.write(move |tx| blobs::upload_chunk(tx, &id, user, offset, total, &bytes, Utc::now())).await?
    }

    async fn upload_status(&self, id: &BlobId, user: UserId) -> DbResult<Option<UploadStatus>> {
        let id = id.clone();
        self.read(move |tx| blobs::upload_status(tx, &id, user)).await
    }

    async fn holds_blob(&self, id: &BlobId, user: UserId) -> DbResult<bool> {
        let id = id.clone();
        self.read(move |tx| blobs::holds(tx, &id, user)).await
    }

    async fn blob(&self, id: &BlobId) -> DbResult<Option<Vec<u8>>> {
        let id = id.clone();
        self.read(move |tx| blobs::blob(tx, &id)).await
    }

    async fn reports(&self, work_order: WorkOrderId) -> DbResult<Vec<LedgerEntry>> {
        self.read(move |tx| ledger::reports(tx, work_order)).await
    }

    async fn report_entry(&self, hash: &str) -> DbResult<Option<LedgerEntry>> {
        let hash = hash.to_owned();
        self.read(move |tx| ledger::entry(tx, &hash)).await
    }

    async fn check_report(&self, hash: &str) -> DbResult<Option<ReportCheck>> {
        let hash = hash.to_owned();
        self.read(move |tx| ledger::check(tx, &hash)).await
    }

    async fn check_ledger(&self) -> DbResult<LedgerCheck> {
        self.read(|tx| ledger::check_ledger(tx)).await
    }

    async fn blob_work_orders(&self, id: &BlobId) -> DbResult<Vec<WorkOrderId>> {
        let id = id.clone();
        self.read(move |tx| blobs::work_orders_of(tx, &id)).await
    }
}
