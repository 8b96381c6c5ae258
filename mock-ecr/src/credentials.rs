//! Access keys that the ECR API accepts, each mapped to the account it acts for.
//!
//! The ECR API front end checks every request's Signature Version 4 against these keys: the
//! access key ID in the credential scope selects the key, and the key's account scopes the
//! repositories the request can read and change. [`AccessPolicy::accept_any_signature`] turns the check off.

use std::fmt;

use crate::server::DEFAULT_ACCOUNT_ID;

/// The access key ID that the mock accepts by default. It is not an AWS credential.
pub const DEFAULT_ACCESS_KEY_ID: &str = "AKIAECRLABSTUDENT001";
/// The secret access key of [`DEFAULT_ACCESS_KEY_ID`]. It is not an AWS credential.
pub const DEFAULT_SECRET_ACCESS_KEY: &str = "ecrlab-local-secret-not-for-aws";

/// One access key pair and the 12-digit account it belongs to.
#[derive(Clone, PartialEq, Eq)]
pub struct AccessKey {
    pub access_key_id: String,
    pub secret_access_key: String,
    pub account_id: String,
}

impl AccessKey {
    pub fn new(
        access_key_id: impl Into<String>,
        secret_access_key: impl Into<String>,
        account_id: impl Into<String>,
    ) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: secret_access_key.into(),
            account_id: account_id.into(),
        }
    }

    /// Creates the test key pair that `ecrlab env` prints, in the default account.
    pub fn default_student() -> Self {
        Self::new(
            DEFAULT_ACCESS_KEY_ID,
            DEFAULT_SECRET_ACCESS_KEY,
            DEFAULT_ACCOUNT_ID,
        )
    }

    /// Parses `ACCESS_KEY_ID:SECRET:ACCOUNT`, the form of `--access-key`. The secret may itself
    /// contain `:`, because the access key ID ends at the first `:` and the account starts
    /// after the last one.
    pub fn parse(text: &str) -> Result<Self, String> {
        let malformed = || {
            format!(
                "'{}' is not ACCESS_KEY_ID:SECRET:ACCOUNT, such as AKIAEXAMPLEKEY000001:my-secret:111122223333",
                redact_secret(text)
            )
        };
        let (access_key_id, rest) = text.split_once(':').ok_or_else(malformed)?;
        let (secret_access_key, account_id) = rest.rsplit_once(':').ok_or_else(malformed)?;
        let key = Self::new(access_key_id, secret_access_key, account_id);
        key.validate()?;
        Ok(key)
    }

    /// Checks the forms AWS uses: an access key ID of 16 to 128 word characters (`[\w]+` in
    /// botocore's IAM model, `accessKeyIdType`), a non-empty secret and a 12-digit account.
    pub fn validate(&self) -> Result<(), String> {
        let id = &self.access_key_id;
        let id_is_valid = (16..=128).contains(&id.len())
            && id
                .chars()
                .all(|character| character.is_ascii_alphanumeric() || character == '_');
        if !id_is_valid {
            return Err(format!(
                "access key ID '{id}' is invalid: use 16 to 128 letters, digits or '_', such as AKIAEXAMPLEKEY000001"
            ));
        }
        if self.secret_access_key.is_empty() {
            return Err(format!(
                "the secret access key of '{id}' is empty: give a secret between the two ':'"
            ));
        }
        let account = &self.account_id;
        if account.len() != 12 || !account.chars().all(|character| character.is_ascii_digit()) {
            return Err(format!(
                "account ID '{account}' of access key '{id}' is invalid: an AWS account ID is 12 digits, such as 111122223333"
            ));
        }
        Ok(())
    }
}

impl fmt::Debug for AccessKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("AccessKey")
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"** redacted **")
            .field("account_id", &self.account_id)
            .finish()
    }
}

