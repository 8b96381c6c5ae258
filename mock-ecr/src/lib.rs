//! mock-ecr: a local emulator of Amazon ECR.
//!
//! One HTTP port serves the ECR JSON API (for the AWS CLI and SDKs), an OCI/Docker Registry v2
//! (for docker, podman, skopeo and oras) and a small admin API. Both front ends call one
//! registry core ([`core::Registry`]), which stores metadata in SQLite and blobs in a
//! content-addressed folder, journals every change and reads time from an injected
//! [`Clock`].
//!
//! Layers, from the outside in: `server` (routing) → `ecr_api` / `registry` / `admin`
//! (HTTP translation) → `core` (ECR's rules) → `store` (rows and files).
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let mock = mock_ecr::MockEcr::start(mock_ecr::Config::new("/tmp/mock-ecr-data")).await?;
//! println!("ECR API at {}, registry at {}", mock.endpoint(), mock.registry_host());
//! mock.shutdown().await;
//! # Ok(())
//! # }
//! ```

pub mod admin;
pub mod cli;
pub mod clock;
pub mod conversion;
pub mod core;
pub mod credentials;
pub mod digest;
pub mod ecr_api;
pub mod error;
mod mac;
pub mod manifest;
pub mod names;
pub mod registry;
pub mod scan;
pub mod server;
pub mod store;
pub mod timeouts;

pub use clock::Clock;
pub use credentials::{AccessKey, AccessPolicy};
pub use error::CoreError;
pub use server::{
    Config, DEFAULT_ACCOUNT_ID, DEFAULT_REGION, MockEcr, StartError, default_data_dir,
    parse_listen_address, router, router_with_access, serve_until_signal, startup_banner,
};
pub use timeouts::Timeouts;
