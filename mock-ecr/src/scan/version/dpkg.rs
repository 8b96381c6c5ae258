//! Debian package versions, `[epoch:]upstream_version[-debian_revision]`, ordered as the Debian
//! Policy Manual, section 5.6.12 "Version", and the deb-version(7) manual page of dpkg define.
//!
//! The epochs are compared as integers. The upstream versions and then the revisions are
//! compared with one algorithm, which alternates between two kinds of runs. Leading non-digit
//! runs compare lexically, with every letter before every non-letter and `~` before everything,
//! even the end of the string. Leading digit runs compare numerically, and an empty run
//! counts as zero. An absent revision
//! compares like an empty one, so `1.0` equals `1.0-0`, as in dpkg.

use std::cmp::Ordering;

use super::VersionError;

/// A version split into its three parts. Parsing borrows from the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version<'a> {
    pub epoch: u64,
    pub upstream: &'a str,
    /// The part after the last hyphen, empty when the version has none.
    pub revision: &'a str,
}

impl<'a> Version<'a> {
    /// Parses a version and checks it against the syntax of deb-version(7): an unsigned integer
    /// epoch, an upstream version that starts with a digit and contains only alphanumerics and
    /// `. + - ~` (and `:` only after an epoch), and a revision of alphanumerics and `+ . ~`.
    pub fn parse(text: &'a str) -> Result<Self, VersionError> {
        let invalid = |reason: String| VersionError {
            format: "dpkg",
            version: text.to_owned(),
            reason,
        };
        if text.is_empty() {
            return Err(invalid("the version is empty".to_owned()));
        }
        if let Some(position) = text.find(|c: char| c.is_whitespace()) {
            return Err(invalid(format!(
                "it contains whitespace at byte {position}"
            )));
        }

        let (epoch, rest) = match text.split_once(':') {
            Some((epoch_text, rest)) => {
                let epoch = parse_epoch(epoch_text).ok_or_else(|| {
                    invalid(format!(
                        "the epoch '{epoch_text}' before ':' is not an unsigned integer"
                    ))
                })?;
                (epoch, rest)
            }
            None => (0, text),
        };
        let (upstream, revision) = match rest.rsplit_once('-') {
            Some((upstream, revision)) => {
                if revision.is_empty() {
                    return Err(invalid(
                        "the revision after the last '-' is empty".to_owned(),
                    ));
                }
                (upstream, revision)
            }
            None => (rest, ""),
        };

        if !upstream.starts_with(|c: char| c.is_ascii_digit()) {
            return Err(invalid(format!(
                "the upstream version '{upstream}' does not start with a digit"
            )));
        }
        let upstream_allows =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-' | '~' | ':');
        if let Some(c) = upstream.chars().find(|&c| !upstream_allows(c)) {
            return Err(invalid(format!(
                "the upstream version '{upstream}' contains '{c}'; only letters, digits and . + - ~ (and : after an epoch) are allowed"
            )));
        }
        if let Some(c) = revision
            .chars()
            .find(|&c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '~')))
        {
            return Err(invalid(format!(
                "the revision '{revision}' contains '{c}'; only letters, digits and + . ~ are allowed"
            )));
        }
        Ok(Self {
            epoch,
            upstream,
            revision,
        })
    }

    /// Splits any string into the three parts without checking the syntax, for installed
    /// versions that must still be compared. An epoch that is not an unsigned integer is taken
    /// as part of the upstream version with epoch 0.
    fn split_lenient(text: &'a str) -> Self {
        let (epoch, rest) = match text.split_once(':') {
            Some((epoch_text, rest)) => match parse_epoch(epoch_text) {
                Some(epoch) => (epoch, rest),
                None => (0, text),
            },
            None => (0, text),
        };
        let (upstream, revision) = rest.rsplit_once('-').unwrap_or((rest, ""));
        Self {
            epoch,
            upstream,
            revision,
        }
    }
}

impl Ord for Version<'_> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.epoch
            .cmp(&other.epoch)
            .then_with(|| compare_part(self.upstream, other.upstream))
            .then_with(|| compare_part(self.revision, other.revision))
    }
}

impl PartialOrd for Version<'_> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Compares two Debian versions.
///
/// Never fails: a string that [`validate`] rejects is still split at its first `:` and last
/// `-` and compared with the same algorithm, so that an oddly written installed version still
/// gets an ordering. An epoch that is not an unsigned integer counts as part of the upstream
/// version.
pub fn compare(a: &str, b: &str) -> Ordering {
    Version::split_lenient(a).cmp(&Version::split_lenient(b))
}

/// Checks a version against the syntax of deb-version(7); see [`Version::parse`].
pub fn validate(version: &str) -> Result<(), VersionError> {
    Version::parse(version).map(|_| ())
}

