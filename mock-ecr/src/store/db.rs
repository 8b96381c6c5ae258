//! The metadata database: repositories, images, tags, uploaded layers, tokens and the journal.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{Connection, OptionalExtension, params};

use crate::error::CoreError;

mod scans;
pub use scans::*;

/// Version of the schema below, stored in SQLite's `user_version`. Version 2 added tag
/// mutability exclusion filters, resource tags and repository policies. Version 3 added
/// lifecycle policies and their previews, in new tables only, so [`SCHEMA`] migrates a
/// version-2 database by creating them. Version 4 added account settings and server settings,
/// and version 5 image scans and registry scanning configurations, also in new tables only.
const SCHEMA_VERSION: i64 = 5;

/// Brings a version-1 database to version 2. The tables that version 2 adds are created by
/// [`SCHEMA`] afterwards.
const MIGRATE_1_TO_2: &str = "
ALTER TABLE repositories ADD COLUMN tag_mutability_exclusions TEXT NOT NULL DEFAULT '[]';
";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS repositories (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    tag_mutability TEXT NOT NULL,
    scan_on_push INTEGER NOT NULL,
    encryption_type TEXT NOT NULL,
    kms_key TEXT,
    tag_mutability_exclusions TEXT NOT NULL DEFAULT '[]',
    PRIMARY KEY (account, region, name)
);
CREATE TABLE IF NOT EXISTS repository_tags (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    repository TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (account, region, repository, key)
);
CREATE TABLE IF NOT EXISTS repository_policies (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    repository TEXT NOT NULL,
    policy_text TEXT NOT NULL,
    PRIMARY KEY (account, region, repository)
);
CREATE TABLE IF NOT EXISTS images (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    manifest BLOB NOT NULL,
    media_type TEXT NOT NULL,
    artifact_media_type TEXT,
    size INTEGER NOT NULL,
    pushed_at INTEGER NOT NULL,
    last_pulled_at INTEGER,
    PRIMARY KEY (account, region, repository, digest)
);
CREATE TABLE IF NOT EXISTS tags (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    repository TEXT NOT NULL,
    tag TEXT NOT NULL,
    digest TEXT NOT NULL,
    PRIMARY KEY (account, region, repository, tag)
);
CREATE INDEX IF NOT EXISTS tags_by_digest ON tags (account, region, repository, digest);
CREATE TABLE IF NOT EXISTS layers (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    size INTEGER NOT NULL,
    uploaded_at INTEGER NOT NULL,
    PRIMARY KEY (account, region, repository, digest)
);
CREATE TABLE IF NOT EXISTS uploads (
    id TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    repository TEXT NOT NULL,
    started_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
    token_sha256 TEXT PRIMARY KEY,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    issued_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS lifecycle_policies (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    repository TEXT NOT NULL,
    policy_text TEXT NOT NULL,
    last_evaluated_at INTEGER,
    next_evaluation_at INTEGER NOT NULL,
    PRIMARY KEY (account, region, repository)
);
CREATE TABLE IF NOT EXISTS lifecycle_previews (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    repository TEXT NOT NULL,
    policy_text TEXT NOT NULL,
    results TEXT NOT NULL,
    PRIMARY KEY (account, region, repository)
);
CREATE TABLE IF NOT EXISTS account_settings (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    name TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (account, region, name)
);
CREATE TABLE IF NOT EXISTS server_settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS image_scans (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    repository TEXT NOT NULL,
    digest TEXT NOT NULL,
    status TEXT NOT NULL,
    description TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    completed_at INTEGER,
    source_updated_at INTEGER,
    findings TEXT,
    PRIMARY KEY (account, region, repository, digest)
);
CREATE TABLE IF NOT EXISTS registry_scanning (
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    scan_type TEXT NOT NULL,
    rules TEXT NOT NULL,
    PRIMARY KEY (account, region)
);
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    source TEXT NOT NULL,
    action TEXT NOT NULL,
    repository TEXT,
    reference TEXT,
    digest TEXT,
    host TEXT,
    user_agent TEXT,
    outcome TEXT NOT NULL,
    error_code TEXT,
    message TEXT
);
";

/// Checks that every table has the columns this version reads, because `CREATE TABLE IF NOT
/// EXISTS` keeps a same-named table of another shape.
fn verify_schema(connection: &Connection) -> rusqlite::Result<()> {
    let queries = [
        "SELECT account, region, name, created_at, tag_mutability, scan_on_push, encryption_type, kms_key, tag_mutability_exclusions FROM repositories",
        "SELECT account, region, repository, key, value FROM repository_tags",
        "SELECT account, region, repository, policy_text FROM repository_policies",
        "SELECT account, region, repository, policy_text, last_evaluated_at, next_evaluation_at FROM lifecycle_policies",
        "SELECT account, region, repository, policy_text, results FROM lifecycle_previews",
        "SELECT account, region, repository, digest, manifest, media_type, artifact_media_type, size, pushed_at, last_pulled_at FROM images",
        "SELECT account, region, repository, tag, digest FROM tags",
        "SELECT account, region, repository, digest, size, uploaded_at FROM layers",
        "SELECT id, account, region, repository, started_at FROM uploads",
        "SELECT token_sha256, account, region, issued_at, expires_at FROM tokens",
        "SELECT account, region, name, value FROM account_settings",
        "SELECT name, value FROM server_settings",
        "SELECT account, region, repository, digest, status, description, started_at, completed_at, source_updated_at, findings FROM image_scans",
        "SELECT account, region, scan_type, rules FROM registry_scanning",
        "SELECT seq, time, account, region, source, action, repository, reference, digest, host, user_agent, outcome, error_code, message FROM journal",
    ];
    for query in queries {
        connection.prepare(&format!("{query} LIMIT 0"))?;
    }
    Ok(())
}

