//! The pull half of a sync session: the pages the server streams, each turned into the store's
//! terms on the task that reads the stream and applied with its cursor in one transaction, so a
//! stream cut anywhere loses nothing and the next pull starts from the saved cursor.

use std::sync::Mutex;

use chrono::{DateTime, Utc};
use fieldbook_protocol::PullResponse;
use fieldbook_store::{PreparedBodies, PulledChange, Store};

use crate::client::Prefetch;
use crate::{FIRST_PULL_PAGE, PULL_PAGE, SyncClient, SyncError, SyncProgress, SyncReport, lock, plan};

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

/// The pull half of a sync session: pages applied in order, each with its cursor in one
/// transaction; on any failure the page in flight is dropped and the next session starts from
/// the last saved cursor.
pub(crate) struct Pull<'a> {
    pub(crate) store: &'a Mutex<Store>,
    pub(crate) now: DateTime<Utc>,
    pub(crate) progress: &'a (dyn Fn(SyncProgress) + Sync),
    pub(crate) report: &'a mut SyncReport,
    /// Set once a page says more follow: see `Store::set_bulk_pull`.
    pub(crate) bulk: bool,
}

impl Pull<'_> {
    /// Every change after the saved cursor, streamed (or page by page from a server without
    /// streams). The server reads, sends and the device parses the next pages while this one
    /// is written.
    pub(crate) async fn all(&mut self, client: &SyncClient) -> Result<(), SyncError> {
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