fn parse_epoch(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Compares an upstream version or a revision with the Policy's algorithm.
fn compare_part(a: &str, b: &str) -> Ordering {
    let mut a = a.as_bytes();
    let mut b = b.as_bytes();
    while !a.is_empty() || !b.is_empty() {
        let (a_text, a_rest) = split_leading(a, |byte| !byte.is_ascii_digit());
        let (b_text, b_rest) = split_leading(b, |byte| !byte.is_ascii_digit());
        let ordering = compare_non_digits(a_text, b_text);
        if ordering != Ordering::Equal {
            return ordering;
        }

        let (a_digits, a_rest) = split_leading(a_rest, |byte| byte.is_ascii_digit());
        let (b_digits, b_rest) = split_leading(b_rest, |byte| byte.is_ascii_digit());
        let ordering = compare_digits(a_digits, b_digits);
        if ordering != Ordering::Equal {
            return ordering;
        }
        a = a_rest;
        b = b_rest;
    }
    Ordering::Equal
}

fn split_leading(bytes: &[u8], belongs: impl Fn(u8) -> bool) -> (&[u8], &[u8]) {
    let end = bytes
        .iter()
        .position(|&byte| !belongs(byte))
        .unwrap_or(bytes.len());
    bytes.split_at(end)
}

/// Compares two non-digit runs byte by byte with the Policy's weights. The end of the shorter
/// run has weight 0, which sorts after `~` and before every other byte.
fn compare_non_digits(a: &[u8], b: &[u8]) -> Ordering {
    let length = a.len().max(b.len());
    (0..length)
        .map(|index| weight(a.get(index).copied()).cmp(&weight(b.get(index).copied())))
        .find(|ordering| *ordering != Ordering::Equal)
        .unwrap_or(Ordering::Equal)
}

/// Returns the sort weight of one byte of a non-digit run: `~` first, then the end of the run, then
/// letters in ASCII order, then every other byte in ASCII order.
fn weight(byte: Option<u8>) -> i32 {
    match byte {
        None => 0,
        Some(b'~') => -1,
        Some(letter) if letter.is_ascii_alphabetic() => i32::from(letter),
        Some(other) => i32::from(other) + 256,
    }
}

/// Compares two digit runs as unbounded integers: an empty run is zero and leading zeros are
/// ignored, so runs of any length compare without overflow.
fn compare_digits(a: &[u8], b: &[u8]) -> Ordering {
    let a = trim_leading_zeros(a);
    let b = trim_leading_zeros(b);
    a.len().cmp(&b.len()).then_with(|| a.cmp(b))
}

fn trim_leading_zeros(digits: &[u8]) -> &[u8] {
    let start = digits
        .iter()
        .position(|&digit| digit != b'0')
        .unwrap_or(digits.len());
    &digits[start..]
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
    fn tilde_sorts_before_everything() {
        // The Policy's own example: ~~ < ~~a < ~ < (empty) < a.
        let ordered = ["1.0~~", "1.0~~a", "1.0~", "1.0", "1.0a"];
        for pair in ordered.windows(2) {
            assert_order(pair[0], Less, pair[1]);
        }
        assert_order("1.0~rc1-1", Less, "1.0-1");
        assert_order("3.0.11-1~deb12u2", Less, "3.0.11-1");
        assert_order("3.0.11-1~deb12u1", Less, "3.0.11-1~deb12u2");
    }

    #[test]
    fn epoch_outranks_upstream() {
        assert_order("1:0.1", Greater, "9.9");
        assert_order("2:1.0", Greater, "1:9.0");
        assert_order("0:1.0", Equal, "1.0");
        assert_order("1:1.2.13.dfsg-1", Greater, "1.3-1");
    }

    #[test]
    fn revision_is_least_significant() {
        assert_order("1.0-1", Less, "1.0-2");
        assert_order("1.0-10", Greater, "1.0-9");
        assert_order("1.0-1", Less, "1.0.1-1");
        assert_order("1.0-9", Less, "1.0.1-1");
        assert_order("1.0", Equal, "1.0-0");
        assert_order("1.0", Less, "1.0-1");
        assert_order("1.0-1ubuntu1", Greater, "1.0-1");
        assert_order("1.0-1ubuntu1.1", Greater, "1.0-1ubuntu1");
    }

    #[test]
    fn last_hyphen_splits_revision() {
        let version = Version::parse("1:2.3-beta-4").unwrap();
        assert_eq!(version.epoch, 1);
        assert_eq!(version.upstream, "2.3-beta");
        assert_eq!(version.revision, "4");
    }

    #[test]
    fn letters_sort_before_non_letters() {
        assert_order("1.0a", Less, "1.0+");
        assert_order("1.0a", Less, "1.0.");
        assert_order("1.0+b1", Greater, "1.0");
        assert_order("1.0z", Less, "1.0+");
        assert_order("1.0A", Less, "1.0a");
    }

    #[test]
    fn digits_compare_numerically() {
        assert_order("1.10", Greater, "1.9");
        assert_order("1.010", Equal, "1.10");
        assert_order("1.0", Equal, "1.00");
        assert_order(
            "1.123456789012345678901234567890",
            Greater,
            "1.123456789012345678901234567889",
        );
        assert_order("2.36-9+deb12u4", Greater, "2.36-9+deb12u3");
        assert_order("2.36-9+deb12u10", Greater, "2.36-9+deb12u9");
    }

    #[test]
    fn parse_rejects_invalid_syntax() {
        let cases = [
            ("", "empty"),
            ("a1.0", "does not start with a digit"),
            ("x:1.0", "epoch 'x'"),
            (":1.0", "epoch ''"),
            ("1.0-", "revision after the last '-' is empty"),
            ("1.0 1", "whitespace"),
            ("1.0_1", "contains '_'"),
            ("1.0-1-a_b", "revision 'a_b' contains '_'"),
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
    fn parse_accepts_real_versions() {
        for version in [
            "3.0.11-1~deb12u2",
            "1:1.2.13.dfsg-1",
            "2.36-9+deb12u4",
            "1.1.1f-1ubuntu2.20",
            "7.88.1-10+deb12u5",
            "5.4.1-0.2",
            "1.0+git20230101",
        ] {
            assert_eq!(validate(version), Ok(()), "{version}");
        }
    }

    #[test]
    fn compare_tolerates_invalid_versions() {
        assert_order("", Less, "0.1");
        assert_order("x:1", Greater, "1");
        assert_order("-", Equal, "");
        assert_order("1.0-", Equal, "1.0");
    }
}
