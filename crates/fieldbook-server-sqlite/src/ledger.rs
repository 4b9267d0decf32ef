//! The report ledger: signed visit reports, insert-only (triggers refuse any UPDATE or
//! DELETE), each entry chained to the one before it by hash.

use chrono::{DateTime, Utc};
use fieldbook_domain::evidence::{ReportDocument, SignedReport, Verdict, verify};
use fieldbook_domain::{BlobId, WorkOrderId};
use fieldbook_protocol::{LedgerEntry, Outcome, ReportCheck, UserInfo};
use fieldbook_server_db::rules::{self, ReportContext, StoredRecord};
use fieldbook_server_db::{DbError, DbResult, LedgerCheck};
use rusqlite::{Connection, OptionalExtension, params};

use crate::codec::{SqlResult, from_json, from_millis, int, millis, parse, uint};

const ENTRY_SELECT: &str = "SELECT seq, hash, previous, chain, work_order_id, work_order_number, visit_version,
           device_id, technician_id, signed_at, received_at, document, signature, public_key
    FROM report_ledger";

type EntryRow =
    (i64, String, Option<String>, String, String, String, i64, String, String, i64, i64, String, String, String);

fn entry_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<EntryRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
        row.get(9)?,
        row.get(10)?,
        row.get(11)?,
        row.get(12)?,
        row.get(13)?,
    ))
}

fn read_entry(row: EntryRow) -> DbResult<(LedgerEntry, SignedReport, String)> {
    let (seq, hash, previous, chain, wo, number, version, device_id, technician, signed_at, received_at, doc, sig, key) =
        row;
    let document: ReportDocument = from_json(&doc)?;
    let entry = LedgerEntry {
        seq: uint(seq)?,
        hash: hash.clone(),
        previous,
        chain,
        work_order_id: parse(&wo)?,
        work_order_number: number,
        visit_version: u32::try_from(version).map_err(|_| DbError::Backend(format!("visit version {version}")))?,
        device_id,
        technician_id: parse(&technician)?,
        signed_at: from_millis(signed_at)?,
        received_at: from_millis(received_at)?,
    };
    Ok((entry, SignedReport { document, hash, signature: sig, public_key: key }, doc))
}

fn blob(conn: &Connection, id: &BlobId) -> Option<Vec<u8>> {
    conn.prepare_cached("SELECT bytes FROM blobs WHERE id = ?1")
        .ok()?
        .query_row([id.as_str()], |row| row.get(0))
        .optional()
        .ok()
        .flatten()
}

fn head_of(conn: &Connection, work_order: WorkOrderId) -> DbResult<Option<String>> {
    conn.prepare_cached("SELECT hash FROM report_ledger WHERE work_order_id = ?1 ORDER BY seq DESC LIMIT 1")
        .db()?
        .query_row([work_order.to_string()], |row| row.get(0))
        .optional()
        .db()
}