/// Runs statements through the connection's cache of prepared statements, so a request does
/// not make SQLite parse the same SQL again.
trait CachedStatements {
    fn run(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize>;
    fn row<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        read: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T>;
}

impl CachedStatements for Connection {
    fn run(&self, sql: &str, params: impl rusqlite::Params) -> rusqlite::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    fn row<T>(
        &self,
        sql: &str,
        params: impl rusqlite::Params,
        read: impl FnOnce(&rusqlite::Row<'_>) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        self.prepare_cached(sql)?.query_row(params, read)
    }
}

/// How many prepared statements a connection keeps: more than the distinct statements above,
/// so none is parsed twice.
const STATEMENT_CACHE_CAPACITY: usize = 128;

/// The account and region that own a repository: ECR keeps a separate registry for each pair.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub account: String,
    pub region: String,
}

/// A repository row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryRow {
    pub name: String,
    pub created_at: i64,
    pub tag_mutability: String,
    pub scan_on_push: bool,
    pub encryption_type: String,
    pub kms_key: Option<String>,
    /// Wildcard filters of tags exempt from `tag_mutability`, stored as a JSON array.
    pub tag_mutability_exclusions: Vec<String>,
}

/// An image row: one manifest in one repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRow {
    pub digest: String,
    pub manifest: Vec<u8>,
    pub media_type: String,
    pub artifact_media_type: Option<String>,
    pub size: i64,
    pub pushed_at: i64,
    pub last_pulled_at: Option<i64>,
}

/// A token row; the token itself is never stored, only its SHA-256.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub scope: Scope,
    pub issued_at: i64,
    pub expires_at: i64,
}

/// A journal row as stored; `seq` is assigned by the database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalRow {
    pub seq: i64,
    pub time: String,
    pub account: String,
    pub region: String,
    pub source: String,
    pub action: String,
    pub repository: Option<String>,
    pub reference: Option<String>,
    pub digest: Option<String>,
    pub host: Option<String>,
    pub user_agent: Option<String>,
    pub outcome: String,
    pub error_code: Option<String>,
    pub message: Option<String>,
}

/// The SQLite database behind a mutex: operations are short, so one connection serves all.
pub struct Database {
    connection: Mutex<Connection>,
    /// See [`Database::generation`].
    generation: AtomicU64,
}

impl Database {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<Self, CoreError> {
        let failed = |error: rusqlite::Error| {
            let damaged = matches!(
                error.sqlite_error_code(),
                Some(rusqlite::ErrorCode::DatabaseCorrupt | rusqlite::ErrorCode::NotADatabase)
            );
            CoreError::Storage(if damaged {
                format!(
                    "database {} is damaged ({error}): restore the data folder from a backup, or move it aside and start with an empty data folder; `sqlite3 FILE .recover` may rescue part of the old one",
                    path.display()
                )
            } else if path.is_dir() {
                format!(
                    "database {} is a folder, not a file: move it out of the data folder",
                    path.display()
                )
            } else {
                format!("cannot open database {}: {error}", path.display())
            })
        };
        let connection = Connection::open(path).map_err(failed)?;

        // One mock per data folder: the exclusive lock is taken here and held until the
        // connection closes, so a second server on the same folder fails at start instead of
        // failing requests later with "database is locked".
        connection
            .busy_timeout(std::time::Duration::from_millis(500))
            .map_err(failed)?;
        connection
            .pragma_update(None, "locking_mode", "EXCLUSIVE")
            .map_err(failed)?;
        let locked = connection
            .pragma_update(None, "journal_mode", "WAL")
            .and_then(|()| connection.execute_batch("BEGIN EXCLUSIVE; COMMIT;"));
        if let Err(error) = locked {
            let busy = error.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy);
            if !busy {
                return Err(failed(error));
            }
            return Err(CoreError::Storage(format!(
                "database {} is in use by another mock-ecr or ecrlab serve: stop that server or use another data folder",
                path.display()
            )));
        }
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        connection.set_prepared_statement_cache_capacity(STATEMENT_CACHE_CAPACITY);
        connection.busy_timeout(std::time::Duration::from_secs(5))?;

        let version: i64 = connection.pragma_query_value(None, "user_version", |row| row.get(0))?;
        if version > SCHEMA_VERSION {
            return Err(CoreError::Storage(format!(
                "database {} has schema version {version}, newer than this mock-ecr supports ({SCHEMA_VERSION}): use a newer mock-ecr or another data folder",
                path.display()
            )));
        }
        if version == 1 {
            connection.execute_batch(MIGRATE_1_TO_2).map_err(|error| {
                CoreError::Storage(format!(
                    "cannot migrate database {} from schema version 1 to {SCHEMA_VERSION}: {error}",
                    path.display()
                ))
            })?;
        }
        connection.execute_batch(SCHEMA)?;
        verify_schema(&connection).map_err(|error| {
            CoreError::Storage(format!(
                "database {} was not created by this mock-ecr ({error}): use another data folder",
                path.display()
            ))
        })?;
        connection.pragma_update(None, "user_version", SCHEMA_VERSION)?;

