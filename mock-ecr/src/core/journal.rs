//! The journal buffer: rows wait in memory and are written many per transaction.
//!
//! Every request is journaled, and one transaction per row made the journal the largest cost of
//! a read-only ECR API call. Rows now collect in a buffer that a background thread writes
//! [`GATHER_TIME`] after the first of them arrives, or that the request filling the buffer to
//! [`MAX_PENDING_ROWS`] writes itself. Rows keep the order in which [`JournalBuffer::append`]
//! was called. Readers call [`JournalBuffer::flush`] first, so a request journaled before a
//! read is always part of what the read returns.
//!
//! A server killed with SIGKILL loses the rows of its last [`GATHER_TIME`]; the images, tags
//! and blobs those requests stored are committed before the client gets its response.

use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::error::CoreError;
use crate::store::Database;
use crate::store::db::{self, JournalRow};

/// How long the background writer waits after the first row before writing: short enough for
/// people reading the journal database directly, long enough to gather a busy second's rows
/// into a few transactions.
pub const GATHER_TIME: Duration = Duration::from_millis(25);

/// The maximum number of rows held in memory. The request that adds the last one writes them
/// all.
const MAX_PENDING_ROWS: usize = 512;

#[derive(Default)]
struct Shared {
    pending: Mutex<Pending>,
    /// Signalled when the first row arrives in an empty buffer, and on shutdown.
    wake: Condvar,
    /// Held while a batch is taken and written, so batches reach the database in order.
    writing: Mutex<WriteState>,
}

#[derive(Default)]
struct Pending {
    rows: Vec<JournalRow>,
    stopping: bool,
}

#[derive(Default)]
struct WriteState {
    /// Rows lost since the data folder last took a write.
    lost: u64,
}

