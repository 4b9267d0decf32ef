//! The push half of a sync session: the outbox in order, each batch with the photos and
//! signatures it names sent first, and acknowledged only after the server answered. A refused
//! change becomes the device's conflict; a change is dropped only once an answer that carries
//! its outcome says it is stored.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use fieldbook_protocol::{Outcome, PushResponse};
use fieldbook_store::{Acknowledgement, Store};

use crate::client::{answer, offline};
use crate::{PUSH_BYTES, SyncClient, SyncError, SyncProgress, SyncReport, lock, missing_here, plan};

/// Sends the first waiting changes, at most `max_rows` of them (and [`PUSH_BYTES`] of their
/// payloads, or one larger change alone), and settles the answer. Returns whether anything was
/// waiting; call it until it says no.
///
/// A gap whose `resend_from` is below the first change sent means the server lost changes it
/// had acknowledged (a server restored from a backup): they left this device when they were
/// acknowledged and cannot be sent again, so the device numbers what is still waiting from
/// where the server stands (once a session), and pulls everything again after the push.
pub async fn push_waiting(
    store: &Mutex<Store>,
    client: &SyncClient,
    max_rows: u32,
    now: DateTime<Utc>,
    progress: &(dyn Fn(SyncProgress) + Sync),
    report: &mut SyncReport,
) -> Result<bool, SyncError> {
    let seq_base: i64 = lock(store).setting("sync.seq_base")?.and_then(|v| v.parse().ok()).unwrap_or(0);
    let mut entries = lock(store).outbox(max_rows)?;
    let mut bytes = 0;
    let fits = entries
        .iter()
        .take_while(|e| {
            bytes += e.payload.len();
            bytes <= PUSH_BYTES
        })
        .count();
    entries.truncate(fits.max(1));
    let Some(last) = entries.last().map(|e| e.seq) else { return Ok(false) };
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
                let mut store = lock(store);
                let seq_base = entries[0].seq - resend_from as i64;
                store.set_setting("sync.seq_base", &seq_base.to_string())?;
                store.unmark_sent(last, now)?;
                store.reset_pull_cursor()?;
                report.renumbered = true;
                report.pulled_again = true;
                return Ok(true);
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
    Ok(true)
}
