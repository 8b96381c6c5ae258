//! Storage: metadata in SQLite, blobs as content-addressed files.
//!
//! This layer stores and loads rows and files; it applies no ECR rules. The registry core
//! composes these calls inside one database transaction per operation, so a crash between a blob
//! write and a metadata change leaves at worst an orphan blob file, never a row that names a
//! missing file.

pub mod blobs;
pub mod db;

pub use blobs::BlobStore;
pub use db::Database;