/// Checks a pushed report with [`rules::check_report`] and appends it. `Ok(Ok(false))`: the
/// ledger already holds it (a retried push); `Ok(Err(_))`: refused, nothing stored.
pub(crate) fn append(
    conn: &Connection,
    user: &UserInfo,
    device_id: &str,
    report: &SignedReport,
    at: DateTime<Utc>,
) -> DbResult<Result<bool, Outcome>> {
    let held: Option<i64> = conn
        .prepare_cached("SELECT 1 FROM report_ledger WHERE hash = ?1")
        .db()?
        .query_row([&report.hash], |row| row.get(0))
        .optional()
        .db()?;
    if held.is_some() {
        return Ok(Ok(false));
    }
    let document = &report.document;
    let work_order = document.visit.work_order.id;
    let Some(held_work_order) = crate::work_orders::load(conn, work_order)? else {
        return Ok(Err(Outcome::Rejected {
            code: "not_found".into(),
            message: format!("work order {work_order} does not exist on the server"),
        }));
    };
    let enrolled_key: Option<String> = conn
        .prepare_cached("SELECT public_key FROM devices WHERE id = ?1")
        .db()?
        .query_row([device_id], |row| row.get(0))
        .optional()
        .db()?
        .flatten();
    let sign_off_id = document.visit.sign_off.as_ref().map(|s| s.id.to_string());
    let sign_off_reported = conn
        .prepare_cached("SELECT 1 FROM report_ledger WHERE sign_off_id = ?1")
        .db()?
        .query_row([&sign_off_id], |_| Ok(()))
        .optional()
        .db()?
        .is_some();
    let records = conn
        .prepare_cached("SELECT kind, id, body FROM records WHERE work_order_id = ?1")
        .db()?
        .query_map([work_order.to_string()], |row| {
            Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, String>(2)?))
        })
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?
        .into_iter()
        .map(|(kind, id, body)| Ok(StoredRecord { kind, id, body: from_json(&body)? }))
        .collect::<DbResult<Vec<_>>>()?;
    let head = head_of(conn, work_order)?;
    let context = ReportContext {
        device_id,
        enrolled_key: enrolled_key.as_deref(),
        work_order: &held_work_order,
        records: &records,
        sign_off_reported,
        ledger_head: head.as_deref(),
    };
    if let Err(refused) = rules::check_report(user, report, &context, |id| blob(conn, id)) {
        return Ok(Err(refused));
    }
    let last: Option<(i64, String)> = conn
        .prepare_cached("SELECT seq, chain FROM report_ledger ORDER BY seq DESC LIMIT 1")
        .db()?
        .query_row([], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .db()?;
    let seq = last.as_ref().map_or(1, |(seq, _)| seq + 1);
    let chain = rules::chain_hash(last.as_ref().map(|(_, chain)| chain.as_str()), &report.hash);
    conn.prepare_cached(
        "INSERT INTO report_ledger (seq, hash, previous, chain, work_order_id, work_order_number, visit_version,
             device_id, technician_id, signed_at, received_at, document, signature, public_key, sign_off_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
    )
    .db()?
    .execute(params![
        seq,
        report.hash,
        document.previous,
        chain,
        work_order.to_string(),
        held_work_order.number,
        i64::from(held_work_order.visit_version),
        document.device_id,
        document.technician.id.to_string(),
        millis(document.signed_at),
        millis(at),
        String::from_utf8(document.canonical_json()).map_err(|e| DbError::Backend(e.to_string()))?,
        report.signature,
        report.public_key,
        sign_off_id,
    ])
    .db()?;
    Ok(Ok(true))
}

pub(crate) fn reports(conn: &Connection, work_order: WorkOrderId) -> DbResult<Vec<LedgerEntry>> {
    let rows = conn
        .prepare_cached(&format!("{ENTRY_SELECT} WHERE work_order_id = ?1 ORDER BY seq"))
        .db()?
        .query_map([work_order.to_string()], entry_row)
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    rows.into_iter().map(|row| read_entry(row).map(|(entry, _, _)| entry)).collect()
}

/// A hash prefix as typed: at least 8 hex digits, a short code's dash and case ignored.
fn prefix(typed: &str) -> DbResult<String> {
    let prefix: String = typed.trim().chars().filter(|c| *c != '-').collect::<String>().to_ascii_lowercase();
    if prefix.len() < 8 || prefix.len() > 64 || !prefix.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(DbError::Invalid(fieldbook_domain::InvalidInput::MalformedId {
            what: "report hash (at least 8 hex digits, or the short code)",
            value: typed.to_owned(),
        }));
    }
    Ok(prefix)
}

/// The ledger entry whose hash starts with `typed` (see [`prefix`]), without checking it.
pub(crate) fn entry(conn: &Connection, typed: &str) -> DbResult<Option<LedgerEntry>> {
    Ok(find(conn, typed)?.map(|(entry, _, _)| entry))
}

