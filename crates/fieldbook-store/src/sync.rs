//! What sync needs of the device store: the outbox read in order and acknowledged, refusals
//! kept as conflicts, and pulled changes applied one page per transaction together with the
//! new cursor — so a crash between pulling and saving the cursor re-applies the page, which
//! changes nothing the second time.

use chrono::{DateTime, Utc};
use fieldbook_domain::{FaultRecord, Hlc, InspectionResult, Note, PartUsage, Photo, SignOff, WorkOrder, WorkOrderId};
use rusqlite::{OptionalExtension, params};

use crate::codec::{from_millis, millis};
use crate::reference::{
    BulkStatements, SearchNames, insert_corrective_request, insert_fault, insert_note, insert_part, insert_photo,
    insert_sign_off,
};
use crate::{ImportBatch, Result, Store};

/// A visit record that arrived from the server.
#[derive(Debug, Clone, PartialEq)]
pub enum PulledRecord {
    InspectionResult(InspectionResult),
    FaultRecord(FaultRecord),
    PartUsage(PartUsage),
    Photo(Photo),
    Note(Note),
    SignOff(SignOff),
    CorrectiveRequest(fieldbook_domain::CorrectiveRequest),
    /// A signed report the server's ledger accepted (from any device).
    Report(Box<fieldbook_domain::evidence::SignedReport>),
}

/// One pulled change, in the store's own terms. What a work order refers to arrives beside
/// the page's changes (see [`Store::apply_pulled`]).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum PulledChange {
    WorkOrder(Box<WorkOrder>),
    Record(PulledRecord),
    /// No longer this device's user's work.
    Removed(WorkOrderId),
}

const CONFLICT_SELECT: &str =
    "SELECT seq, work_order_id, entity, entity_id, op, payload, code, message, created_at FROM conflicts";

/// A change the server refused, as the device keeps it.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub seq: i64,
    pub work_order_id: String,
    pub entity: String,
    pub entity_id: String,
    pub op: String,
    pub payload: String,
    pub code: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
}

/// What the server answered for one outbox row.
#[derive(Debug, Clone, PartialEq)]
pub enum Acknowledgement {
    Stored,
    Refused { code: String, message: String },
}

impl Store {
    /// Drops the outbox rows the server acknowledged (`seq` ≤ `through`); rows it refused are
    /// kept as conflicts first, in the same transaction.
    pub fn acknowledge(&mut self, through: i64, outcomes: &[(i64, Acknowledgement)], now: DateTime<Utc>) -> Result<()> {
        let tx = self.conn.transaction()?;
        for (seq, outcome) in outcomes {
            if let Acknowledgement::Refused { code, message } = outcome {
                let kept = tx.execute(
                    "INSERT OR IGNORE INTO conflicts
                         (seq, mutation_id, entity, entity_id, work_order_id, op, payload, code, message, created_at)
                     SELECT seq, mutation_id, entity, entity_id, work_order_id, op, payload, ?2, ?3, ?4
                     FROM outbox WHERE seq = ?1",
                    params![seq, code, message, millis(now)],
                )?;
                if kept == 1 {
                    withdraw_refused_record(&tx, *seq)?;
                }
            }
        }
        tx.execute("DELETE FROM outbox WHERE seq <= ?1", [through])?;
        // Work orders taken away while they held unsent work leave once it is all sent.
        let held: Vec<String> = tx
            .prepare("SELECT work_order_id FROM held_removals")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in held {
            let id: WorkOrderId = crate::codec::parse(&id)?;
            if !has_pending(&tx, id)? {
                remove_work_order(&tx, id)?;
                tx.execute("DELETE FROM held_removals WHERE work_order_id = ?1", [id.to_string()])?;
            }
        }
        tx.commit()?;
        // Work orders may have left: a first sync's pages look them up in the store again.
        if let Some(first_pull) = &mut self.first_pull {
            first_pull.work_orders.clear();
        }
        Ok(())
    }