        Ok(Self {
            connection: Mutex::new(connection),
            generation: AtomicU64::new(0),
        })
    }

    /// Returns a number that grows after every committed transaction that changed a row. A
    /// value read from the database while this number was `g` is current while it stays `g`.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held cannot leave a half-done transaction behind, because
        // a dropped OpenTransaction rolls back, so a poisoned lock is safe to reuse.
        self.connection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `work` in one transaction, committing only when it returns `Ok`.
    ///
    /// `BEGIN` and `COMMIT` run as cached prepared statements: rusqlite's `Transaction` parses
    /// them again for every transaction, which cost about 4% of an ECR API request's CPU time
    /// (docs/benchmarks.md).
    pub fn transaction<T>(
        &self,
        work: impl FnOnce(&Connection) -> Result<T, CoreError>,
    ) -> Result<T, CoreError> {
        let connection = self.lock();
        let changes_before = connection.total_changes();
        let transaction = OpenTransaction::begin(&connection)?;
        let value = work(&connection)?;
        transaction.commit()?;
        // Bumped while the connection is still locked, so no reader can see the new rows and
        // the old generation together.
        if connection.total_changes() != changes_before {
            self.generation.fetch_add(1, Ordering::AcqRel);
        }
        Ok(value)
    }
}

/// A transaction begun on a connection, rolled back when dropped before [`Self::commit`]: after
/// an error from the work in it, a failed `COMMIT`, or a panic.
struct OpenTransaction<'a> {
    connection: &'a Connection,
    committed: bool,
}

impl<'a> OpenTransaction<'a> {
    fn begin(connection: &'a Connection) -> rusqlite::Result<Self> {
        connection.run("BEGIN", [])?;
        Ok(Self {
            connection,
            committed: false,
        })
    }

    fn commit(mut self) -> rusqlite::Result<()> {
        self.connection.run("COMMIT", [])?;
        self.committed = true;
        Ok(())
    }
}

impl Drop for OpenTransaction<'_> {
    fn drop(&mut self) {
        if self.committed || self.connection.is_autocommit() {
            return;
        }
        if let Err(error) = self.connection.run("ROLLBACK", []) {
            tracing::error!(%error, "cannot roll back a failed transaction");
        }
    }
}

pub fn repository(
    conn: &Connection,
    scope: &Scope,
    name: &str,
) -> Result<Option<RepositoryRow>, CoreError> {
    let row = conn
        .row(
            &format!(
                "SELECT {REPOSITORY_COLUMNS} FROM repositories
                 WHERE account = ?1 AND region = ?2 AND name = ?3"
            ),
            params![scope.account, scope.region, name],
            repository_from_row,
        )
        .optional()?;
    Ok(row)
}

pub fn repositories(conn: &Connection, scope: &Scope) -> Result<Vec<RepositoryRow>, CoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {REPOSITORY_COLUMNS} FROM repositories
         WHERE account = ?1 AND region = ?2 ORDER BY name"
    ))?;
    let rows = statement
        .query_map(params![scope.account, scope.region], repository_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

const REPOSITORY_COLUMNS: &str = "name, created_at, tag_mutability, scan_on_push, encryption_type, kms_key, tag_mutability_exclusions";

fn repository_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<RepositoryRow> {
    let exclusions: String = row.get(6)?;
    let tag_mutability_exclusions = serde_json::from_str(&exclusions).map_err(|error| {
        rusqlite::Error::FromSqlConversionFailure(6, rusqlite::types::Type::Text, Box::new(error))
    })?;
    Ok(RepositoryRow {
        name: row.get(0)?,
        created_at: row.get(1)?,
        tag_mutability: row.get(2)?,
        scan_on_push: row.get(3)?,
        encryption_type: row.get(4)?,
        kms_key: row.get(5)?,
        tag_mutability_exclusions,
    })
}

fn exclusions_json(repository: &RepositoryRow) -> String {
    serde_json::Value::from(repository.tag_mutability_exclusions.clone()).to_string()
}

pub fn insert_repository(
    conn: &Connection,
    scope: &Scope,
    repository: &RepositoryRow,
) -> Result<(), CoreError> {
    conn.run(
        "INSERT INTO repositories
         (account, region, name, created_at, tag_mutability, scan_on_push, encryption_type, kms_key,
          tag_mutability_exclusions)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            scope.account,
            scope.region,
            repository.name,
            repository.created_at,
            repository.tag_mutability,
            repository.scan_on_push,
            repository.encryption_type,
            repository.kms_key,
            exclusions_json(repository),
        ],
    )?;
    Ok(())
}

pub fn update_repository_settings(
    conn: &Connection,
    scope: &Scope,
    repository: &RepositoryRow,
) -> Result<(), CoreError> {
    conn.run(
        "UPDATE repositories SET tag_mutability = ?4, scan_on_push = ?5, tag_mutability_exclusions = ?6
         WHERE account = ?1 AND region = ?2 AND name = ?3",
        params![
            scope.account,
            scope.region,
            repository.name,
            repository.tag_mutability,
            repository.scan_on_push,
            exclusions_json(repository),
        ],
    )?;
    Ok(())
}

