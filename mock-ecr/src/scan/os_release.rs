//! The image's operating system, from os-release or the distribution's release file.

use std::collections::BTreeMap;

use super::filesystem::{ALPINE_RELEASE, DEBIAN_VERSION, Files, OS_RELEASE, USR_OS_RELEASE};
use super::{OperatingSystem, PackageFormat, ScanFailure};

/// The operating systems the scanner matches advisories for, by os-release `ID`.
pub(super) const SUPPORTED_IDS: [&str; 3] = ["debian", "ubuntu", "alpine"];

/// The fields of os-release(5) that the scanner uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct OsRelease {
    pub id: String,
    pub version_id: Option<String>,
    pub pretty_name: Option<String>,
}

impl OsRelease {
    /// Returns `PRETTY_NAME`, or `ID` when the file has none.
    pub fn display_name(&self) -> &str {
        self.pretty_name.as_deref().unwrap_or(&self.id)
    }
}

/// Reads `etc/os-release`, or `usr/lib/os-release` when the former is absent, as os-release(5)
/// prescribes. Returns `None` when neither exists or the file has no `ID`.
pub(super) fn read_os_release(files: &Files) -> Option<OsRelease> {
    let contents = files
        .get(OS_RELEASE)
        .or_else(|| files.get(USR_OS_RELEASE))?;
    let fields = parse_os_release(&String::from_utf8_lossy(contents));
    let non_empty = |key: &str| fields.get(key).filter(|value| !value.is_empty()).cloned();
    Some(OsRelease {
        id: non_empty("ID")?.to_ascii_lowercase(),
        version_id: non_empty("VERSION_ID"),
        pretty_name: non_empty("PRETTY_NAME"),
    })
}

/// Parses os-release(5) text: `KEY=value` lines, where the value may be enclosed in double or
/// single quotes and, inside double quotes, `\` escapes `$`, `"`, `\` and `` ` ``. Comments,
/// blank lines and malformed lines are ignored.
fn parse_os_release(text: &str) -> BTreeMap<String, String> {
    let mut fields = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, raw_value)) = line.split_once('=') else {
            continue;
        };
        let valid_key = !key.is_empty()
            && key
                .bytes()
                .all(|byte| byte.is_ascii_uppercase() || byte.is_ascii_digit() || byte == b'_');
        if valid_key {
            fields.insert(key.to_owned(), unquote(raw_value));
        }
    }
    fields
}

fn unquote(raw: &str) -> String {
    if let Some(inner) = raw
        .strip_prefix('\'')
        .and_then(|rest| rest.strip_suffix('\''))
    {
        return inner.to_owned();
    }
    let Some(inner) = raw
        .strip_prefix('"')
        .and_then(|rest| rest.strip_suffix('"'))
    else {
        return raw.to_owned();
    };
    let mut value = String::with_capacity(inner.len());
    let mut characters = inner.chars().peekable();
    while let Some(character) = characters.next() {
        match (character, characters.peek()) {
            ('\\', Some(&escaped @ ('$' | '"' | '\\' | '`'))) => {
                value.push(escaped);
                characters.next();
            }
            _ => value.push(character),
        }
    }
    value
}

/// Determines the operating system of an image whose package database has `format`.
///
/// Errors: `UnsupportedImage` when os-release names a distribution the scanner has no
/// advisories for.
pub(super) fn identify(
    files: &Files,
    release: Option<OsRelease>,
    format: PackageFormat,
    warnings: &mut Vec<String>,
) -> Result<OperatingSystem, ScanFailure> {
    let Some(release) = release else {
        return Ok(identify_without_os_release(files, format, warnings));
    };
    if !SUPPORTED_IDS.contains(&release.id.as_str()) {
        return Err(ScanFailure::UnsupportedImage(format!(
            "the operating system {} (os-release ID '{}') is not supported; the scanner supports Debian, Ubuntu and Alpine Linux",
            release.display_name(),
            release.id
        )));
    }

    let version = match (release.id.as_str(), release.version_id.as_deref()) {
        ("alpine", Some(version_id)) => alpine_branch(version_id),
        ("alpine", None) => files.get(ALPINE_RELEASE).map(alpine_release_branch),
        ("debian", None) => files.get(DEBIAN_VERSION).and_then(debian_major_version),
        (_, version_id) => version_id.map(str::to_owned),
    };
    let version = version.unwrap_or_else(|| {
        warnings.push(format!(
            "os-release of {} has no VERSION_ID (a testing or development release?), so no advisories could be matched",
            release.display_name()
        ));
        String::new()
    });
    Ok(OperatingSystem {
        id: release.id,
        version,
        pretty_name: release.pretty_name,
    })
}