fn find(conn: &Connection, typed: &str) -> DbResult<Option<(LedgerEntry, SignedReport, String)>> {
    let prefix = prefix(typed)?;
    let rows = conn
        .prepare_cached(&format!("{ENTRY_SELECT} WHERE hash >= ?1 AND hash < ?1 || 'g' ORDER BY seq LIMIT 2"))
        .db()?
        .query_map([&prefix], entry_row)
        .db()?
        .collect::<rusqlite::Result<Vec<_>>>()
        .db()?;
    if rows.len() > 1 {
        return Err(DbError::Conflict(format!("more than one report's hash starts with {prefix}; give more digits")));
    }
    rows.into_iter().next().map(read_entry).transpose()
}

pub(crate) fn check(conn: &Connection, typed: &str) -> DbResult<Option<ReportCheck>> {
    let Some((entry, report, stored)) = find(conn, typed)? else { return Ok(None) };
    let device: Option<(Option<String>, Option<i64>)> = conn
        .prepare_cached("SELECT public_key, revoked_at FROM devices WHERE id = ?1")
        .db()?
        .query_row([&entry.device_id], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
        .db()?;
    let revoked = matches!(device, Some((_, Some(_))));
    let mut verdict = verify(&report, |id| blob(conn, id), |_| revoked);
    let mut reasons = Vec::new();
    match &device {
        Some((Some(key), _)) if *key == report.public_key => {}
        Some(_) => reasons.push(format!("the report's key is not the one device {} enrolled with", entry.device_id)),
        None => reasons.push(format!("device {} is not enrolled on this server", entry.device_id)),
    }
    if fieldbook_domain::evidence::sha256_hex(stored.as_bytes()) != entry.hash {
        reasons.push("the stored report does not match its hash".to_owned());
    }
    let d = &report.document;
    if d.device_id != entry.device_id
        || d.technician.id != entry.technician_id
        || d.previous != entry.previous
        || d.visit.work_order.id != entry.work_order_id
        || d.visit.work_order.visit_version != entry.visit_version
    {
        reasons.push("the ledger entry's columns do not match the report it holds".to_owned());
    }
    let before: Option<String> = conn
        .prepare_cached("SELECT chain FROM report_ledger WHERE seq = ?1")
        .db()?
        .query_row([int(entry.seq - 1, "ledger number")?], |row| row.get(0))
        .optional()
        .db()?;
    if entry.seq > 1 && before.is_none() {
        reasons.push(format!("ledger entry {} is missing", entry.seq - 1));
    }
    if rules::chain_hash(before.as_deref(), &entry.hash) != entry.chain {
        reasons.push(format!("ledger entry {} does not follow from the one before it", entry.seq));
    }
    if !reasons.is_empty() {
        verdict = match verdict {
            Verdict::Tampered { reasons: mut earlier } => {
                earlier.extend(reasons);
                Verdict::Tampered { reasons: earlier }
            }
            _ => Verdict::Tampered { reasons },
        };
    }
    Ok(Some(ReportCheck { entry, report, verdict }))
}

pub(crate) fn check_ledger(conn: &Connection) -> DbResult<LedgerCheck> {
    let mut stmt = conn.prepare("SELECT seq, hash, chain, document FROM report_ledger ORDER BY seq").db()?;
    let mut rows = stmt.query([]).db()?;
    let mut previous: Option<String> = None;
    let mut expected_seq = 1u64;
    while let Some(row) = rows.next().db()? {
        let seq = uint(row.get(0).db()?)?;
        let hash: String = row.get(1).db()?;
        let chain: String = row.get(2).db()?;
        let document: String = row.get(3).db()?;
        if seq != expected_seq {
            return Ok(LedgerCheck::Broken { seq: expected_seq, reason: "this entry is missing".into() });
        }
        let computed = fieldbook_domain::evidence::sha256_hex(document.as_bytes());
        if computed != hash {
            return Ok(LedgerCheck::Broken { seq, reason: "the stored report does not match its hash".into() });
        }
        if rules::chain_hash(previous.as_deref(), &hash) != chain {
            return Ok(LedgerCheck::Broken {
                seq,
                reason: "the chain hash does not follow from the entry before".into(),
            });
        }
        previous = Some(chain);
        expected_seq += 1;
    }
    Ok(LedgerCheck::Sound { entries: expected_seq - 1 })
}