    /// Every change the server refused, oldest first.
    pub fn conflicts(&self) -> Result<Vec<Conflict>> {
        self.conflict_rows(&format!("{CONFLICT_SELECT} ORDER BY id"), [])
    }

    /// The refused changes of one work order, oldest first.
    pub fn conflicts_of(&self, work_order: WorkOrderId) -> Result<Vec<Conflict>> {
        let sql = format!("{CONFLICT_SELECT} WHERE work_order_id = ?1 ORDER BY id");
        self.conflict_rows(&sql, [work_order.to_string()])
    }

    /// How many changes the server refused.
    pub fn conflicts_len(&self) -> Result<u64> {
        Ok(self.conn.query_row("SELECT COUNT(*) FROM conflicts", [], |r| r.get(0))?)
    }

    fn conflict_rows(&self, sql: &str, params: impl rusqlite::Params) -> Result<Vec<Conflict>> {
        let mut statement = self.conn.prepare_cached(sql)?;
        let rows = statement
            .query_map(params, |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    [r.get::<_, String>(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?, r.get(7)?],
                    r.get::<_, i64>(8)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter()
            .map(|(seq, [work_order_id, entity, entity_id, op, payload, code, message], at)| {
                Ok(Conflict {
                    seq,
                    work_order_id,
                    entity,
                    entity_id,
                    op,
                    payload,
                    code,
                    message,
                    created_at: from_millis(at)?,
                })
            })
            .collect()
    }

    /// Notes that a push carrying the changes up to `through` left the device. If its answer
    /// never arrives the screens show them as sent, not yet confirmed.
    pub fn mark_sent(&mut self, through: i64, now: DateTime<Utc>) -> Result<()> {
        // A change sent before keeps its first sending time.
        self.conn.execute(
            "UPDATE outbox SET sent_at = ?2 WHERE seq <= ?1 AND sent_at IS NULL",
            params![through, millis(now)],
        )?;
        Ok(())
    }

    /// Takes back [`Store::mark_sent`] of the same `now` when the push never left the device
    /// (the connection could not even be made): those changes are still only here.
    pub fn unmark_sent(&mut self, through: i64, now: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE outbox SET sent_at = NULL WHERE seq <= ?1 AND sent_at = ?2",
            params![through, millis(now)],
        )?;
        Ok(())
    }

    /// Photos and signatures of the visits on this device whose bytes are not here yet (they
    /// arrived from the server as records), newest visits first.
    pub fn missing_blobs(&self, limit: u32) -> Result<Vec<fieldbook_domain::BlobId>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT id FROM (
                 SELECT blob_id AS id, taken_at AS at FROM photos
                 UNION ALL SELECT json_extract(body, '$.signature'), signed_at FROM sign_offs
                 UNION ALL SELECT json_extract(body, '$.strokes'), signed_at FROM sign_offs
                     WHERE json_extract(body, '$.strokes') IS NOT NULL)
             WHERE id NOT IN (SELECT id FROM blobs)
             GROUP BY id ORDER BY MAX(at) DESC LIMIT ?1",
        )?;
        let ids = statement.query_map([limit], |r| r.get::<_, String>(0))?.collect::<rusqlite::Result<Vec<_>>>()?;
        ids.iter().map(|id| crate::codec::parse(id)).collect()
    }

    /// Keeps bytes fetched from the server, if they are the blob they claim to be.
    pub fn put_fetched_blob(&mut self, id: &fieldbook_domain::BlobId, bytes: &[u8], now: DateTime<Utc>) -> Result<()> {
        if fieldbook_domain::BlobId::of_bytes(bytes) != *id {
            return Err(crate::StoreError::Corrupt(format!(
                "the server sent bytes for {id} that do not match its hash; they were not kept"
            )));
        }
        let tx = self.conn.transaction()?;
        crate::reference::insert_blob(&tx, id, bytes, now)?;
        tx.commit()?;
        Ok(())
    }

    /// Signing out: removes every work order, record, photo, pending change and conflict, and
    /// the sign-in, in one transaction. The language and the device's clock stay.
    pub fn forget_user_data(&mut self) -> Result<()> {
        let tx = self.conn.transaction()?;
        // Every table, so one added later is not forgotten; foreign keys are checked at commit.
        tx.execute_batch("PRAGMA defer_foreign_keys = ON")?;
        let tables: Vec<String> = tx
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> 'settings'")?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for table in tables {
            tx.execute(&format!("DELETE FROM \"{table}\""), [])?;
        }
        // Indexes a first sync left to build are still to be built (by its end, or the next open).
        tx.execute("DELETE FROM settings WHERE key NOT IN ('locale', 'hlc.node', 'hlc.last', ?1)", [DEFERRED_INDEXES])?;
        tx.commit()?;
        // A pull still running writes its next pages with SQLite's own checks.
        self.first_pull = None;
        Ok(())
    }

    /// The highest outbox number ever given (0 before the first write).
    pub fn last_outbox_seq(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'", [], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    /// Applies one pulled page and saves the cursor after it, in one transaction.
    ///
    /// A work order that still has unsent changes here keeps them: the server's version is
    /// stored and the pending steps are replayed on top when they are still allowed (the push
    /// will settle them). A removal of such a work order is held back until its changes are
    /// sent; they will come back refused and show as conflicts.
    pub fn apply_pulled(
        &mut self,
        reference: &ImportBatch,
        changes: &[PulledChange],
        cursor: u64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        self.apply_pulled_prepared(reference, changes, &PreparedBodies::default(), cursor, now)
    }

    /// [`Store::apply_pulled`], with the stored bodies of the page's work orders and answers
    /// made beforehand by [`PreparedBodies::of`] the same `changes`, on another thread.
    pub fn apply_pulled_prepared(
        &mut self,
        reference: &ImportBatch,
        changes: &[PulledChange],
        bodies: &PreparedBodies,
        cursor: u64,
        now: DateTime<Utc>,
    ) -> Result<()> {
        // On a first sync nothing waits to be sent: one look per page instead of one per work
        // order. (Nothing else writes between here and the page's transaction: `&mut self`.)
        let any_pending: bool = self.conn.query_row("SELECT EXISTS (SELECT 1 FROM outbox)", [], |r| r.get(0))?;
        // In a first sync, a page of new work orders and their answers has its references
        // checked by the store instead of SQLite (see `FirstPull`).
        let self_checked = self.first_pull.is_some() && !any_pending && FirstPull::can_check(reference, changes);
        if !self_checked {
            // A work order this page removes is no longer one earlier pages wrote.
            if let Some(first_pull) = &mut self.first_pull {
                for change in changes {
                    if let PulledChange::Removed(id) = change {
                        first_pull.work_orders.remove(id);
                    }
                }
            }
            return self.apply_pulled_in(Page { reference, changes, bodies }, cursor, now, any_pending, None);
        }
        let mut first_pull = self.first_pull.take().expect("checked above");
        self.conn.pragma_update(None, "foreign_keys", false)?;
        let applied =
            self.apply_pulled_in(Page { reference, changes, bodies }, cursor, now, false, Some(&mut first_pull));
        // Back on whatever happened; a failure to turn them back on is the one reported.
        let restored = self.conn.pragma_update(None, "foreign_keys", true);
        self.first_pull = Some(first_pull);
        restored?;
        applied
    }

    fn apply_pulled_in(
        &mut self,
        page: Page<'_>,
        cursor: u64,
        now: DateTime<Utc>,
        any_pending: bool,
        first_pull: Option<&mut FirstPull>,
    ) -> Result<()> {
        let Page { reference, changes, bodies } = page;
        let tx = self.conn.transaction()?;
        // What the page's work orders refer to, before them.
        crate::reference::import_in(&tx, reference)?;
        let written = match &first_pull {
            Some(first_pull) => Some(first_pull.check(&tx, reference, changes)?),
            None => None,
        };
        let known = SearchNames::of(reference);
        // Nor is anything held back, usually: one look per page.
        let mut any_held: bool = tx.query_row("SELECT EXISTS (SELECT 1 FROM held_removals)", [], |r| r.get(0))?;
        let mut statements = BulkStatements::new(&tx)?;
        for (at, change) in changes.iter().enumerate() {
            // A body made for another change is not used: this one's is made here instead.
            let body = bodies.get(at, change);
            match change {
                PulledChange::WorkOrder(work_order) => {
                    let steps = if any_pending { pending_steps(&tx, work_order.id)? } else { Vec::new() };
                    if steps.is_empty() {
                        statements.put_work_order(&tx, work_order, &known, body)?;
                    } else {
                        let mut merged = (**work_order).clone();
                        for step in steps {
                            // A step the server's state no longer allows is left to the push,
                            // whose refusal becomes a conflict.
                            match step {
                                PendingStep::Status(action, at) => {
                                    let mut next = merged.clone();
                                    if next.take_step(action, at).is_ok() {
                                        merged = next;
                                    }
                                }
                                PendingStep::Dispatch(step) => {
                                    if let Some(next) = crate::dispatch::replay(&tx, &merged, &step)? {
                                        merged = next;
                                    }
                                }
                            }
                        }
                        statements.put_work_order(&tx, &merged, &known, None)?;
                    }
                    if any_held {
                        tx.prepare_cached("DELETE FROM held_removals WHERE work_order_id = ?1")?
                            .execute([work_order.id.to_string()])?;
                    }
                }
                PulledChange::Record(record) => {
                    match record {
                        PulledRecord::InspectionResult(r) => statements.insert_result(r, body)?,
                        PulledRecord::FaultRecord(r) => insert_fault(&tx, r)?,
                        PulledRecord::PartUsage(r) => insert_part(&tx, r)?,
                        PulledRecord::Photo(r) => insert_photo(&tx, r)?,
                        PulledRecord::Note(r) => insert_note(&tx, r)?,
                        PulledRecord::SignOff(r) => insert_sign_off(&tx, r)?,
                        PulledRecord::CorrectiveRequest(r) => insert_corrective_request(&tx, r)?,
                        PulledRecord::Report(r) => usize::from(crate::evidence::keep_signed_report_in(&tx, r)?),
                    };
                }
                PulledChange::Removed(id) => {
                    if any_pending && has_pending(&tx, *id)? {
                        tx.execute(
                            "INSERT OR IGNORE INTO held_removals (work_order_id) VALUES (?1)",
                            [id.to_string()],
                        )?;
                        any_held = true;
                    } else {
                        remove_work_order(&tx, *id)?;
                    }
                }
            }
        }
        drop(statements);
        // Later local answers must stamp later than any answer seen here: the clock follows
        // the page's latest stamp, once per page.
        let latest = changes
            .iter()
            .filter_map(|c| match c {
                PulledChange::Record(PulledRecord::InspectionResult(r)) => Some(r.hlc),
                _ => None,
            })
            .max();
        if let Some(remote) = latest {
            let (node, last) = crate::writes::clock_state(&tx)?;
            let seen = Hlc::observe(last, remote, millis(now), node);
            if Some(seen) != last {
                crate::set_setting_in(&tx, "hlc.last", &seen.to_string())?;
            }
        }
        crate::set_setting_in(&tx, "sync.cursor", &cursor.to_string())?;
        tx.commit()?;
        if let (Some(first_pull), Some(written)) = (first_pull, written) {
            first_pull.work_orders.extend(written);
        }
        Ok(())
    }

    /// Prepares this connection for a pull of many pages (or returns it to normal).
    ///
    /// - A larger page cache: the work orders' indexes are written all over, and with
    ///   SQLite's default 2 MB cache each page of changes reads them again from the file.
    /// - Into an empty store (a first sync), the secondary indexes of the work orders and
    ///   their results are dropped and built once at the end, one sort each, instead of
    ///   updated row by row. Their definitions are kept in the settings in the same
    ///   transaction as the drop, and every open rebuilds indexes left dropped by a crash.
    /// - No checkpoints while the pages arrive: each would copy the write-ahead log into the
    ///   database file and sync it while the next page waits (about a sixth of a first
    ///   sync's writing time). At the end the pages are copied on a thread of their own, with
    ///   its own connection (see [`checkpoint_in_background`]), so the sync does not wait for
    ///   it; readers find them in the log meanwhile.
    ///
    /// Durability is unchanged: every page still commits with `synchronous=FULL`, and a page
    /// in the log is as safe as one in the database file.
    pub fn set_bulk_pull(&mut self, bulk: bool) -> Result<()> {
        if bulk {
            self.conn.pragma_update(None, "cache_size", -65536)?;
            self.conn.pragma_update(None, "wal_autocheckpoint", 0)?;
            let empty: bool = self.conn.query_row("SELECT NOT EXISTS (SELECT 1 FROM work_orders)", [], |r| r.get(0))?;
            if empty {
                defer_indexes(&mut self.conn)?;
                self.first_pull = Some(FirstPull::default());
            }
        } else {
            self.first_pull = None;
            // Built while the pull's pages are still in the cache.
            let restored = restore_deferred_indexes(&mut self.conn);
            self.conn.pragma_update(None, "cache_size", -2000)?;
            self.conn.pragma_update(None, "wal_autocheckpoint", WAL_AUTOCHECKPOINT)?;
            restored?;
            if let Some(path) = self.conn.path().filter(|p| !p.is_empty()) {
                if let Some(previous) = self.checkpoint.take() {
                    let _ = previous.join();
                }
                self.checkpoint = checkpoint_in_background(path.into());
            }
        }
        Ok(())
    }

    /// The pull cursor saved with the last applied page.
    pub fn pull_cursor(&self) -> Result<u64> {
        Ok(self.setting("sync.cursor")?.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Starts the next pull from the beginning of the user's changes, when the server's stream
    /// ends before the saved cursor. Every pulled change is an upsert or a record already kept,
    /// so pulling again loses nothing and doubles nothing.
    pub fn reset_pull_cursor(&mut self) -> Result<()> {
        self.set_setting("sync.cursor", "0")
    }
}

/// The stored bodies of a pulled page's work orders and checklist answers, one for each of
/// its changes that has one. A body depends on its change alone, so a sync makes them on the
/// thread that read the page while the store writes the page before; serialising them was
/// about an eighth of writing a first sync. [`Store::apply_pulled_prepared`] writes them as
/// the store would have made them.
#[derive(Debug, Default)]
pub struct PreparedBodies(Vec<Option<(Prepared, String)>>);

/// Whose body a prepared body is.
#[derive(Debug, PartialEq)]
enum Prepared {
    WorkOrder(WorkOrderId),
    Result(fieldbook_domain::ResultId),
}

impl PreparedBodies {
    pub fn of(changes: &[PulledChange]) -> PreparedBodies {
        PreparedBodies(changes.iter().map(|change| Some((Self::key(change)?, Self::make(change)?))).collect())
    }

    fn key(change: &PulledChange) -> Option<Prepared> {
        match change {
            PulledChange::WorkOrder(w) => Some(Prepared::WorkOrder(w.id)),
            PulledChange::Record(PulledRecord::InspectionResult(r)) => Some(Prepared::Result(r.id)),
            _ => None,
        }
    }

    fn make(change: &PulledChange) -> Option<String> {
        match change {
            PulledChange::WorkOrder(w) => Some(crate::reference::work_order_body(w)),
            PulledChange::Record(PulledRecord::InspectionResult(r)) => Some(crate::reference::result_body(r)),
            _ => None,
        }
    }

    /// The body made for the change at `at`, if it was made for that very change.
    fn get(&self, at: usize, change: &PulledChange) -> Option<&str> {
        let (key, body) = self.0.get(at)?.as_ref()?;
        (Some(key) == Self::key(change).as_ref()).then_some(body.as_str())
    }
}

/// A pulled page as the store writes it: what its work orders refer to, its changes, and any
/// of their bodies made beforehand.
struct Page<'a> {
    reference: &'a ImportBatch,
    changes: &'a [PulledChange],
    bodies: &'a PreparedBodies,
}

/// A first sync into an empty store writes tens of thousands of work orders and checklist
/// answers, and SQLite checks each of their references with an index lookup: about a seventh
/// of writing the pages. A page of only those (new answers, superseding none) and what they
/// refer to, with nothing waiting to be sent, has its references checked here instead, in
/// memory, against the page itself, the work orders earlier pages of this pull wrote, and the
/// store, before anything of it is written; SQLite's own checks are off for that page only.
/// A reference to nothing fails the page as SQLite's check would, and the page changes nothing.
#[derive(Default)]
pub(crate) struct FirstPull {
    /// Work orders written by the committed pages of this pull.
    work_orders: std::collections::HashSet<WorkOrderId>,
}

impl FirstPull {
    /// Whether every row the page writes is one [`FirstPull::check`] knows the references of.
    fn can_check(reference: &ImportBatch, changes: &[PulledChange]) -> bool {
        let ImportBatch { work_orders, results, faults, parts, blobs, photos, sign_offs, notes, parts_catalog, .. } =
            reference;
        work_orders.is_empty()
            && results.is_empty()
            && faults.is_empty()
            && parts.is_empty()
            && blobs.is_empty()
            && photos.is_empty()
            && sign_offs.is_empty()
            && notes.is_empty()
            && parts_catalog.is_empty()
            && changes.iter().all(|change| match change {
                PulledChange::WorkOrder(_) => true,
                PulledChange::Record(PulledRecord::InspectionResult(r)) => r.supersedes.is_none(),
                _ => false,
            })
    }

    /// Checks every reference of the page's rows (as the schema's `REFERENCES` would),
    /// returning the work orders it writes.
    fn check(
        &self,
        tx: &rusqlite::Transaction<'_>,
        reference: &ImportBatch,
        changes: &[PulledChange],
    ) -> Result<std::collections::HashSet<WorkOrderId>> {
        use std::collections::HashSet;
        fn ids<T, I: std::hash::Hash + Eq>(rows: &[T], id: impl Fn(&T) -> I) -> HashSet<I> {
            rows.iter().map(id).collect()
        }
        let policies = ids(&reference.policies, |p| p.id);
        let customers = ids(&reference.customers, |c| c.id);
        let sites = ids(&reference.sites, |s| s.id);
        let assets = ids(&reference.assets, |a| a.id);
        let templates = ids(&reference.templates, |t| t.id);
        let users = ids(&reference.users, |u| u.id);
        let mut work_orders = HashSet::new();
        // In the page, else in the store.
        let known = |in_page: bool, table: &str, id: &dyn std::fmt::Display| -> Result<()> {
            if in_page {
                return Ok(());
            }
            let sql = format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE id = ?1)");
            let id = id.to_string();
            if tx.prepare_cached(&sql)?.query_row([&id], |r| r.get(0))? {
                Ok(())
            } else {
                Err(crate::StoreError::Corrupt(format!(
                    "the server sent a reference to {table} {id}, which is not here"
                )))
            }
        };
        for c in &reference.customers {
            known(policies.contains(&c.policy_id), "policies", &c.policy_id)?;
        }
        for s in &reference.sites {
            known(customers.contains(&s.customer_id), "customers", &s.customer_id)?;
        }
        for a in &reference.assets {
            known(sites.contains(&a.site_id), "sites", &a.site_id)?;
        }
        for change in changes {
            match change {
                PulledChange::WorkOrder(w) => {
                    known(customers.contains(&w.customer_id), "customers", &w.customer_id)?;
                    known(sites.contains(&w.site_id), "sites", &w.site_id)?;
                    if let Some(id) = &w.asset_id {
                        known(assets.contains(id), "assets", id)?;
                    }
                    if let Some(id) = &w.assignee {
                        known(users.contains(id), "users", id)?;
                    }
                    if let Some(id) = &w.template_id {
                        known(templates.contains(id), "templates", id)?;
                    }
                    work_orders.insert(w.id);
                }
                PulledChange::Record(PulledRecord::InspectionResult(r)) => {
                    let id = &r.work_order_id;
                    known(work_orders.contains(id) || self.work_orders.contains(id), "work_orders", id)?;
                }
                _ => unreachable!("FirstPull::can_check lets through only work orders and answers"),
            }
        }
        Ok(work_orders)
    }
}

