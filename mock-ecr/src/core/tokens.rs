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
            return Err(CoreError::TokenInvalid);
        }
        let token = self
            .db
            .transaction(|tx| db::token(tx, &token_fingerprint(password)))?
            .ok_or(CoreError::TokenInvalid)?;
        if self.now_millis() >= token.expires_at {
            return Err(CoreError::TokenExpired);
        }
        Ok(token.scope)
    }
}

/// The key under which a token is stored: its SHA-256, so the database never holds a password.
fn token_fingerprint(password: &str) -> String {
    hex::encode(Sha256::digest(password.as_bytes()))
}