/// Deletes a repository with its images, tags, layers, pending uploads, resource tags and
/// policy.
pub fn delete_repository(conn: &Connection, scope: &Scope, name: &str) -> Result<(), CoreError> {
    let tables = [
        "tags",
        "images",
        "layers",
        "uploads",
        "repository_tags",
        "repository_policies",
        "lifecycle_policies",
        "lifecycle_previews",
        "image_scans",
    ];
    for table in tables {
        conn.run(
            &format!("DELETE FROM {table} WHERE account = ?1 AND region = ?2 AND repository = ?3"),
            params![scope.account, scope.region, name],
        )?;
    }
    conn.run(
        "DELETE FROM repositories WHERE account = ?1 AND region = ?2 AND name = ?3",
        params![scope.account, scope.region, name],
    )?;
    Ok(())
}

/// Lists a repository's resource tags as (key, value) pairs, sorted by key.
pub fn resource_tags(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
) -> Result<Vec<(String, String)>, CoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT key, value FROM repository_tags
         WHERE account = ?1 AND region = ?2 AND repository = ?3 ORDER BY key",
    )?;
    let tags = statement
        .query_map(params![scope.account, scope.region, repository], |row| {
            Ok((row.get(0)?, row.get(1)?))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(tags)
}

/// Sets a resource tag, replacing the value of an existing key.
pub fn set_resource_tag(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    key: &str,
    value: &str,
) -> Result<(), CoreError> {
    conn.run(
        "INSERT INTO repository_tags (account, region, repository, key, value)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (account, region, repository, key) DO UPDATE SET value = excluded.value",
        params![scope.account, scope.region, repository, key, value],
    )?;
    Ok(())
}

/// Removes a resource tag; a key that is not set is no error.
pub fn delete_resource_tag(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    key: &str,
) -> Result<(), CoreError> {
    conn.run(
        "DELETE FROM repository_tags
         WHERE account = ?1 AND region = ?2 AND repository = ?3 AND key = ?4",
        params![scope.account, scope.region, repository, key],
    )?;
    Ok(())
}

pub fn repository_policy(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
) -> Result<Option<String>, CoreError> {
    let policy = conn
        .row(
            "SELECT policy_text FROM repository_policies
             WHERE account = ?1 AND region = ?2 AND repository = ?3",
            params![scope.account, scope.region, repository],
            |row| row.get(0),
        )
        .optional()?;
    Ok(policy)
}

/// Sets a repository's policy text, replacing the one before.
pub fn set_repository_policy(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    policy_text: &str,
) -> Result<(), CoreError> {
    conn.run(
        "INSERT INTO repository_policies (account, region, repository, policy_text)
         VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (account, region, repository) DO UPDATE SET policy_text = excluded.policy_text",
        params![scope.account, scope.region, repository, policy_text],
    )?;
    Ok(())
}

pub fn delete_repository_policy(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
) -> Result<(), CoreError> {
    conn.run(
        "DELETE FROM repository_policies WHERE account = ?1 AND region = ?2 AND repository = ?3",
        params![scope.account, scope.region, repository],
    )?;
    Ok(())
}

pub fn image_count(conn: &Connection, scope: &Scope, repository: &str) -> Result<i64, CoreError> {
    let count = conn.row(
        "SELECT COUNT(*) FROM images WHERE account = ?1 AND region = ?2 AND repository = ?3",
        params![scope.account, scope.region, repository],
        |row| row.get(0),
    )?;
    Ok(count)
}

const IMAGE_COLUMNS: &str =
    "digest, manifest, media_type, artifact_media_type, size, pushed_at, last_pulled_at";

fn image_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<ImageRow> {
    Ok(ImageRow {
        digest: row.get(0)?,
        manifest: row.get(1)?,
        media_type: row.get(2)?,
        artifact_media_type: row.get(3)?,
        size: row.get(4)?,
        pushed_at: row.get(5)?,
        last_pulled_at: row.get(6)?,
    })
}

pub fn image(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    digest: &str,
) -> Result<Option<ImageRow>, CoreError> {
    let row = conn
        .row(
            &format!(
                "SELECT {IMAGE_COLUMNS} FROM images
                 WHERE account = ?1 AND region = ?2 AND repository = ?3 AND digest = ?4"
            ),
            params![scope.account, scope.region, repository, digest],
            image_from_row,
        )
        .optional()?;
    Ok(row)
}

/// Lists the images of a repository, oldest push first.
pub fn images(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
) -> Result<Vec<ImageRow>, CoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {IMAGE_COLUMNS} FROM images
         WHERE account = ?1 AND region = ?2 AND repository = ?3 ORDER BY pushed_at, digest"
    ))?;
    let rows = statement
        .query_map(
            params![scope.account, scope.region, repository],
            image_from_row,
        )?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

pub fn insert_image(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    image: &ImageRow,
) -> Result<(), CoreError> {
    conn.run(
        "INSERT INTO images (account, region, repository, digest, manifest, media_type,
                             artifact_media_type, size, pushed_at, last_pulled_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            scope.account,
            scope.region,
            repository,
            image.digest,
            image.manifest,
            image.media_type,
            image.artifact_media_type,
            image.size,
            image.pushed_at,
            image.last_pulled_at,
        ],
    )?;
    Ok(())
}

pub fn mark_pulled(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    digest: &str,
    at: i64,
) -> Result<(), CoreError> {
    conn.run(
        "UPDATE images SET last_pulled_at = ?5
         WHERE account = ?1 AND region = ?2 AND repository = ?3 AND digest = ?4",
        params![scope.account, scope.region, repository, digest, at],
    )?;
    Ok(())
}

pub fn tag_digest(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    tag: &str,
) -> Result<Option<String>, CoreError> {
    let digest = conn
        .row(
            "SELECT digest FROM tags WHERE account = ?1 AND region = ?2 AND repository = ?3 AND tag = ?4",
            params![scope.account, scope.region, repository, tag],
            |row| row.get(0),
        )
        .optional()?;
    Ok(digest)
}

