//! Alpine package versions, `digit{.digit}...{letter}{_suffix{number}}...{~hash}{-r#}`, ordered
//! as `src/version.c` of apk-tools does in its current form, the one with `~hash` tokens.
//!
//! A version is a sequence of tokens, each allowed only after certain others: the leading
//! number, `.number` parts, one lower-case letter, `_suffix` parts with an optional number, a
//! `~hash` of hex digits and a `-rN` revision. Two versions are compared token by token while
//! the token kinds agree:
//!
//! - numbers numerically, except that a `.number` part with a leading zero on either side is
//!   compared as a string (as Gentoo's rules do, which apk follows);
//! - letters by character;
//! - suffixes by rank: `alpha` < `beta` < `pre` < `rc` < (no suffix) < `cvs` < `svn` < `git`
//!   < `hg` < `p`;
//! - hashes as strings.
//!
//! When the kinds differ, a pre-release suffix (`alpha`, `beta`, `pre`, `rc`) sorts before
//! anything, and otherwise the version whose token kind comes later in the list above (the
//! end of the string being last) is the smaller. So `1.0 < 1.0a`, `1.0 < 1.0.1`,
//! `1.0_rc1 < 1.0` and `1.0 < 1.0-r1 < 1.0_p1`.

use std::cmp::Ordering;

use super::VersionError;

/// Token kinds in the order apk-tools gives them. A token may follow only kinds up to a limit,
/// and when two versions differ in kind, the version whose token has the later kind is the
/// smaller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    InitialNumber,
    Number,
    Letter,
    Suffix,
    SuffixNumber,
    CommitHash,
    Revision,
    End,
    Invalid,
}

/// The suffixes apk accepts, in rank order. The first `NO_SUFFIX_RANK` mark pre-releases, which
/// sort before a version without a suffix.
const SUFFIXES: [&str; 9] = ["alpha", "beta", "pre", "rc", "cvs", "svn", "git", "hg", "p"];
const NO_SUFFIX_RANK: usize = 4;

#[derive(Debug, Clone, Copy)]
struct Token<'a> {
    kind: Kind,
    text: &'a str,
    suffix_rank: usize,
}

impl Token<'_> {
    fn is_pre_release(&self) -> bool {
        self.kind == Kind::Suffix && self.suffix_rank < NO_SUFFIX_RANK
    }

    /// Compares two tokens of the same kind.
    fn cmp_value(&self, other: &Self) -> Ordering {
        match self.kind {
            Kind::Number if self.text.starts_with('0') || other.text.starts_with('0') => {
                self.text.cmp(other.text)
            }
            Kind::InitialNumber | Kind::Number | Kind::SuffixNumber | Kind::Revision => {
                compare_digits(self.text, other.text)
            }
            Kind::Suffix => self.suffix_rank.cmp(&other.suffix_rank),
            Kind::Letter | Kind::CommitHash | Kind::End | Kind::Invalid => {
                self.text.cmp(other.text)
            }
        }
    }
}

/// Splits a version into tokens, one at a time. After an invalid token it yields `Invalid`
/// for good.
struct Tokens<'a> {
    rest: &'a str,
    previous: Option<Kind>,
}

impl<'a> Tokens<'a> {
    fn new(version: &'a str) -> Self {
        Self {
            rest: version,
            previous: None,
        }
    }

    /// Returns the byte position of the next token in `version`.
    fn offset(&self, version: &str) -> usize {
        version.len() - self.rest.len()
    }