/// A change of this work order still waiting in the outbox, to replay over the server's version.
enum PendingStep {
    Status(fieldbook_domain::StatusAction, DateTime<Utc>),
    Dispatch(fieldbook_domain::Dispatch),
}

fn pending_steps(tx: &rusqlite::Transaction<'_>, id: WorkOrderId) -> Result<Vec<PendingStep>> {
    let mut statement = tx.prepare_cached(
        "SELECT op, payload FROM outbox
         WHERE entity = 'work_order' AND op IN ('status', 'dispatch') AND entity_id = ?1 ORDER BY seq",
    )?;
    let rows = statement
        .query_map([id.to_string()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    rows.iter()
        .map(|(op, payload)| {
            Ok(if op == "dispatch" {
                PendingStep::Dispatch(crate::dispatch::pending_dispatch(payload)?)
            } else {
                let change = crate::codec::from_json::<crate::writes::StatusChange>(payload)?;
                PendingStep::Status(change.action, change.at)
            })
        })
        .collect()
}

/// A record the server refused leaves the visit: it lives on, whole, in the conflicts list, and
/// the visit shows what the server holds. (A refused status step is put right by the work
/// order the server sends back with its refusal.) An answer that a later local correction
/// names stays, so the correction keeps its reference.
fn withdraw_refused_record(tx: &rusqlite::Transaction<'_>, seq: i64) -> Result<()> {
    let (entity, entity_id, payload): (String, String, String) =
        tx.query_row("SELECT entity, entity_id, payload FROM outbox WHERE seq = ?1", [seq], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    match entity.as_str() {
        "inspection_result" => {
            tx.execute(
                "DELETE FROM inspection_results WHERE id = ?1
                 AND NOT EXISTS (SELECT 1 FROM inspection_results WHERE supersedes = ?1)",
                [&entity_id],
            )?;
        }
        "fault_record" | "part_usage" => {
            let table = if entity == "fault_record" { "fault_records" } else { "part_usages" };
            tx.execute(
                &format!(
                    "DELETE FROM {table} WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM {table} WHERE supersedes = ?1)"
                ),
                [&entity_id],
            )?;
        }
        "note" => {
            tx.execute("DELETE FROM notes WHERE id = ?1", [&entity_id])?;
        }
        "corrective_request" => {
            tx.execute("DELETE FROM corrective_requests WHERE id = ?1", [&entity_id])?;
        }
        "sign_off" => {
            tx.execute("DELETE FROM sign_offs WHERE id = ?1", [&entity_id])?;
        }
        // A work order this device recorded and the server refused leaves the device (the call
        // lives on in the conflicts list); a refused step on an existing one is put right by
        // the work order the server sends back.
        "work_order" => {
            if let Ok(step) = crate::dispatch::pending_dispatch(&payload)
                && matches!(step.action, fieldbook_domain::DispatchAction::Create(_))
            {
                remove_work_order(tx, step.work_order_id)?;
            }
        }
        // A refused signed report stays on the device: it is what was signed here, and the
        // conflict (with the server's reason) is shown beside it.
        "report" => {}
        "photo" => {
            let photo: fieldbook_domain::Photo = crate::codec::from_json(&payload)?;
            tx.execute(
                "DELETE FROM photos WHERE work_order_id = ?1 AND blob_id = ?2 AND item_key = ?3",
                params![photo.work_order_id.to_string(), photo.blob.as_str(), photo.item_key.unwrap_or_default()],
            )?;
        }
        _ => {}
    }
    Ok(())
}

/// Whether unsent changes of this work order wait in the outbox.
fn has_pending(tx: &rusqlite::Transaction<'_>, id: WorkOrderId) -> Result<bool> {
    Ok(tx.query_row("SELECT EXISTS (SELECT 1 FROM outbox WHERE work_order_id = ?1)", params![id.to_string()], |r| {
        r.get(0)
    })?)
}

fn remove_work_order(tx: &rusqlite::Transaction<'_>, id: WorkOrderId) -> Result<()> {
    let id = id.to_string();
    for table in [
        "inspection_results",
        "fault_records",
        "part_usages",
        "photos",
        "sign_offs",
        "notes",
        "corrective_requests",
        "signed_reports",
    ] {
        tx.execute(&format!("DELETE FROM {table} WHERE work_order_id = ?1"), [&id])?;
    }
    tx.execute("DELETE FROM work_orders WHERE id = ?1", [&id])?;
    Ok(())
}

const DEFERRED_INDEXES: &str = "sync.deferred_indexes";

/// Drops the secondary indexes of the bulk tables, keeping their SQL in the settings.
fn defer_indexes(conn: &mut rusqlite::Connection) -> Result<()> {
    let tx = conn.transaction()?;
    let indexes: Vec<(String, String)> = tx
        .prepare(
            "SELECT name, sql FROM sqlite_master
              WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('work_orders', 'inspection_results')",
        )?
        .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    if indexes.is_empty() {
        return Ok(());
    }
    let sql: Vec<&str> = indexes.iter().map(|(_, sql)| sql.as_str()).collect();
    crate::set_setting_in(&tx, DEFERRED_INDEXES, &serde_json::to_string(&sql).expect("strings serialise"))?;
    for (name, _) in &indexes {
        tx.execute_batch(&format!("DROP INDEX \"{name}\""))?;
    }
    tx.commit()?;
    Ok(())
}

/// SQLite's default: a checkpoint once the log holds this many pages.
const WAL_AUTOCHECKPOINT: i64 = 1000;

/// Copies the write-ahead log into the database file on a thread of its own, with its own
/// connection. A passive checkpoint never blocks the store's writer or its readers; if the
/// store's connection checkpoints meanwhile, one of them finds the other at work and leaves
/// it. A failure costs nothing (the pages stay in the log, safe, for the next checkpoint).
/// The log file keeps its size until the next writer starts it over and trims it to
/// `journal_size_limit` (see [`crate::PRAGMAS`]).
fn checkpoint_in_background(path: std::path::PathBuf) -> Option<std::thread::JoinHandle<()>> {
    let spawned = std::thread::Builder::new().name("fieldbook-checkpoint".into()).spawn(move || {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_WRITE | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let Ok(conn) = rusqlite::Connection::open_with_flags(&path, flags) else { return };
        // FULL: the log is synced to disk before it is copied, and the file after.
        let _ = conn.pragma_update(None, "synchronous", "FULL");
        let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
    });
    // Without a thread the next commit's own checkpoint copies the pages instead.
    spawned.ok()
}

/// Builds the indexes [`defer_indexes`] dropped, if any (also after a crash mid-pull: see
/// `Store::open`).
pub(crate) fn restore_deferred_indexes(conn: &mut rusqlite::Connection) -> Result<()> {
    let has_settings: bool =
        conn.query_row("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE name = 'settings')", [], |r| r.get(0))?;
    if !has_settings {
        return Ok(());
    }
    let Some(kept) = crate::setting_in(conn, DEFERRED_INDEXES)? else { return Ok(()) };
    let sql: Vec<String> = serde_json::from_str(&kept)
        .map_err(|e| crate::StoreError::Corrupt(format!("the deferred indexes setting is not a list: {e}")))?;
    let tx = conn.transaction()?;
    for statement in &sql {
        tx.execute_batch(statement)?;
    }
    tx.execute("DELETE FROM settings WHERE key = ?1", [DEFERRED_INDEXES])?;
    tx.commit()?;
    Ok(())
}