/// Lists the tags that point at `digest`, sorted by name.
pub fn tags_of(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    digest: &str,
) -> Result<Vec<String>, CoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT tag FROM tags WHERE account = ?1 AND region = ?2 AND repository = ?3 AND digest = ?4
         ORDER BY tag",
    )?;
    let tags = statement
        .query_map(
            params![scope.account, scope.region, repository, digest],
            |row| row.get(0),
        )?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(tags)
}

/// Lists every tag of a repository, sorted by name.
pub fn tags(conn: &Connection, scope: &Scope, repository: &str) -> Result<Vec<String>, CoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT tag FROM tags WHERE account = ?1 AND region = ?2 AND repository = ?3 ORDER BY tag",
    )?;
    let tags = statement
        .query_map(params![scope.account, scope.region, repository], |row| {
            row.get(0)
        })?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(tags)
}

/// Points `tag` at `digest`, replacing where it pointed before.
pub fn set_tag(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    tag: &str,
    digest: &str,
) -> Result<(), CoreError> {
    conn.run(
        "INSERT INTO tags (account, region, repository, tag, digest) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (account, region, repository, tag) DO UPDATE SET digest = excluded.digest",
        params![scope.account, scope.region, repository, tag, digest],
    )?;
    Ok(())
}

/// Removes one tag.
pub fn delete_tag(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    tag: &str,
) -> Result<(), CoreError> {
    conn.run(
        "DELETE FROM tags WHERE account = ?1 AND region = ?2 AND repository = ?3 AND tag = ?4",
        params![scope.account, scope.region, repository, tag],
    )?;
    Ok(())
}

/// Removes an image and every tag that points at it.
pub fn delete_image(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    digest: &str,
) -> Result<(), CoreError> {
    for table in ["tags", "images", "image_scans"] {
        conn.run(
            &format!(
                "DELETE FROM {table} WHERE account = ?1 AND region = ?2 AND repository = ?3 AND digest = ?4"
            ),
            params![scope.account, scope.region, repository, digest],
        )?;
    }
    Ok(())
}

/// Returns the size of a layer uploaded to `repository`, or `None` when it was not uploaded there.
pub fn layer_size(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    digest: &str,
) -> Result<Option<i64>, CoreError> {
    let size = conn
        .row(
            "SELECT size FROM layers WHERE account = ?1 AND region = ?2 AND repository = ?3 AND digest = ?4",
            params![scope.account, scope.region, repository, digest],
            |row| row.get(0),
        )
        .optional()?;
    Ok(size)
}

pub fn insert_layer(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    digest: &str,
    size: i64,
    at: i64,
) -> Result<(), CoreError> {
    conn.run(
        "INSERT INTO layers (account, region, repository, digest, size, uploaded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
         ON CONFLICT (account, region, repository, digest) DO NOTHING",
        params![scope.account, scope.region, repository, digest, size, at],
    )?;
    Ok(())
}

pub fn insert_upload(
    conn: &Connection,
    id: &str,
    scope: &Scope,
    repository: &str,
    at: i64,
) -> Result<(), CoreError> {
    conn.run(
        "INSERT INTO uploads (id, account, region, repository, started_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, scope.account, scope.region, repository, at],
    )?;
    Ok(())
}

/// Returns the repository an upload belongs to and when it started, when the upload exists
/// in `scope`.
pub fn upload_repository(
    conn: &Connection,
    id: &str,
    scope: &Scope,
) -> Result<Option<(String, i64)>, CoreError> {
    let upload = conn
        .row(
            "SELECT repository, started_at FROM uploads WHERE id = ?1 AND account = ?2 AND region = ?3",
            params![id, scope.account, scope.region],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(upload)
}

/// Returns the ids of uploads, in any scope, that started before `before`.
pub fn uploads_started_before(conn: &Connection, before: i64) -> Result<Vec<String>, CoreError> {
    let mut statement = conn.prepare_cached("SELECT id FROM uploads WHERE started_at < ?1")?;
    let ids = statement
        .query_map(params![before], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(ids)
}

pub fn delete_upload(conn: &Connection, id: &str) -> Result<(), CoreError> {
    conn.run("DELETE FROM uploads WHERE id = ?1", params![id])?;
    Ok(())
}

/// Returns an account setting stored by PutAccountSetting, or `None` when it was never set.
pub fn account_setting(
    conn: &Connection,
    scope: &Scope,
    name: &str,
) -> Result<Option<String>, CoreError> {
    let value = conn
        .row(
            "SELECT value FROM account_settings WHERE account = ?1 AND region = ?2 AND name = ?3",
            params![scope.account, scope.region, name],
            |row| row.get(0),
        )
        .optional()?;
    Ok(value)
}

pub fn set_account_setting(
    conn: &Connection,
    scope: &Scope,
    name: &str,
    value: &str,
) -> Result<(), CoreError> {
    conn.run(
        "INSERT INTO account_settings (account, region, name, value) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (account, region, name) DO UPDATE SET value = excluded.value",
        params![scope.account, scope.region, name, value],
    )?;
    Ok(())
}

/// Stores `value` as the server setting `name` and returns the value it replaces.
/// Reads a server setting, or `None` when it was never set.
pub fn server_setting(conn: &Connection, name: &str) -> Result<Option<String>, CoreError> {
    Ok(conn
        .row(
            "SELECT value FROM server_settings WHERE name = ?1",
            params![name],
            |row| row.get(0),
        )
        .optional()?)
}

pub fn replace_server_setting(
    conn: &Connection,
    name: &str,
    value: &str,
) -> Result<Option<String>, CoreError> {
    let previous = conn
        .row(
            "SELECT value FROM server_settings WHERE name = ?1",
            params![name],
            |row| row.get(0),
        )
        .optional()?;
    conn.run(
        "INSERT INTO server_settings (name, value) VALUES (?1, ?2)
         ON CONFLICT (name) DO UPDATE SET value = excluded.value",
        params![name, value],
    )?;
    Ok(previous)
}

pub fn insert_token(
    conn: &Connection,
    token_sha256: &str,
    token: &TokenRow,
) -> Result<(), CoreError> {
    conn.run(
        "INSERT INTO tokens (token_sha256, account, region, issued_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            token_sha256,
            token.scope.account,
            token.scope.region,
            token.issued_at,
            token.expires_at,
        ],
    )?;
    Ok(())
}

pub fn token(conn: &Connection, token_sha256: &str) -> Result<Option<TokenRow>, CoreError> {
    let row = conn
        .row(
            "SELECT account, region, issued_at, expires_at FROM tokens WHERE token_sha256 = ?1",
            params![token_sha256],
            |row| {
                Ok(TokenRow {
                    scope: Scope {
                        account: row.get(0)?,
                        region: row.get(1)?,
                    },
                    issued_at: row.get(2)?,
                    expires_at: row.get(3)?,
                })
            },
        )
        .optional()?;
    Ok(row)
}

/// A repository's lifecycle policy row, with the times of mock evaluation in milliseconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecyclePolicyRow {
    pub scope: Scope,
    pub repository: String,
    pub policy_text: String,
    pub last_evaluated_at: Option<i64>,
    pub next_evaluation_at: i64,
}

