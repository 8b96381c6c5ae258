//! Start-up checks of a data folder that a previous server may have left mid-write, for
//! example when it was killed with SIGKILL.
//!
//! A push is acknowledged only after its database transaction commits, and a blob file appears
//! only when a complete, verified upload is renamed into place. So a killed process loses no
//! acknowledged push and leaves no partial blob, which `tests/crash_restart.rs` checks. Power
//! loss is not covered. What a killed process can leave behind, and what [`recover`] does with
//! each:
//!
//! - a damaged database file: `PRAGMA quick_check` fails and the server does not start;
//! - an upload file with no `uploads` row: the file is deleted, because no client can reach it;
//! - an `uploads` row with no file, left when the server stopped between inserting the row and
//!   creating the file, or between moving a verified upload into place and deleting the row:
//!   the row is deleted, so the client gets BLOB_UPLOAD_UNKNOWN and starts again;
//! - an upload with both its row and its file: kept, so a client can resume it. The file may
//!   end with part of a chunk the server never acknowledged, so a client resumes from the size
//!   the upload status request (`GET` on the upload URL) reports;
//! - a blob file that no `layers` row names, left when the server stopped between moving an
//!   upload into place and recording the layer: kept. Its content is complete and verified,
//!   no request can read it without a layer row, and the next upload of the same digest replaces
//!   it.

use std::collections::HashSet;
use std::path::Path;

use super::db;
use super::{BlobStore, Database};
use crate::error::CoreError;

/// How many problems `PRAGMA quick_check` reports at most; the first few name the damage.
const MAX_REPORTED_PROBLEMS: u32 = 5;

/// Abandoned uploads that [`recover`] found and removed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Ids of upload files deleted because no `uploads` row names them.
    pub removed_upload_files: Vec<String>,
    /// Ids of `uploads` rows deleted because their file is missing.
    pub removed_upload_rows: Vec<String>,
    /// Number of uploads that have both a row and a file and stay resumable.
    pub resumable_uploads: usize,
}

/// Checks the database at `path` when `check_database_first` is set, and removes abandoned
/// uploads. Call it before the server accepts requests, because it assumes that no request
/// touches the uploads meanwhile.
///
/// The server checks the database only after a run that did not shut down cleanly (see
/// [`crate::server::RUNNING_MARKER`]). `quick_check` reads every page, so it takes most of a
/// second on a database with a million journal rows, and a clean shutdown leaves no damage to
/// find.
pub async fn recover(
    database: &Database,
    blobs: &BlobStore,
    path: &Path,
    check_database_first: bool,
) -> Result<Recovery, CoreError> {
    if check_database_first {
        check_database(database, path)?;
    }
    let recovery = remove_abandoned_uploads(database, blobs).await?;
    log(&recovery);
    Ok(recovery)
}

/// Runs `PRAGMA quick_check` and fails with the problems it reports. It reads every page of the
/// database file like `integrity_check`, but skips the checks that indexes match their tables
/// and that UNIQUE constraints hold, which makes it fast enough to run on every start.
pub fn check_database(database: &Database, path: &Path) -> Result<(), CoreError> {
    let outcome = database.transaction(|tx| {
        let mut statement = tx.prepare(&format!("PRAGMA quick_check({MAX_REPORTED_PROBLEMS})"))?;
        let rows = statement
            .query_map([], |row| row.get::<_, String>(0))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows)
    });
    let problems = match outcome {
        Ok(rows) if rows == ["ok"] => return Ok(()),
        Ok(rows) => rows.join("; "),
        // A check that SQLite cannot finish also means a damaged file.
        Err(error) => error.to_string(),
    };
    Err(damaged(path, &problems))
}

fn damaged(path: &Path, problems: &str) -> CoreError {
    let folder = path.parent().unwrap_or(Path::new("."));
    CoreError::Storage(format!(
        "database {} is damaged (SQLite quick_check: {problems}): restore the data folder {} from \
         a backup, or move it aside and start with an empty data folder; `sqlite3 {} .recover` \
         may rescue part of the old one",
        path.display(),
        folder.display(),
        path.display(),
    ))
}

/// Deletes upload files that no row names and rows whose file is missing, and counts the
/// uploads that stay resumable.
pub async fn remove_abandoned_uploads(
    database: &Database,
    blobs: &BlobStore,
) -> Result<Recovery, CoreError> {
    let rows: HashSet<String> = database
        .transaction(|tx| db::uploads_started_before(tx, i64::MAX))?
        .into_iter()
        .collect();
    let files: HashSet<String> = blobs.upload_ids().await?.into_iter().collect();

    let mut recovery = Recovery::default();
    for id in files.difference(&rows) {
        blobs.discard_upload(id).await?;
        recovery.removed_upload_files.push(id.clone());
    }
    let missing: Vec<&String> = rows.difference(&files).collect();
    database.transaction(|tx| {
        for id in &missing {
            db::delete_upload(tx, id)?;
        }
        Ok(())
    })?;
    recovery
        .removed_upload_rows
        .extend(missing.into_iter().cloned());
    recovery.resumable_uploads = rows.intersection(&files).count();

    recovery.removed_upload_files.sort();
    recovery.removed_upload_rows.sort();
    Ok(recovery)
}

fn log(recovery: &Recovery) {
    for id in &recovery.removed_upload_files {
        tracing::info!(upload_id = %id, "removed an upload file that no upload record names");
    }
    for id in &recovery.removed_upload_rows {
        tracing::info!(upload_id = %id, "removed an upload record whose file is missing");
    }
    if recovery.resumable_uploads > 0 {
        tracing::info!(
            count = recovery.resumable_uploads,
            "unfinished uploads kept; clients can resume them"
        );
    }
}
