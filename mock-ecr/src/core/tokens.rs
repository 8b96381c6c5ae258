//! Authorization tokens: issued by GetAuthorizationToken, checked by registry logins.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::{IssuedToken, Registry, TOKEN_LIFETIME};
use crate::clock::unix_millis;
use crate::error::CoreError;
use crate::store::db::{self, Scope};

impl Registry {
    /// Issues a token valid for [`TOKEN_LIFETIME`]. Nothing is stored: the password carries
    /// its account, region and expiry, signed with the data folder's token key (see
    /// [`SignedToken`]), so issuing a token costs no database write.
    pub fn issue_token(&self, scope: &Scope) -> Result<IssuedToken, CoreError> {
        let issued_at = self.clock.now();
        let expires_at = issued_at + TOKEN_LIFETIME;
        let token = SignedToken {
            scope: scope.clone(),
            issued_at: unix_millis(issued_at),
            expires_at: unix_millis(expires_at),
        };
        let password = token.password(&self.token_key);
        Ok(IssuedToken {
            authorization_token: base64::engine::general_purpose::STANDARD
                .encode(format!("AWS:{password}")),
            expires_at,
        })
    }

    /// Checks the user name and password of a registry login and returns the token's scope.
    /// Accepts signed tokens and the stored tokens that earlier versions issued.
    pub fn authenticate(&self, username: &str, password: &str) -> Result<Scope, CoreError> {
        if username != "AWS" {
            return Err(CoreError::LoginRejected {
                reason: format!(
                    "the user name must be AWS (in capitals), not '{}'",
                    username.chars().take(64).collect::<String>()
                ),
            });
        }
        let (scope, expires_at) = match SignedToken::verify(password, &self.token_key) {
            Some(token) => (token.scope, token.expires_at),
            // Tokens of earlier versions were random and stored by fingerprint.
            None => {
                let fingerprint = token_fingerprint(password);
                let stored = self.db.transaction(|tx| db::token(tx, &fingerprint))?;
                let Some(token) = stored else {
                    return Err(unknown_password(password));
                };
                (token.scope, token.expires_at)
            }
        };
        if self.now_millis() >= expires_at {
            return Err(CoreError::TokenExpired);
        }
        Ok(scope)
    }
}

/// Explains a password that matches no token, recognising the common mistake of passing the
/// base64 `authorizationToken` itself instead of the password inside it.
fn unknown_password(password: &str) -> CoreError {
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(password.trim())
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok());
    if decoded.is_some_and(|text| text.starts_with("AWS:")) {
        return CoreError::LoginRejected {
            reason: "the password is the whole base64 authorizationToken; use the output of 'aws ecr get-login-password', which is the part after 'AWS:' in the decoded token".to_owned(),
        };
    }
    CoreError::TokenInvalid
}

/// The key under which a token is stored: its SHA-256, so the database never holds a password.
fn token_fingerprint(password: &str) -> String {
    hex::encode(Sha256::digest(password.as_bytes()))
}

/// Loads the key that signs registry tokens, creating it on first use. The key is kept in the
/// data folder, so tokens outlive a restart as ECR's 12-hour tokens outlive any one server. A
/// database that cannot keep it gets a key for this run only.
pub(super) fn load_token_key(database: &crate::store::Database) -> [u8; 32] {
    const SETTING: &str = "registry_token_key";
    let stored = database.transaction(|tx| {
        if let Some(text) = db::server_setting(tx, SETTING)? {
            if let Some(key) = hex::decode(&text)
                .ok()
                .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
            {
                return Ok(key);
            }
        }
        let key = super::random_key();
        db::replace_server_setting(tx, SETTING, &hex::encode(key))?;
        Ok(key)
    });
    stored.unwrap_or_else(|error| {
        tracing::warn!(%error, "cannot keep the registry token key; tokens issued now stop working at the next start");
        super::random_key()
    })
}

/// A registry password that proves itself: `ecrlab2.<fields>.<mac>`, where the fields are the
/// account, region, issue and expiry times and a random nonce, and the MAC is HMAC-SHA256 over
/// them with the data folder's token key, both in unpadded base64url.
#[derive(Debug, Clone, PartialEq, Eq)]
struct SignedToken {
    scope: Scope,
    issued_at: i64,
    expires_at: i64,
}

impl SignedToken {
    const PREFIX: &'static str = "ecrlab2.";

    fn password(&self, key: &[u8; 32]) -> String {
        let fields = format!(
            "{}\n{}\n{}\n{}\n{}",
            self.scope.account,
            self.scope.region,
            self.issued_at,
            self.expires_at,
            uuid::Uuid::new_v4().simple()
        );
        let encode = |bytes: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
        let mac = crate::mac::hmac_sha256(key, fields.as_bytes());
        format!(
            "{}{}.{}",
            Self::PREFIX,
            encode(fields.as_bytes()),
            encode(&mac)
        )
    }