const LIFECYCLE_POLICY_COLUMNS: &str =
    "account, region, repository, policy_text, last_evaluated_at, next_evaluation_at";

fn lifecycle_policy_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<LifecyclePolicyRow> {
    Ok(LifecyclePolicyRow {
        scope: Scope {
            account: row.get(0)?,
            region: row.get(1)?,
        },
        repository: row.get(2)?,
        policy_text: row.get(3)?,
        last_evaluated_at: row.get(4)?,
        next_evaluation_at: row.get(5)?,
    })
}

/// Sets a repository's lifecycle policy, keeping the time it was last evaluated.
pub fn set_lifecycle_policy(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    policy_text: &str,
    next_evaluation_at: i64,
) -> Result<(), CoreError> {
    conn.run(
        "INSERT INTO lifecycle_policies
         (account, region, repository, policy_text, last_evaluated_at, next_evaluation_at)
         VALUES (?1, ?2, ?3, ?4, NULL, ?5)
         ON CONFLICT (account, region, repository) DO UPDATE
         SET policy_text = excluded.policy_text, next_evaluation_at = excluded.next_evaluation_at",
        params![
            scope.account,
            scope.region,
            repository,
            policy_text,
            next_evaluation_at
        ],
    )?;
    Ok(())
}

pub fn lifecycle_policy(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
) -> Result<Option<LifecyclePolicyRow>, CoreError> {
    let row = conn
        .row(
            &format!(
                "SELECT {LIFECYCLE_POLICY_COLUMNS} FROM lifecycle_policies
                 WHERE account = ?1 AND region = ?2 AND repository = ?3"
            ),
            params![scope.account, scope.region, repository],
            lifecycle_policy_from_row,
        )
        .optional()?;
    Ok(row)
}

