//! Storage: metadata in SQLite, blobs as content-addressed files.
//!
//! This layer stores and loads rows and files; it applies no ECR rules. The registry core
//! composes these calls inside one database transaction per operation, so a crash between a blob
//! write and a metadata change leaves at worst an orphan blob file, never a row that names a
//! missing file. [`recovery`] cleans up after such a crash when the server starts.

pub mod blobs;
pub mod db;
pub mod recovery;

pub use blobs::BlobStore;
pub use db::Database;