    fn next_token(&mut self) -> Token<'a> {
        let token = self.read_token();
        self.previous = Some(token.kind);
        token
    }

    fn read_token(&mut self) -> Token<'a> {
        let invalid = Token {
            kind: Kind::Invalid,
            text: "",
            suffix_rank: 0,
        };
        let Some(previous) = self.previous else {
            return self.take_number(Kind::InitialNumber);
        };
        if previous == Kind::Invalid {
            return invalid;
        }
        let Some(first) = self.rest.chars().next() else {
            return Token {
                kind: Kind::End,
                text: "",
                suffix_rank: 0,
            };
        };
        match first {
            'a'..='z' if previous <= Kind::Number => {
                let (text, rest) = self.rest.split_at(1);
                self.rest = rest;
                Token {
                    kind: Kind::Letter,
                    text,
                    suffix_rank: 0,
                }
            }
            '.' if previous <= Kind::Number => {
                self.rest = &self.rest[1..];
                self.take_number(Kind::Number)
            }
            '0'..='9' if previous == Kind::Suffix => self.take_number(Kind::SuffixNumber),
            '_' if previous <= Kind::SuffixNumber => {
                let name = take_while(&self.rest[1..], |c| c.is_ascii_lowercase());
                self.rest = &self.rest[1 + name.len()..];
                match SUFFIXES.iter().position(|suffix| *suffix == name) {
                    Some(rank) => Token {
                        kind: Kind::Suffix,
                        text: name,
                        suffix_rank: rank,
                    },
                    None => invalid,
                }
            }
            '~' if previous < Kind::CommitHash => {
                let hash = take_while(&self.rest[1..], |c| c.is_ascii_hexdigit());
                self.rest = &self.rest[1 + hash.len()..];
                if hash.is_empty() {
                    return invalid;
                }
                Token {
                    kind: Kind::CommitHash,
                    text: hash,
                    suffix_rank: 0,
                }
            }
            '-' if previous < Kind::Revision && self.rest.starts_with("-r") => {
                self.rest = &self.rest[2..];
                self.take_number(Kind::Revision)
            }
            _ => invalid,
        }
    }

    fn take_number(&mut self, kind: Kind) -> Token<'a> {
        let digits = take_while(self.rest, |c| c.is_ascii_digit());
        self.rest = &self.rest[digits.len()..];
        Token {
            kind: if digits.is_empty() {
                Kind::Invalid
            } else {
                kind
            },
            text: digits,
            suffix_rank: 0,
        }
    }
}

/// Returns the longest prefix of `text` whose characters satisfy `accept`.
fn take_while(text: &str, accept: impl Fn(char) -> bool) -> &str {
    let end = text.find(|c: char| !accept(c)).unwrap_or(text.len());
    &text[..end]
}

/// Compares two digit strings as unbounded integers.
fn compare_digits(a: &str, b: &str) -> Ordering {
    let a = a.trim_start_matches('0');
    let b = b.trim_start_matches('0');
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

/// Compares two Alpine versions.
///
/// Never fails: like apk-tools, the comparison stops at the first invalid token of either
/// version, so `1.0 < 1.0bc` although `1.0bc` is invalid (two letters). Use [`validate`] to
/// reject such versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let mut a_tokens = Tokens::new(a);
    let mut b_tokens = Tokens::new(b);
    let (a_token, b_token) = loop {
        let a_token = a_tokens.next_token();
        let b_token = b_tokens.next_token();
        if a_token.kind != b_token.kind || a_token.kind >= Kind::End {
            break (a_token, b_token);
        }
        let ordering = a_token.cmp_value(&b_token);
        if ordering != Ordering::Equal {
            return ordering;
        }
    };

    if a_token.kind == b_token.kind {
        return Ordering::Equal;
    }
    if a_token.is_pre_release() {
        return Ordering::Less;
    }
    if b_token.is_pre_release() {
        return Ordering::Greater;
    }
    // The version that goes on with an earlier kind of token is the greater one.
    b_token.kind.cmp(&a_token.kind)
}

