//! Registry-wide account settings (PutAccountSetting, GetAccountSetting), and blob mounting,
//! the one that changes how the registry front end behaves.

use super::Registry;
use crate::digest::Digest;
use crate::error::CoreError;
use crate::store::db::{self, Scope};

/// The account setting that lets a push mount a layer from another repository of the same
/// registry ("Blob mounting in Amazon ECR").
pub const BLOB_MOUNTING: &str = "BLOB_MOUNTING";

/// A setting of ECR's API model: its name, the value a registry has before anyone sets it, and the
/// values PutAccountSetting accepts (API model, PutAccountSetting `value`).
struct Known {
    name: &'static str,
    default: &'static str,
    values: &'static [&'static str],
}

const KNOWN: [Known; 3] = [
    Known {
        name: "BASIC_SCAN_TYPE_VERSION",
        default: "AWS_NATIVE",
        values: &["AWS_NATIVE"],
    },
    Known {
        name: "REGISTRY_POLICY_SCOPE",
        default: "V1",
        values: &["V2"],
    },
    Known {
        name: BLOB_MOUNTING,
        default: "DISABLED",
        values: &["ENABLED", "DISABLED"],
    },
];

fn known(name: &str) -> Result<&'static Known, CoreError> {
    KNOWN
        .iter()
        .find(|setting| setting.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = KNOWN.iter().map(|setting| setting.name).collect();
            CoreError::invalid(
                "name",
                format!("Member must be one of {}, not {name}", names.join(", ")),
            )
        })
}

impl Registry {
    /// Stores an account setting after checking its name and value.
    pub fn put_account_setting(
        &self,
        scope: &Scope,
        name: &str,
        value: &str,
    ) -> Result<(), CoreError> {
        let setting = known(name)?;
        if !setting.values.contains(&value) {
            return Err(CoreError::invalid(
                "value",
                format!(
                    "Member must be {} for {name}, not {value}",
                    setting.values.join(" or ")
                ),
            ));
        }
        self.db
            .transaction(|tx| db::set_account_setting(tx, scope, name, value))
    }

    /// Returns an account setting's value, or its default when it was never set.
    pub fn account_setting(&self, scope: &Scope, name: &str) -> Result<String, CoreError> {
        let setting = known(name)?;
        let stored = self
            .db
            .transaction(|tx| db::account_setting(tx, scope, name))?;
        Ok(stored.unwrap_or_else(|| setting.default.to_owned()))
    }

    /// Mounts a layer of `from` into `repository` when the registry has blob mounting enabled,
    /// both repositories exist with the same encryption, and `from` contains the layer. Returns
    /// the layer's size when it was mounted; `None` means the caller falls back to a normal
    /// upload, as ECR does ("Blob mounting in Amazon ECR").
    pub fn mount_layer(
        &self,
        scope: &Scope,
        repository: &str,
        from: &str,
        digest: &Digest,
    ) -> Result<Option<u64>, CoreError> {
        let now = self.now_millis();
        self.db.transaction(|tx| {
            let target = self.require_repository(tx, scope, repository)?;
            let enabled =
                db::account_setting(tx, scope, BLOB_MOUNTING)?.as_deref() == Some("ENABLED");
            if !enabled {
                return Ok(None);
            }
            let Some(source) = db::repository(tx, scope, from)? else {
                return Ok(None);
            };
            if (&source.encryption_type, &source.kms_key)
                != (&target.encryption_type, &target.kms_key)
            {
                return Ok(None);
            }
            let key = digest.to_string();
            let Some(size) = db::layer_size(tx, scope, from, &key)? else {
                return Ok(None);
            };
            db::insert_layer(tx, scope, repository, &key, size, now)?;
            Ok(Some(u64::try_from(size).unwrap_or(0)))
        })
    }
}
