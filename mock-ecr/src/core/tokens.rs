//! Authorization tokens: issued by GetAuthorizationToken, checked by registry logins.

use base64::Engine as _;
use sha2::{Digest as _, Sha256};

use super::{IssuedToken, Registry, TOKEN_LIFETIME};
use crate::clock::unix_millis;
use crate::error::CoreError;
use crate::store::db::{self, Scope, TokenRow};

impl Registry {
    /// Issues a token valid for [`TOKEN_LIFETIME`]. Only its SHA-256 is stored.
    pub fn issue_token(&self, scope: &Scope) -> Result<IssuedToken, CoreError> {
        let password = format!(
            "ecrlab.{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let issued_at = self.clock.now();
        let expires_at = issued_at + TOKEN_LIFETIME;
        let row = TokenRow {
            scope: scope.clone(),
            issued_at: unix_millis(issued_at),
            expires_at: unix_millis(expires_at),
        };
        self.db
            .transaction(|tx| db::insert_token(tx, &token_fingerprint(&password), &row))?;
        Ok(IssuedToken {
            authorization_token: base64::engine::general_purpose::STANDARD
                .encode(format!("AWS:{password}")),
            expires_at,
        })
    }

    /// Checks the user name and password of a registry login and returns the token's scope.
    pub fn authenticate(&self, username: &str, password: &str) -> Result<Scope, CoreError> {
        if username != "AWS" {
            return Err(CoreError::LoginRejected {
                reason: format!(
                    "the user name must be AWS (in capitals), not '{}'",
                    username.chars().take(64).collect::<String>()
                ),
            });
        }
        let fingerprint = token_fingerprint(password);
        let token = match self.token_cache.get(&fingerprint) {
            Some(token) => token,
            None => {
                let stored = self.db.transaction(|tx| db::token(tx, &fingerprint))?;
                let Some(token) = stored else {
                    return Err(unknown_password(password));
                };
                self.token_cache.insert(fingerprint, token.clone());
                token
            }
        };
        if self.now_millis() >= token.expires_at {
            return Err(CoreError::TokenExpired);
        }
        Ok(token.scope)
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

/// Tokens that registry logins have used, by fingerprint. A stored token never changes, so a
/// cached copy stays right; expiry is checked on every use against the mock's clock.
#[derive(Debug, Default)]
pub(super) struct TokenCache {
    tokens: std::sync::RwLock<std::collections::HashMap<String, TokenRow>>,
}

impl TokenCache {
    /// How many tokens the cache holds before it starts over: far more than the clients of
    /// one lab, few enough that a client fetching a token per request cannot grow the server.
    const CAPACITY: usize = 4096;

    fn get(&self, fingerprint: &str) -> Option<TokenRow> {
        let tokens = self
            .tokens
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        tokens.get(fingerprint).cloned()
    }

    fn insert(&self, fingerprint: String, token: TokenRow) {
        let mut tokens = self
            .tokens
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if tokens.len() >= Self::CAPACITY {
            tokens.clear();
        }
        tokens.insert(fingerprint, token);
    }
}