/// Checks that every token of `version` is valid in its position.
pub fn validate(version: &str) -> Result<(), VersionError> {
    let mut tokens = Tokens::new(version);
    loop {
        let offset = tokens.offset(version);
        match tokens.next_token().kind {
            Kind::End => return Ok(()),
            Kind::Invalid => {
                let reason = if offset == 0 {
                    "it must start with a number, such as '1.2.3-r0'".to_owned()
                } else {
                    format!(
                        "unexpected '{}' at byte {offset}; the form is digit{{.digit}}...{{letter}}{{_suffix{{number}}}}...{{~hash}}{{-rN}}, with suffixes {}",
                        &version[offset..],
                        SUFFIXES.join(", ")
                    )
                };
                return Err(VersionError {
                    format: "apk",
                    version: version.to_owned(),
                    reason,
                });
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering::{Equal, Greater, Less};

    use super::*;

    #[track_caller]
    fn assert_order(a: &str, expected: Ordering, b: &str) {
        assert_eq!(compare(a, b), expected, "compare({a:?}, {b:?})");
        assert_eq!(compare(b, a), expected.reverse(), "compare({b:?}, {a:?})");
    }

    #[test]
    fn suffixes_rank_around_release() {
        let ordered = [
            "1.0_alpha",
            "1.0_alpha1",
            "1.0_beta",
            "1.0_pre2",
            "1.0_rc",
            "1.0_rc1",
            "1.0",
            "1.0_cvs",
            "1.0_svn",
            "1.0_git20240101",
            "1.0_hg",
            "1.0_p1",
            "1.0_p2",
        ];
        for pair in ordered.windows(2) {
            assert_order(pair[0], Less, pair[1]);
        }
        assert_order("1.0_alpha_pre2", Less, "1.0_alpha");
    }

    #[test]
    fn revision_breaks_ties() {
        assert_order("1.0-r1", Less, "1.0-r2");
        assert_order("1.0-r10", Greater, "1.0-r9");
        assert_order("1.0", Less, "1.0-r0");
        assert_order("1.0_p1", Greater, "1.0-r9");
        assert_order("1.36.1-r15", Greater, "1.36.1-r2");
        assert_order("3.1.4-r5", Less, "3.1.4-r6");
        assert_order("1.2.3-r1", Less, "1.2.4-r0");
    }

    #[test]
    fn letter_follows_number() {
        assert_order("1.2.3a", Greater, "1.2.3");
        assert_order("1.2.3a", Less, "1.2.3b");
        assert_order("1.2.3a", Less, "1.2.4");
        assert_order("1.0a", Less, "1.0.1");
        assert_order("0.9.8c-r1", Less, "0.9.8d");
    }

    #[test]
    fn numbers_compare_numerically() {
        assert_order("1.10", Greater, "1.9");
        assert_order("1.0", Less, "1.0.1");
        assert_order("1.2.12.1", Less, "1.2.13");
        assert_order("1.0.0", Equal, "1.0.0");
        assert_order("10", Greater, "9");
        assert_order("006", Greater, "1.0.0");
        assert_order("1.0_p10", Greater, "1.0_p9");
        assert_order(
            "1.123456789012345678901234567890",
            Greater,
            "1.123456789012345678901234567889",
        );
    }

    #[test]
    fn leading_zero_compares_as_string() {
        // "07" < "12" as strings, and "10" > "08".
        assert_order("1.2.07", Less, "1.2.12");
        assert_order("2.10.1", Greater, "2.08.1");
        assert_order("1.01", Less, "1.1");
    }

    #[test]
    fn commit_hash_outranks_revision() {
        assert_order("1.0~abc123", Greater, "1.0");
        assert_order("1.0~abc123", Greater, "1.0-r9");
        assert_order("1.0~abc123", Less, "1.0~abd");
    }

    #[test]
    fn validate_rejects_invalid_versions() {
        let cases = [
            ("", "must start with a number"),
            ("abc", "must start with a number"),
            ("1.0bc", "unexpected 'c' at byte 4"),
            ("1.0_foo", "unexpected '_foo'"),
            ("1.0-1", "unexpected '-1'"),
            ("1.0-r", "unexpected '-r'"),
            ("1..0", "unexpected '..0'"),
            ("1.0~", "unexpected '~'"),
            ("1.0-r1-r2", "unexpected '-r2'"),
            ("1.0_p1a", "unexpected 'a'"),
        ];
        for (version, expected) in cases {
            let error = validate(version).expect_err(version);
            assert!(
                error.to_string().contains(expected),
                "{version:?}: {error} does not mention {expected:?}"
            );
        }
    }

    #[test]
    fn validate_accepts_real_versions() {
        for version in [
            "1.36.1-r15",
            "3.1.4-r5",
            "1.2.4_git20230717-r4",
            "8.5.0-r0",
            "1.0_alpha_pre2",
            "2.12r-r4",
            "1.0~abc123-r1",
            "0.9.8c-r1",
        ] {
            assert_eq!(validate(version), Ok(()), "{version}");
        }
    }

    #[test]
    fn compare_stops_at_invalid_token() {
        assert_order("1.0", Less, "1.0bc");
        assert_order("", Equal, "");
        assert_order("x", Equal, "y");
    }
}
