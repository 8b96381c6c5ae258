//! Image scans and the registry scanning configuration.

use rusqlite::{Connection, OptionalExtension, params};

use super::{CachedStatements, Scope};
use crate::error::CoreError;

/// The last scan of one image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanRow {
    /// ECR's `imageScanStatus.status`: `IN_PROGRESS`, `COMPLETE`, `FAILED` or
    /// `UNSUPPORTED_IMAGE`.
    pub status: String,
    pub description: String,
    /// Unix milliseconds of the mock's clock.
    pub started_at: i64,
    pub completed_at: Option<i64>,
    /// The `updated` time of the advisory data the scan used, in Unix milliseconds.
    pub source_updated_at: Option<i64>,
    /// The findings as a JSON array of [`crate::scan::Finding`], for a completed scan.
    pub findings: Option<String>,
}

const SCAN_COLUMNS: &str =
    "status, description, started_at, completed_at, source_updated_at, findings";

fn scan_from_row(row: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<ScanRow> {
    Ok(ScanRow {
        status: row.get(first)?,
        description: row.get(first + 1)?,
        started_at: row.get(first + 2)?,
        completed_at: row.get(first + 3)?,
        source_updated_at: row.get(first + 4)?,
        findings: row.get(first + 5)?,
    })
}

/// Replaces the scan of an image.
pub fn put_scan(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    digest: &str,
    scan: &ScanRow,
) -> Result<(), CoreError> {
    conn.run(
        &format!(
            "INSERT OR REPLACE INTO image_scans
             (account, region, repository, digest, {SCAN_COLUMNS})
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
        ),
        params![
            scope.account,
            scope.region,
            repository,
            digest,
            scan.status,
            scan.description,
            scan.started_at,
            scan.completed_at,
            scan.source_updated_at,
            scan.findings,
        ],
    )?;
    Ok(())
}

/// Stores the result of the scan that started at `started_at`. Returns `false`, storing
/// nothing, when the image or that scan is gone: the image was deleted, or a newer scan
/// replaced it.
pub fn finish_scan(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    digest: &str,
    scan: &ScanRow,
) -> Result<bool, CoreError> {
    let changed = conn.run(
        "UPDATE image_scans
         SET status = ?5, description = ?6, completed_at = ?7, source_updated_at = ?8, findings = ?9
         WHERE account = ?1 AND region = ?2 AND repository = ?3 AND digest = ?4
           AND started_at = ?10 AND status = 'IN_PROGRESS'",
        params![
            scope.account,
            scope.region,
            repository,
            digest,
            scan.status,
            scan.description,
            scan.completed_at,
            scan.source_updated_at,
            scan.findings,
            scan.started_at,
        ],
    )?;
    Ok(changed == 1)
}

/// Returns the last scan of an image, or `None` when it was never scanned.
pub fn scan(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    digest: &str,
) -> Result<Option<ScanRow>, CoreError> {
    let row = conn
        .row(
            &format!(
                "SELECT {SCAN_COLUMNS} FROM image_scans
                 WHERE account = ?1 AND region = ?2 AND repository = ?3 AND digest = ?4"
            ),
            params![scope.account, scope.region, repository, digest],
            |row| scan_from_row(row, 0),
        )
        .optional()?;
    Ok(row)
}

/// Returns the last scan of every scanned image in a repository, as (digest, scan) pairs.
pub fn scans_of_repository(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
) -> Result<Vec<(String, ScanRow)>, CoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT digest, {SCAN_COLUMNS} FROM image_scans
         WHERE account = ?1 AND region = ?2 AND repository = ?3"
    ))?;
    let rows = statement
        .query_map(params![scope.account, scope.region, repository], |row| {
            Ok((row.get(0)?, scan_from_row(row, 1)?))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// A scan that has not finished: its image and start time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnfinishedScan {
    pub scope: Scope,
    pub repository: String,
    pub digest: String,
    pub started_at: i64,
}

/// Lists the scans still `IN_PROGRESS`, oldest first.
pub fn unfinished_scans(conn: &Connection) -> Result<Vec<UnfinishedScan>, CoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT account, region, repository, digest, started_at FROM image_scans
         WHERE status = 'IN_PROGRESS' ORDER BY started_at",
    )?;
    let rows = statement
        .query_map([], |row| {
            Ok(UnfinishedScan {
                scope: Scope {
                    account: row.get(0)?,
                    region: row.get(1)?,
                },
                repository: row.get(2)?,
                digest: row.get(3)?,
                started_at: row.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Returns the registry scanning configuration as (scan type, rules as JSON), or `None` when
/// it was never set.
pub fn registry_scanning(
    conn: &Connection,
    scope: &Scope,
) -> Result<Option<(String, String)>, CoreError> {
    let row = conn
        .row(
            "SELECT scan_type, rules FROM registry_scanning WHERE account = ?1 AND region = ?2",
            params![scope.account, scope.region],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(row)
}

pub fn set_registry_scanning(
    conn: &Connection,
    scope: &Scope,
    scan_type: &str,
    rules: &str,
) -> Result<(), CoreError> {
    conn.run(
        "INSERT OR REPLACE INTO registry_scanning (account, region, scan_type, rules)
         VALUES (?1, ?2, ?3, ?4)",
        params![scope.account, scope.region, scan_type, rules],
    )?;
    Ok(())
}
