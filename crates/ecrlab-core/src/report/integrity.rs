//! Canonical JSON, the hash chain over journal events, and HMAC-SHA256 signatures.
//!
//! Canonical JSON is the compact serialization of a JSON value with object keys sorted by
//! their UTF-8 bytes and no whitespace, strings escaped as serde_json escapes them. The same
//! value always gives the same bytes, so a hash or signature computed when a report is
//! written can be recomputed from the pretty-printed file that the student hands in.

use std::fmt;
use std::path::{Path, PathBuf};

use hmac::{KeyInit, Mac};
use serde_json::Value;
use sha2::{Digest, Sha256};
use thiserror::Error;

/// The hash that precedes the first journal event in the chain: 64 zeros.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The `algorithm` of a report signature.
pub const SIGNATURE_ALGORITHM: &str = "hmac-sha256";

/// The shortest instructor key accepted, in bytes. HMAC-SHA256 keys shorter than the 32-byte
/// hash output weaken it (RFC 2104, section 3); 16 bytes still rules out typed passwords
/// such as `secret`.
pub const MIN_KEY_BYTES: usize = 16;

/// Serializes `value` as canonical JSON: sorted keys, no whitespace.
pub fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Null | Value::Bool(_) | Value::Number(_) | Value::String(_) => {
            // Scalars have one serde_json serialization whatever the map features are.
            out.push_str(&value.to_string());
        }
        Value::Array(items) => {
            out.push('[');
            for (index, item) in items.iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // Sorted here because serde_json keeps insertion order when another crate in the
            // build enables its `preserve_order` feature.
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            out.push('{');
            for (index, key) in keys.into_iter().enumerate() {
                if index > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                write_canonical(&map[key], out);
            }
            out.push('}');
        }
    }
}

/// Returns the chain hash of an event: the lowercase hex SHA-256 of the previous hash (as its
/// 64 hex characters) followed by the event's canonical JSON.
pub fn chain_hash(previous_hash: &str, event: &Value) -> String {
    let mut hasher = Sha256::new();
    hasher.update(previous_hash.as_bytes());
    hasher.update(canonical_json(event).as_bytes());
    hex::encode(hasher.finalize())
}

/// Returns the chain hash of every event in order, starting from [`GENESIS_HASH`].
pub fn chain_hashes<'a>(events: impl IntoIterator<Item = &'a Value>) -> Vec<String> {
    let mut previous = GENESIS_HASH.to_owned();
    let mut hashes = Vec::new();
    for event in events {
        previous = chain_hash(&previous, event);
        hashes.push(previous.clone());
    }
    hashes
}

/// Returns the lowercase hex SHA-256 of a value's canonical JSON.
pub fn value_hash(value: &Value) -> String {
    hex::encode(Sha256::digest(canonical_json(value).as_bytes()))
}

/// An instructor's secret for signing and verifying reports.
#[derive(Clone)]
pub struct InstructorKey {
    secret: Vec<u8>,
    id: String,
}

/// An instructor key that cannot be used.
#[derive(Debug, Error)]
pub enum KeyError {
    #[error("failed to read instructor key file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "instructor key file {} contains {length} bytes, fewer than the {MIN_KEY_BYTES} required; create a key with `openssl rand -hex 32 > FILE`",
        path.display()
    )]
    TooShort { path: PathBuf, length: usize },
}

impl InstructorKey {
    /// Reads a key from a file. Whitespace around the secret, such as the newline that `echo`
    /// or `openssl rand -hex 32 > FILE` writes, is not part of it.
    pub fn from_file(path: &Path) -> Result<InstructorKey, KeyError> {
        let bytes = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        let secret = bytes.trim_ascii();
        if secret.len() < MIN_KEY_BYTES {
            return Err(KeyError::TooShort {
                path: path.to_owned(),
                length: secret.len(),
            });
        }
        Ok(InstructorKey::from_secret(secret))
    }

    /// Builds a key from its secret bytes, used as they are.
    pub fn from_secret(secret: &[u8]) -> InstructorKey {
        let mut hasher = Sha256::new();
        hasher.update(b"ecrlab instructor key id\n");
        hasher.update(secret);
        let id = hex::encode(&hasher.finalize()[..8]);
        InstructorKey {
            secret: secret.to_vec(),
            id,
        }
    }

    /// Returns the key's id: 16 hex characters of a SHA-256 of the secret. Reports carry it so
    /// that `grade` can report a signature made with another key; it does not reveal the
    /// secret.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// Returns the lowercase hex HMAC-SHA256 of `message`.
    pub fn sign(&self, message: &[u8]) -> String {
        hex::encode(self.mac(message).finalize().into_bytes())
    }

    /// Checks a hex HMAC-SHA256 of `message` in constant time.
    pub fn verify(&self, message: &[u8], signature_hex: &str) -> bool {
        let Ok(signature) = hex::decode(signature_hex) else {
            return false;
        };
        self.mac(message).verify_slice(&signature).is_ok()
    }

    fn mac(&self, message: &[u8]) -> hmac::Hmac<sha2_for_hmac::Sha256> {
        // HMAC accepts keys of any length (RFC 2104, section 2), so this cannot fail.
        let mut mac = hmac::Hmac::<sha2_for_hmac::Sha256>::new_from_slice(&self.secret)
            .expect("HMAC accepts keys of any length");
        mac.update(message);
        mac
    }
}

impl fmt::Debug for InstructorKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("InstructorKey")
            .field("id", &self.id)
            .field("secret", &"** redacted **")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys() {
        let value: Value =
            serde_json::from_str(r#"{ "b": [1, {"z": null, "a": "x\ny"}], "a": true }"#).unwrap();
        assert_eq!(
            canonical_json(&value),
            r#"{"a":true,"b":[1,{"a":"x\ny","z":null}]}"#
        );
    }

    #[test]
    fn hmac_matches_rfc_4231_case_2() {
        // RFC 4231, section 4.3: key "Jefe", data "what do ya want for nothing?".
        let key = InstructorKey::from_secret(b"Jefe");
        let signature = key.sign(b"what do ya want for nothing?");
        assert_eq!(
            signature,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert!(key.verify(b"what do ya want for nothing?", &signature));
        assert!(!key.verify(b"what do ya want for nothing!", &signature));
        assert!(!key.verify(b"what do ya want for nothing?", "not hex"));
    }

    #[test]
    fn chain_hash_covers_previous_hash() {
        let event = serde_json::json!({"seq": 1});
        let first = chain_hash(GENESIS_HASH, &event);
        let second = chain_hash(&first, &event);
        assert_ne!(first, second);
        assert_eq!(chain_hashes([&event, &event]), [first, second]);
    }

    #[test]
    fn short_key_file_rejected() {
        let folder = std::env::temp_dir().join(format!("ecrlab-key-test-{}", std::process::id()));
        std::fs::create_dir_all(&folder).unwrap();
        let path = folder.join("short.key");
        std::fs::write(&path, "secret\n").unwrap();

        let error = InstructorKey::from_file(&path).unwrap_err().to_string();
        assert!(error.contains("contains 6 bytes"), "{error}");
        assert!(error.contains("openssl rand -hex 32"), "{error}");

        std::fs::write(&path, "0123456789abcdef0123456789abcdef\n").unwrap();
        let key = InstructorKey::from_file(&path).unwrap();
        assert_eq!(
            key.id(),
            InstructorKey::from_secret(b"0123456789abcdef0123456789abcdef").id()
        );
        std::fs::remove_dir_all(&folder).unwrap();
    }
}