/// The buffer and its background writer; dropping it writes what is left.
pub(super) struct JournalBuffer {
    database: Arc<Database>,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl JournalBuffer {
    pub(super) fn start(database: Arc<Database>) -> Self {
        let shared = Arc::new(Shared::default());
        let thread = {
            let database = database.clone();
            let shared = shared.clone();
            // The writer logs where the code that started the registry logs, which is not
            // always the global subscriber (tests capture logs per thread).
            let dispatch = tracing::dispatcher::get_default(Clone::clone);
            std::thread::Builder::new()
                .name("mock-ecr-journal".to_owned())
                .spawn(move || {
                    tracing::dispatcher::with_default(&dispatch, || {
                        write_in_background(&database, &shared);
                    });
                })
        };
        let thread = match thread {
            Ok(thread) => Some(thread),
            Err(error) => {
                // Rows are still written: by the request that fills the buffer and by readers.
                tracing::warn!(%error, "cannot start the journal writer thread; the journal is written by requests");
                None
            }
        };
        Self {
            database,
            shared,
            thread,
        }
    }

    /// Adds a row. It is in the database within [`GATHER_TIME`], or once a later
    /// [`flush`](Self::flush) returns.
    pub(super) fn append(&self, row: JournalRow) {
        let mut pending = lock(&self.shared.pending);
        pending.rows.push(row);
        if pending.rows.len() == 1 {
            self.shared.wake.notify_one();
        }
        let full = pending.rows.len() >= MAX_PENDING_ROWS;
        drop(pending);
        if full {
            write_pending(&self.database, &self.shared);
        }
    }

    /// Writes every row appended so far.
    pub(super) fn flush(&self) {
        write_pending(&self.database, &self.shared);
    }
}

impl Drop for JournalBuffer {
    fn drop(&mut self) {
        lock(&self.shared.pending).stopping = true;
        self.shared.wake.notify_one();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        write_pending(&self.database, &self.shared);
    }
}

/// Locks a mutex whose data stays valid after a panic elsewhere: at worst a batch of rows is
/// lost, which the next write reports.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn write_in_background(database: &Database, shared: &Shared) {
    loop {
        let mut pending = lock(&shared.pending);
        while pending.rows.is_empty() && !pending.stopping {
            pending = shared
                .wake
                .wait(pending)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        if pending.stopping {
            return;
        }
        drop(pending);
        std::thread::sleep(GATHER_TIME);
        write_pending(database, shared);
    }
}

fn write_pending(database: &Database, shared: &Shared) {
    let mut state = lock(&shared.writing);
    let rows = std::mem::take(&mut lock(&shared.pending).rows);
    if rows.is_empty() {
        return;
    }
    let written = database.transaction(|tx| {
        for row in &rows {
            db::append_journal(tx, row)?;
        }
        Ok(())
    });
    state.lost = report(written, &rows, state.lost);
}

/// Logs the outcome of one write and returns how many rows have been lost since the data
/// folder last took a write.
fn report(written: Result<(), CoreError>, rows: &[JournalRow], lost: u64) -> u64 {
    let action = rows.first().map_or("", |row| row.action.as_str());
    match written {
        Ok(()) => {
            if lost > 0 {
                tracing::info!(
                    lost,
                    "the journal records entries again; entries of requests made while the data folder could not be written were lost"
                );
            }
            0
        }
        // While the disk is full or read-only every write fails, and the request itself logs
        // the fault, so one warning per outage is enough.
        Err(error @ CoreError::StorageFault { .. }) => {
            if lost == 0 {
                tracing::warn!(%error, action, "failed to append to the journal; entries are lost until the data folder can be written again");
            }
            lost + rows.len() as u64
        }
        Err(error) => {
            tracing::error!(%error, action, rows = rows.len(), "failed to append to the journal");
            lost
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(action: String) -> JournalRow {
        JournalRow {
            seq: 0,
            time: "2026-12-04T00:00:00Z".to_owned(),
            account: "123456789012".to_owned(),
            region: "us-east-1".to_owned(),
            source: "ecr-api".to_owned(),
            action,
            repository: None,
            reference: None,
            digest: None,
            host: None,
            user_agent: None,
            outcome: "ok".to_owned(),
            error_code: None,
            message: None,
        }
    }

    fn stored_actions(database: &Database) -> Vec<String> {
        database
            .transaction(|tx| db::journal_after(tx, 0, 10_000))
            .unwrap()
            .into_iter()
            .map(|row| row.action)
            .collect()
    }

    #[test]
    fn concurrent_rows_written_in_order() {
        let folder = tempfile::tempdir().unwrap();
        let database = Arc::new(Database::open(&folder.path().join("db.sqlite3")).unwrap());
        let buffer = Arc::new(JournalBuffer::start(database.clone()));
        // More rows than MAX_PENDING_ROWS, so appends also write batches themselves.
        let threads: Vec<_> = (0..4)
            .map(|thread| {
                let buffer = buffer.clone();
                std::thread::spawn(move || {
                    for index in 0..300 {
                        buffer.append(row(format!("{thread}:{index:03}")));
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        buffer.flush();
        let actions = stored_actions(&database);
        assert_eq!(actions.len(), 1200);
        for thread in 0..4 {
            let prefix = format!("{thread}:");
            let own: Vec<&String> = actions.iter().filter(|a| a.starts_with(&prefix)).collect();
            let expected: Vec<String> = (0..300).map(|i| format!("{thread}:{i:03}")).collect();
            assert_eq!(own.len(), 300, "thread {thread}");
            assert!(
                own.iter().zip(&expected).all(|(got, want)| *got == want),
                "thread {thread}'s rows are out of order"
            );
        }
    }

    #[test]
    fn rows_written_unflushed_and_on_drop() {
        let folder = tempfile::tempdir().unwrap();
        let database = Arc::new(Database::open(&folder.path().join("db.sqlite3")).unwrap());
        let buffer = JournalBuffer::start(database.clone());
        buffer.append(row("first".to_owned()));
        let deadline = std::time::Instant::now() + GATHER_TIME * 40;
        while stored_actions(&database).is_empty() {
            assert!(
                std::time::Instant::now() < deadline,
                "the background writer did not write the row"
            );
            std::thread::sleep(GATHER_TIME / 5);
        }
        buffer.append(row("second".to_owned()));
        drop(buffer);
        assert_eq!(stored_actions(&database), ["first", "second"]);
    }
}