/// Lists the lifecycle policies of every account and region whose next evaluation is at or
/// before `due_at`, or all of them when `due_at` is `None`.
pub fn lifecycle_policies(
    conn: &Connection,
    due_at: Option<i64>,
) -> Result<Vec<LifecyclePolicyRow>, CoreError> {
    let mut statement = conn.prepare_cached(&format!(
        "SELECT {LIFECYCLE_POLICY_COLUMNS} FROM lifecycle_policies
         WHERE ?1 IS NULL OR next_evaluation_at <= ?1 ORDER BY account, region, repository"
    ))?;
    let rows = statement
        .query_map(params![due_at], lifecycle_policy_from_row)?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

/// Returns the earliest next evaluation time of any lifecycle policy, or `None` when there is
/// none.
pub fn earliest_lifecycle_evaluation(conn: &Connection) -> Result<Option<i64>, CoreError> {
    Ok(conn.row(
        "SELECT MIN(next_evaluation_at) FROM lifecycle_policies",
        [],
        |row| row.get(0),
    )?)
}

pub fn delete_lifecycle_policy(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
) -> Result<(), CoreError> {
    conn.run(
        "DELETE FROM lifecycle_policies WHERE account = ?1 AND region = ?2 AND repository = ?3",
        params![scope.account, scope.region, repository],
    )?;
    Ok(())
}

/// Records that a lifecycle policy was evaluated at `at` and schedules the next evaluation.
pub fn record_lifecycle_evaluation(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    at: i64,
    next_evaluation_at: i64,
) -> Result<(), CoreError> {
    conn.run(
        "UPDATE lifecycle_policies SET last_evaluated_at = ?4, next_evaluation_at = ?5
         WHERE account = ?1 AND region = ?2 AND repository = ?3",
        params![
            scope.account,
            scope.region,
            repository,
            at,
            next_evaluation_at
        ],
    )?;
    Ok(())
}

/// Stores a repository's lifecycle policy preview, replacing the one before. `results` is
/// the JSON text of the preview's expirations.
pub fn set_lifecycle_preview(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
    policy_text: &str,
    results: &str,
) -> Result<(), CoreError> {
    conn.run(
        "INSERT INTO lifecycle_previews (account, region, repository, policy_text, results)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (account, region, repository) DO UPDATE
         SET policy_text = excluded.policy_text, results = excluded.results",
        params![
            scope.account,
            scope.region,
            repository,
            policy_text,
            results
        ],
    )?;
    Ok(())
}

/// Returns a repository's lifecycle policy preview as (policy text, results JSON).
pub fn lifecycle_preview(
    conn: &Connection,
    scope: &Scope,
    repository: &str,
) -> Result<Option<(String, String)>, CoreError> {
    let row = conn
        .row(
            "SELECT policy_text, results FROM lifecycle_previews
             WHERE account = ?1 AND region = ?2 AND repository = ?3",
            params![scope.account, scope.region, repository],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .optional()?;
    Ok(row)
}

/// Appends a journal row and returns its sequence number.
pub fn append_journal(conn: &Connection, row: &JournalRow) -> Result<i64, CoreError> {
    conn.run(
        "INSERT INTO journal (time, account, region, source, action, repository, reference, digest,
                              host, user_agent, outcome, error_code, message)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
        params![
            row.time,
            row.account,
            row.region,
            row.source,
            row.action,
            row.repository,
            row.reference,
            row.digest,
            row.host,
            row.user_agent,
            row.outcome,
            row.error_code,
            row.message,
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Reads up to `limit` journal rows with `seq` greater than `after`, in order.
pub fn journal_after(
    conn: &Connection,
    after: i64,
    limit: i64,
) -> Result<Vec<JournalRow>, CoreError> {
    let mut statement = conn.prepare_cached(
        "SELECT seq, time, account, region, source, action, repository, reference, digest, host,
                user_agent, outcome, error_code, message
         FROM journal WHERE seq > ?1 ORDER BY seq LIMIT ?2",
    )?;
    let rows = statement
        .query_map(params![after, limit], |row| {
            Ok(JournalRow {
                seq: row.get(0)?,
                time: row.get(1)?,
                account: row.get(2)?,
                region: row.get(3)?,
                source: row.get(4)?,
                action: row.get(5)?,
                repository: row.get(6)?,
                reference: row.get(7)?,
                digest: row.get(8)?,
                host: row.get(9)?,
                user_agent: row.get(10)?,
                outcome: row.get(11)?,
                error_code: row.get(12)?,
                message: row.get(13)?,
            })
        })?
        .collect::<Result<Vec<_>, _>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_work_rolls_back() {
        let folder = tempfile::tempdir().unwrap();
        let database = Database::open(&folder.path().join("db.sqlite3")).unwrap();
        let setting = |database: &Database| {
            database
                .transaction(|tx| server_setting(tx, "probe"))
                .unwrap()
        };

        let failed: Result<(), CoreError> = database.transaction(|tx| {
            replace_server_setting(tx, "probe", "from an error")?;
            Err(CoreError::Storage("work failed".to_owned()))
        });
        assert!(failed.is_err());
        assert_eq!(setting(&database), None, "after an error");

        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            database.transaction(|tx| {
                replace_server_setting(tx, "probe", "from a panic")?;
                panic!("work panicked");
                #[allow(unreachable_code)]
                Ok(())
            })
        }));
        assert!(panicked.is_err());
        assert_eq!(setting(&database), None, "after a panic");

        let generation = database.generation();
        database
            .transaction(|tx| replace_server_setting(tx, "probe", "committed"))
            .unwrap();
        assert_eq!(setting(&database).as_deref(), Some("committed"));
        assert_eq!(database.generation(), generation + 1, "a change bumps it");
        database
            .transaction(|tx| server_setting(tx, "probe"))
            .unwrap();
        assert_eq!(database.generation(), generation + 1, "a read leaves it");
    }

    #[test]
    fn damaged_or_misplaced_database_names_the_fix() {
        let folder = tempfile::tempdir().unwrap();
        let garbage = folder.path().join("garbage.sqlite3");
        std::fs::write(&garbage, vec![b'x'; 8192]).unwrap();
        let message = Database::open(&garbage).err().unwrap().to_string();
        assert!(message.contains("is damaged"), "{message}");
        assert!(message.contains("restore the data folder"), "{message}");

        let directory = folder.path().join("folder.sqlite3");
        std::fs::create_dir(&directory).unwrap();
        let message = Database::open(&directory).err().unwrap().to_string();
        assert!(message.contains("is a folder, not a file"), "{message}");
    }

    #[test]
    fn second_open_of_folder_is_rejected() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("mock-ecr.sqlite3");
        let first = Database::open(&path).expect("first open");

        let error = Database::open(&path)
            .err()
            .expect("second open fails")
            .to_string();
        assert!(error.contains("in use by another mock-ecr"), "{error}");

        drop(first);
        assert!(
            Database::open(&path).is_ok(),
            "the folder is free once the first closes"
        );
    }

    #[test]
    fn foreign_database_is_rejected() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("mock-ecr.sqlite3");
        let other = Connection::open(&path).unwrap();
        other
            .execute_batch("CREATE TABLE repositories (id INTEGER PRIMARY KEY, title TEXT);")
            .unwrap();
        drop(other);

        let error = Database::open(&path).err().expect("rejected").to_string();
        assert!(
            error.contains("was not created by this mock-ecr"),
            "{error}"
        );
        assert!(error.contains("another data folder"), "{error}");
    }

    /// The `repositories` table as schema version 1 created it, with one row.
    const VERSION_1_REPOSITORY: &str = "
        CREATE TABLE repositories (
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            tag_mutability TEXT NOT NULL,
            scan_on_push INTEGER NOT NULL,
            encryption_type TEXT NOT NULL,
            kms_key TEXT,
            PRIMARY KEY (account, region, name)
        );
        INSERT INTO repositories VALUES
            ('123456789012', 'us-east-1', 'my-app', 1796385600000, 'IMMUTABLE', 1, 'AES256', NULL);
        PRAGMA user_version = 1;
    ";

    /// Writes a database of an older schema and opens it with this version, which migrates it.
    fn open_old_database(schema: &str) -> (tempfile::TempDir, Database) {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("mock-ecr.sqlite3");
        let old = Connection::open(&path).unwrap();
        old.execute_batch(schema).unwrap();
        drop(old);
        let database = Database::open(&path).expect("an older database opens and migrates");
        (folder, database)
    }

    #[test]
    fn version_1_database_is_migrated() {
        let (_folder, database) = open_old_database(VERSION_1_REPOSITORY);
        let scope = Scope {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        };
        let row = database
            .transaction(|tx| repository(tx, &scope, "my-app"))
            .unwrap()
            .expect("the repository survives the migration");
        assert_eq!(row.tag_mutability, "IMMUTABLE");
        assert!(row.scan_on_push);
        assert_eq!(row.tag_mutability_exclusions, Vec::<String>::new());

        database
            .transaction(|tx| {
                set_resource_tag(tx, &scope, "my-app", "team", "payments")?;
                set_repository_policy(tx, &scope, "my-app", "{}")
            })
            .expect("the tables added by version 2 exist");
        let version: i64 = database
            .lock()
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    /// The lifecycle-free tables of schema version 2 that the test below needs, with one
    /// repository row; `Database::open` creates the remaining version-2 tables itself.
    const VERSION_2_REPOSITORY: &str = "
        CREATE TABLE repositories (
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            name TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            tag_mutability TEXT NOT NULL,
            scan_on_push INTEGER NOT NULL,
            encryption_type TEXT NOT NULL,
            kms_key TEXT,
            tag_mutability_exclusions TEXT NOT NULL DEFAULT '[]',
            PRIMARY KEY (account, region, name)
        );
        CREATE TABLE repository_policies (
            account TEXT NOT NULL,
            region TEXT NOT NULL,
            repository TEXT NOT NULL,
            policy_text TEXT NOT NULL,
            PRIMARY KEY (account, region, repository)
        );
        INSERT INTO repositories VALUES
            ('123456789012', 'us-east-1', 'my-app', 1796385600000, 'MUTABLE', 0, 'AES256', NULL, '[\"release-*\"]');
        INSERT INTO repository_policies VALUES ('123456789012', 'us-east-1', 'my-app', '{}');
        PRAGMA user_version = 2;
    ";

    #[test]
    fn version_2_database_is_migrated() {
        let (_folder, database) = open_old_database(VERSION_2_REPOSITORY);
        let scope = Scope {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        };
        let row = database
            .transaction(|tx| repository(tx, &scope, "my-app"))
            .unwrap()
            .expect("the repository survives the migration");
        assert_eq!(row.tag_mutability_exclusions, vec!["release-*".to_owned()]);
        let policy = database
            .transaction(|tx| repository_policy(tx, &scope, "my-app"))
            .unwrap();
        assert_eq!(policy.as_deref(), Some("{}"));

        let stored = database
            .transaction(|tx| {
                set_lifecycle_policy(tx, &scope, "my-app", "{\"rules\":[]}", 42)?;
                set_lifecycle_preview(tx, &scope, "my-app", "{\"rules\":[]}", "[]")?;
                lifecycle_policy(tx, &scope, "my-app")
            })
            .expect("the tables added by version 3 exist")
            .expect("the lifecycle policy is stored");
        assert_eq!(stored.next_evaluation_at, 42);
        assert_eq!(stored.last_evaluated_at, None);
        let setting = database
            .transaction(|tx| {
                set_account_setting(tx, &scope, "BLOB_MOUNTING", "ENABLED")?;
                account_setting(tx, &scope, "BLOB_MOUNTING")
            })
            .expect("the table added by version 4 exists");
        assert_eq!(setting.as_deref(), Some("ENABLED"));
        let version: i64 = database
            .lock()
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn newer_schema_version_is_rejected() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("mock-ecr.sqlite3");
        let other = Connection::open(&path).unwrap();
        other.pragma_update(None, "user_version", 99).unwrap();
        drop(other);

        let error = Database::open(&path).err().expect("rejected").to_string();
        assert!(error.contains("schema version 99"), "{error}");
    }

    #[test]
    fn non_database_file_is_rejected() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("mock-ecr.sqlite3");
        std::fs::write(&path, b"this is not a database, but a file of text").unwrap();

        let error = Database::open(&path).err().expect("rejected").to_string();
        assert!(error.contains(&path.display().to_string()), "{error}");
        assert_eq!(
            std::fs::read(&path).unwrap(),
            b"this is not a database, but a file of text",
            "the file is left unchanged"
        );
    }
}
