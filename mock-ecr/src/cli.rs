//! The command-line flags of a foreground server, shared by `mock-ecr` and `ecrlab serve`.

use std::net::SocketAddr;
use std::path::PathBuf;

use crate::credentials::AccessKey;
use crate::server::{Config, DEFAULT_REGION, default_data_dir, parse_listen_address};

/// Flags that configure a mock run from the command line.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArguments {
    /// Address and port to listen on, such as 127.0.0.1:5000 or localhost:5000; port 0 picks a
    /// free port.
    #[arg(long, default_value = "127.0.0.1:5000", value_parser = parse_listen_address)]
    pub listen: SocketAddr,
    /// Folder for the database and blobs, created if missing and kept across restarts
    /// [default: $XDG_DATA_HOME/ecrlab/data, else ~/.local/share/ecrlab/data].
    #[arg(long)]
    pub data: Option<PathBuf>,
    /// Host name clients use to reach the registry, used in repository URIs and the login
    /// endpoint together with the listening port.
    #[arg(long, default_value = "localhost")]
    pub public_host: String,
    /// AWS region reported where a request names none.
    #[arg(long, default_value = DEFAULT_REGION)]
    pub region: String,
    /// Accept ECR API requests with any signature and any access key; unknown keys act for
    /// the default account. By default the mock checks each request's Signature V4.
    #[arg(long)]
    pub accept_any_signature: bool,
    /// Add an access key that the ECR API accepts, as ACCESS_KEY_ID:SECRET:ACCOUNT (a 12-digit
    /// account ID); repeat for several keys. The test key pair that `ecrlab env` prints is
    /// always accepted, in account 123456789012.
    #[arg(long = "access-key", value_name = "ACCESS_KEY_ID:SECRET:ACCOUNT", value_parser = AccessKey::parse)]
    pub access_keys: Vec<AccessKey>,
    /// Advisory data file (TOML, described in docs/scanning.md) that image scans match
    /// packages against, in place of the data that ships with mock-ecr.
    #[arg(long, value_name = "FILE")]
    pub advisories: Option<PathBuf>,
}

impl ServeArguments {
    /// Returns the data folder the flags select, the default one when `--data` is absent.
    pub fn data_dir(&self) -> PathBuf {
        self.data.clone().unwrap_or_else(default_data_dir)
    }

    /// Builds the server configuration the flags describe.
    pub fn into_config(self) -> Config {
        let mut config = Config::new(self.data_dir());
        config.listen = self.listen;
        config.public_host = Some(self.public_host);
        config.region = self.region;
        config.accept_any_signature = self.accept_any_signature;
        config.access_keys.extend(self.access_keys);
        config.advisories = self.advisories;
        config
    }
}