    /// Returns the token a password carries when its MAC is right, else `None`.
    fn verify(password: &str, key: &[u8; 32]) -> Option<Self> {
        let decode = |text: &str| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(text)
                .ok()
        };
        let (fields, mac) = password.strip_prefix(Self::PREFIX)?.split_once('.')?;
        let fields = decode(fields)?;
        let expected = crate::mac::hmac_sha256(key, &fields);
        if !crate::mac::constant_time_eq(&decode(mac)?, &expected) {
            return None;
        }
        let text = String::from_utf8(fields).ok()?;
        let mut parts = text.split('\n');
        let account = parts.next()?.to_owned();
        let region = parts.next()?.to_owned();
        let issued_at = parts.next()?.parse().ok()?;
        let expires_at = parts.next()?.parse().ok()?;
        Some(Self {
            scope: Scope { account, region },
            issued_at,
            expires_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::db::TokenRow;

    fn token() -> SignedToken {
        SignedToken {
            scope: Scope {
                account: "123456789012".to_owned(),
                region: "eu-west-1".to_owned(),
            },
            issued_at: 1_000,
            expires_at: 43_201_000,
        }
    }

    #[test]
    fn signed_token_round_trips_and_is_unique() {
        let key = [7u8; 32];
        let first = token().password(&key);
        let second = token().password(&key);
        assert_ne!(first, second, "each password has its own nonce");
        assert_eq!(SignedToken::verify(&first, &key), Some(token()));
        assert_eq!(SignedToken::verify(&second, &key), Some(token()));
    }

    #[test]
    fn signed_token_rejects_other_keys_and_any_change() {
        let key = [7u8; 32];
        let password = token().password(&key);
        assert_eq!(SignedToken::verify(&password, &[8u8; 32]), None);
        let (fields, mac) = password
            .strip_prefix(SignedToken::PREFIX)
            .unwrap()
            .split_once('.')
            .unwrap();
        // Another region with the original MAC.
        let forged_fields = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(
            String::from_utf8(
                base64::engine::general_purpose::URL_SAFE_NO_PAD
                    .decode(fields)
                    .unwrap(),
            )
            .unwrap()
            .replace("eu-west-1", "us-east-1"),
        );
        let forged = format!("{}{forged_fields}.{mac}", SignedToken::PREFIX);
        assert_eq!(SignedToken::verify(&forged, &key), None);
        for broken in [
            "",
            "ecrlab2.",
            "ecrlab2.abc",
            "ecrlab2.!!.!!",
            &password[..password.len() - 2],
        ] {
            assert_eq!(SignedToken::verify(broken, &key), None, "{broken:?}");
        }
    }

    fn registry_in(folder: &std::path::Path, clock: crate::clock::Clock) -> Registry {
        let database = crate::store::Database::open(&folder.join("mock-ecr.sqlite3")).unwrap();
        let blobs = crate::store::BlobStore::open(folder).unwrap();
        let settings = super::super::Settings {
            default_account: "123456789012".to_owned(),
            default_region: "us-east-1".to_owned(),
            registry_host: "localhost:5000".to_owned(),
        };
        Registry::new(database, blobs, clock, settings)
    }

    #[test]
    fn signed_token_survives_restart_then_expires() {
        let folder = tempfile::tempdir().unwrap();
        let start = time::macros::datetime!(2026-12-04 12:00 UTC);
        let scope = token().scope;
        let issued = registry_in(folder.path(), crate::clock::Clock::fixed(start))
            .issue_token(&scope)
            .unwrap();
        // The registry that issued it is dropped here, as a stopped server would be.
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(issued.authorization_token)
            .unwrap();
        let password = String::from_utf8(decoded).unwrap()["AWS:".len()..].to_owned();

        // One registry at a time: each holds the data folder's database lock.
        let restarted = registry_in(folder.path(), crate::clock::Clock::fixed(start));
        assert_eq!(restarted.authenticate("AWS", &password).unwrap(), scope);
        drop(restarted);
        let later = registry_in(
            folder.path(),
            crate::clock::Clock::fixed(start + TOKEN_LIFETIME),
        );
        assert!(matches!(
            later.authenticate("AWS", &password),
            Err(CoreError::TokenExpired)
        ));
        let other_folder = tempfile::tempdir().unwrap();
        let elsewhere = registry_in(other_folder.path(), crate::clock::Clock::fixed(start));
        assert!(matches!(
            elsewhere.authenticate("AWS", &password),
            Err(CoreError::TokenInvalid)
        ));
    }

    #[test]
    fn stored_legacy_token_logs_in() {
        let folder = tempfile::tempdir().unwrap();
        let start = time::macros::datetime!(2026-12-04 12:00 UTC);
        let registry = registry_in(folder.path(), crate::clock::Clock::fixed(start));
        let password = "ecrlab.0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
        let row = TokenRow {
            scope: token().scope,
            issued_at: unix_millis(start),
            expires_at: unix_millis(start + TOKEN_LIFETIME),
        };
        registry
            .db
            .transaction(|tx| db::insert_token(tx, &token_fingerprint(password), &row))
            .unwrap();
        assert_eq!(registry.authenticate("AWS", password).unwrap(), row.scope);
    }
}
