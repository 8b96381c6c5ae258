//! Content digests (`sha256:<64 lowercase hex>`), as the OCI image specification defines them.

use std::fmt;

use sha2::{Digest as _, Sha256};

use crate::error::CoreError;

/// A validated SHA-256 content digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Parses `sha256:<64 lowercase hex digits>`; other algorithms are rejected with a message
    /// that names the value.
    pub fn parse(text: &str) -> Result<Self, CoreError> {
        let invalid = |reason: &str| CoreError::DigestInvalid {
            digest: text.chars().take(160).collect(),
            reason: reason.to_owned(),
        };
        let (algorithm, hex) = text
            .split_once(':')
            .ok_or_else(|| invalid("expected 'sha256:' followed by 64 hex digits"))?;
        if algorithm != "sha256" {
            return Err(invalid("only the sha256 algorithm is supported"));
        }
        let valid_hex = hex.len() == 64
            && hex
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        if !valid_hex {
            return Err(invalid(
                "a sha256 digest has exactly 64 lowercase hex digits",
            ));
        }
        Ok(Self {
            hex: hex.to_owned(),
        })
    }

    /// Computes the digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self::from_hasher(Sha256::new_with_prefix(bytes))
    }

    /// Finishes a running SHA-256 computation.
    pub fn from_hasher(hasher: Sha256) -> Self {
        Self {
            hex: hex::encode(hasher.finalize()),
        }
    }

    /// The 64 hex digits, without the algorithm prefix.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "sha256:{}", self.hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_of_empty_input() {
        assert_eq!(
            Digest::of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn parse_rejects_malformed_digests() {
        let cases = [
            ("", "expected 'sha256:'"),
            ("sha256", "expected 'sha256:'"),
            ("md5:abc", "only the sha256"),
            ("sha256:abc", "exactly 64"),
            (
                "sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855",
                "exactly 64",
            ),
            ("sha256:../../../../etc/passwd", "exactly 64"),
        ];
        for (input, expected) in cases {
            let error = Digest::parse(input).expect_err(input).to_string();
            assert!(error.contains(expected), "{input}: {error}");
        }
    }

    #[test]
    fn parse_round_trips() {
        let text = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        assert_eq!(Digest::parse(text).unwrap().to_string(), text);
    }
}