/// Infers the distribution from the package database when the image has no os-release: apk is
/// Alpine Linux's package manager and dpkg Debian's. Ubuntu and other Debian derivatives ship
/// os-release, so a dpkg image without one is most likely Debian.
fn identify_without_os_release(
    files: &Files,
    format: PackageFormat,
    warnings: &mut Vec<String>,
) -> OperatingSystem {
    let (id, version, release_file) = match format {
        PackageFormat::Apk => (
            "alpine",
            files.get(ALPINE_RELEASE).map(alpine_release_branch),
            ALPINE_RELEASE,
        ),
        PackageFormat::Dpkg => (
            "debian",
            files.get(DEBIAN_VERSION).and_then(debian_major_version),
            DEBIAN_VERSION,
        ),
    };
    let version = match version {
        Some(version) => {
            warnings.push(format!(
                "the image has no os-release; assumed {id} {version} from its package database and /{release_file}"
            ));
            version
        }
        None => {
            warnings.push(format!(
                "the image has no os-release and no usable /{release_file}; assumed {id} from its package database, but without a release no advisories could be matched"
            ));
            String::new()
        }
    };
    OperatingSystem {
        id: id.to_owned(),
        version,
        pretty_name: None,
    }
}

/// Reduces an Alpine version such as "3.19.1" to its branch, "3.19", which advisories use.
fn alpine_branch(version: &str) -> Option<String> {
    let mut parts = version.trim().split('.');
    let major = parts.next().filter(|part| is_number(part))?;
    let minor: String = parts
        .next()?
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    (!minor.is_empty()).then(|| format!("{major}.{minor}"))
}

fn alpine_release_branch(contents: &[u8]) -> String {
    alpine_branch(&String::from_utf8_lossy(contents)).unwrap_or_default()
}

/// Returns the major release from `/etc/debian_version`, such as "12" for "12.5". Debian
/// testing writes a codename ("trixie/sid") and Ubuntu its Debian base, so those give `None`.
fn debian_major_version(contents: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(contents);
    let major = text.trim().split('.').next()?;
    is_number(major).then(|| major.to_owned())
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_quotes_and_escapes() {
        let fields = parse_os_release(concat!(
            "# comment\n",
            "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n",
            "ID=debian\n",
            "VERSION_ID='12'\n",
            "NAME=\"say \\\"hi\\\" for \\$5\"\n",
            "not a field\n",
            "lower=ignored\n",
            "\n",
        ));
        assert_eq!(fields["PRETTY_NAME"], "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(fields["ID"], "debian");
        assert_eq!(fields["VERSION_ID"], "12");
        assert_eq!(fields["NAME"], "say \"hi\" for $5");
        assert_eq!(fields.len(), 4);
    }

    #[test]
    fn alpine_branch_keeps_major_minor() {
        assert_eq!(alpine_branch("3.19.1").as_deref(), Some("3.19"));
        assert_eq!(alpine_branch("3.18").as_deref(), Some("3.18"));
        assert_eq!(
            alpine_branch("3.20.0_alpha20240329").as_deref(),
            Some("3.20")
        );
        assert_eq!(alpine_branch("3.21.0\n").as_deref(), Some("3.21"));
        assert_eq!(alpine_branch("edge"), None);
        assert_eq!(alpine_branch("3"), None);
    }

    #[test]
    fn debian_version_major() {
        assert_eq!(debian_major_version(b"12.5\n").as_deref(), Some("12"));
        assert_eq!(debian_major_version(b"11.9").as_deref(), Some("11"));
        assert_eq!(debian_major_version(b"trixie/sid\n"), None);
        assert_eq!(debian_major_version(b"bookworm/sid"), None);
    }
}