/// Replaces everything between the first and last `:` of an `--access-key` value, so an error
/// message never shows a secret.
fn redact_secret(text: &str) -> String {
    match (text.split_once(':'), text.rsplit_once(':')) {
        (Some((id, _)), Some((_, account))) if text.matches(':').count() >= 2 => {
            format!("{id}:***:{account}")
        }
        (Some((id, _)), _) => format!("{id}:***"),
        _ => text.to_owned(),
    }
}

/// The access keys the ECR API accepts, and whether it checks signatures at all.
#[derive(Debug, Clone)]
pub struct AccessPolicy {
    keys: Vec<AccessKey>,
    accept_any_signature: bool,
}

impl AccessPolicy {
    /// Builds a policy from `keys`, rejecting an invalid key or an access key ID given twice.
    pub fn new(keys: Vec<AccessKey>, accept_any_signature: bool) -> Result<Self, String> {
        for (index, key) in keys.iter().enumerate() {
            key.validate()?;
            if keys[..index]
                .iter()
                .any(|earlier| earlier.access_key_id == key.access_key_id)
            {
                return Err(format!(
                    "access key ID '{}' is configured twice: give each access key ID once",
                    key.access_key_id
                ));
            }
        }
        Ok(Self {
            keys,
            accept_any_signature,
        })
    }

    /// Returns the key with `access_key_id`, if configured.
    pub fn find(&self, access_key_id: &str) -> Option<&AccessKey> {
        self.keys
            .iter()
            .find(|key| key.access_key_id == access_key_id)
    }

    /// Returns whether requests pass with any signature and any access key. Unknown keys then
    /// act for the mock's default account.
    pub fn accept_any_signature(&self) -> bool {
        self.accept_any_signature
    }
}

impl Default for AccessPolicy {
    /// Only the default test key pair, with signatures checked.
    fn default() -> Self {
        Self {
            keys: vec![AccessKey::default_student()],
            accept_any_signature: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_splits_key_secret_and_account() {
        let key = AccessKey::parse("AKIAEXAMPLEKEY000001:se:cr/et+:111122223333").unwrap();
        assert_eq!(key.access_key_id, "AKIAEXAMPLEKEY000001");
        assert_eq!(key.secret_access_key, "se:cr/et+");
        assert_eq!(key.account_id, "111122223333");
    }

    #[test]
    fn parse_rejects_malformed_values_without_showing_secret() {
        let cases = [
            ("AKIAEXAMPLEKEY000001", "ACCESS_KEY_ID:SECRET:ACCOUNT"),
            (
                "AKIAEXAMPLEKEY000001:hidden",
                "ACCESS_KEY_ID:SECRET:ACCOUNT",
            ),
            (
                "short:hidden:111122223333",
                "access key ID 'short' is invalid",
            ),
            ("AKIAEXAMPLEKEY000001::111122223333", "secret access key"),
            ("AKIAEXAMPLEKEY000001:hidden:1234", "account ID '1234'"),
            ("AKIAEXAMPLEKEY000001:hidden:12345678901x", "12 digits"),
        ];
        for (text, expected) in cases {
            let message = AccessKey::parse(text).unwrap_err();
            assert!(message.contains(expected), "{text}: {message}");
            assert!(!message.contains("hidden"), "{text}: {message}");
        }
    }

    #[test]
    fn policy_rejects_duplicate_access_key_ids() {
        let keys = vec![
            AccessKey::default_student(),
            AccessKey::new(DEFAULT_ACCESS_KEY_ID, "other", "111122223333"),
        ];
        let message = AccessPolicy::new(keys, false).unwrap_err();
        assert!(message.contains(DEFAULT_ACCESS_KEY_ID), "{message}");
        assert!(message.contains("twice"), "{message}");
    }

    #[test]
    fn debug_redacts_secret() {
        let text = format!("{:?}", AccessKey::default_student());
        assert!(!text.contains(DEFAULT_SECRET_ACCESS_KEY), "{text}");
        assert!(text.contains(DEFAULT_ACCESS_KEY_ID), "{text}");
    }
}
