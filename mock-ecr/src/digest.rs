//! Content digests (`sha256:<64 lowercase hex>` or `sha512:<128 lowercase hex>`), as the OCI
//! image specification defines them ("Descriptors", registered algorithms).

use std::fmt;

use sha2::{Digest as _, Sha256, Sha512};

use crate::error::CoreError;

/// A digest algorithm of the OCI image specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Algorithm {
    Sha256,
    Sha512,
}

impl Algorithm {
    fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha256",
            Self::Sha512 => "sha512",
        }
    }

    /// Returns the number of hex digits in an encoded digest.
    fn hex_length(self) -> usize {
        match self {
            Self::Sha256 => 64,
            Self::Sha512 => 128,
        }
    }
}

/// A validated content digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    algorithm: Algorithm,
    hex: String,
}

impl Digest {
    /// Parses `sha256:<64 lowercase hex digits>` or `sha512:<128 lowercase hex digits>`; other
    /// algorithms and encodings are rejected with a message that names the value.
    pub fn parse(text: &str) -> Result<Self, CoreError> {
        let invalid = |reason: &str| CoreError::DigestInvalid {
            digest: text.chars().take(160).collect(),
            reason: reason.to_owned(),
        };
        let (name, hex) = text.split_once(':').ok_or_else(|| {
            invalid("expected '<algorithm>:<hex>', such as 'sha256:' followed by 64 hex digits")
        })?;
        let algorithm = match name {
            "sha256" => Algorithm::Sha256,
            "sha512" => Algorithm::Sha512,
            _ => {
                return Err(invalid(
                    "only the sha256 and sha512 algorithms are supported",
                ));
            }
        };
        let valid_hex = hex.len() == algorithm.hex_length()
            && hex
                .bytes()
                .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte));
        if !valid_hex {
            return Err(invalid(&format!(
                "a {} digest has exactly {} lowercase hex digits",
                algorithm.name(),
                algorithm.hex_length()
            )));
        }
        Ok(Self {
            algorithm,
            hex: hex.to_owned(),
        })
    }

    /// Computes the SHA-256 digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self::from_hasher(Sha256::new_with_prefix(bytes))
    }

    /// Finishes a running SHA-256 computation.
    pub fn from_hasher(hasher: Sha256) -> Self {
        Self {
            algorithm: Algorithm::Sha256,
            hex: hex::encode(hasher.finalize()),
        }
    }

    /// Finishes a running SHA-512 computation.
    pub fn from_sha512_hasher(hasher: Sha512) -> Self {
        Self {
            algorithm: Algorithm::Sha512,
            hex: hex::encode(hasher.finalize()),
        }
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Returns the algorithm's name, `sha256` or `sha512`.
    pub fn algorithm_name(&self) -> &'static str {
        self.algorithm.name()
    }

    /// The hex digits, without the algorithm prefix.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}:{}", self.algorithm.name(), self.hex)
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
            ("", "expected '<algorithm>:<hex>'"),
            ("sha256", "expected '<algorithm>:<hex>'"),
            ("md5:abc", "only the sha256 and sha512"),
            ("sha256:abc", "exactly 64"),
            (
                "sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "exactly 128",
            ),
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
        let sha512 = format!("sha512:{}", "ab".repeat(64));
        for text in [
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            sha512.as_str(),
        ] {
            assert_eq!(Digest::parse(text).unwrap().to_string(), text);
        }
        assert_eq!(
            Digest::parse(&sha512).unwrap().algorithm(),
            Algorithm::Sha512
        );
    }
}
