//! The installed packages, from the dpkg or apk database of the merged image.

use super::filesystem::{APK_INSTALLED, DPKG_STATUS, DPKG_STATUS_DIR, Files};
use super::os_release::OsRelease;
use super::{Package, PackageFormat, ScanFailure};

/// The packages of one database, sorted by name and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Installed {
    pub format: PackageFormat,
    pub packages: Vec<Package>,
}

/// Reads the image's package database. When both a dpkg and an apk database exist, the one of
/// the os-release distribution is used (dpkg when that does not decide).
///
/// Errors: `UnsupportedImage` when the image has neither database.
pub(super) fn read_installed(
    files: &Files,
    release: Option<&OsRelease>,
    warnings: &mut Vec<String>,
) -> Result<Installed, ScanFailure> {
    let dpkg_files: Vec<(&str, &[u8])> = files
        .get(DPKG_STATUS)
        .map(|contents| (DPKG_STATUS, contents))
        .into_iter()
        .chain(
            files
                .children(DPKG_STATUS_DIR)
                // Distroless images keep each package's md5sums next to its stanza.
                .filter(|(path, _)| !path.ends_with(".md5sums")),
        )
        .collect();
    let apk_database = files.get(APK_INSTALLED);

    let use_apk = match (dpkg_files.is_empty(), apk_database.is_some()) {
        (true, false) => {
            let os = release
                .map(|release| format!(" (os-release: {})", release.display_name()))
                .unwrap_or_default();
            return Err(ScanFailure::UnsupportedImage(format!(
                "no operating-system package database found{os}: looked for /{DPKG_STATUS}, /{DPKG_STATUS_DIR}/ and /{APK_INSTALLED}"
            )));
        }
        (false, true) => {
            let alpine = release.is_some_and(|release| release.id == "alpine");
            warnings.push(format!(
                "the image has both a dpkg and an apk database; used the {} one",
                if alpine { "apk" } else { "dpkg" }
            ));
            alpine
        }
        (dpkg_missing, _) => dpkg_missing,
    };

    let mut packages = Vec::new();
    let format = if let Some(contents) = apk_database.filter(|_| use_apk) {
        read_apk_database(contents, &mut packages, warnings);
        PackageFormat::Apk
    } else {
        for (path, contents) in dpkg_files {
            let requires_status = path == DPKG_STATUS;
            read_dpkg_database(path, contents, requires_status, &mut packages, warnings);
        }
        PackageFormat::Dpkg
    };
    packages.sort_by(|a, b| (&a.name, &a.version).cmp(&(&b.name, &b.version)));
    packages.dedup();
    Ok(Installed { format, packages })
}

/// One deb822 stanza or apk record: its fields in order.
type Fields<'a> = Vec<(&'a str, String)>;

fn field<'f>(fields: &'f Fields<'_>, name: &str) -> Option<&'f str> {
    fields
        .iter()
        .find(|(key, _)| key.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
        .filter(|value| !value.is_empty())
}

/// Splits text into paragraphs separated by lines that are empty or only whitespace.
fn paragraphs(text: &str) -> impl Iterator<Item = Vec<&str>> {
    let mut lines = text.lines().peekable();
    std::iter::from_fn(move || {
        while lines.peek().is_some_and(|line| line.trim().is_empty()) {
            lines.next();
        }
        let paragraph: Vec<&str> =
            std::iter::from_fn(|| lines.next_if(|line| !line.trim().is_empty())).collect();
        (!paragraph.is_empty()).then_some(paragraph)
    })
}

/// Parses one deb822 stanza (Debian Policy section 5.1): `Field: value` lines, with
/// continuation lines that start with a space or tab. Returns `None` when a line is neither.
fn parse_stanza<'a>(lines: &[&'a str]) -> Option<Fields<'a>> {
    let mut fields: Fields<'a> = Vec::new();
    for line in lines {
        if line.starts_with([' ', '\t']) {
            let (_, value) = fields.last_mut()?;
            value.push('\n');
            value.push_str(line.trim());
            continue;
        }
        let (name, value) = line.split_once(':')?;
        if name.is_empty() || name.contains(char::is_whitespace) {
            return None;
        }
        fields.push((name, value.trim().to_owned()));
    }
    Some(fields)
}

/// Reads the stanzas of a dpkg status file (deb-status(5)) or of a file in `status.d`.
///
/// A package counts as installed when the third word of its `Status` (the package state) is
/// `installed` and the second (the error flag) is `ok`. That includes `hold ok installed` and
/// `deinstall ok installed`, whose files are still on disk. Files in `status.d`, which
/// distroless images use, hold one package's stanza without `Status`, so `requires_status`
/// is false for them.
fn read_dpkg_database(
    path: &str,
    contents: &[u8],
    requires_status: bool,
    packages: &mut Vec<Package>,
    warnings: &mut Vec<String>,
) {
    let text = String::from_utf8_lossy(contents);
    let mut malformed = 0;
    for lines in paragraphs(&text) {
        let Some(fields) = parse_stanza(&lines) else {
            malformed += 1;
            continue;
        };
        let (Some(name), Some(version)) = (field(&fields, "Package"), field(&fields, "Version"))
        else {
            malformed += 1;
            continue;
        };
        let installed = match field(&fields, "Status") {
            Some(status) => {
                let words: Vec<&str> = status.split_whitespace().collect();
                words.len() == 3 && words[1] == "ok" && words[2] == "installed"
            }
            None => !requires_status,
        };
        if !installed {
            continue;
        }

        let (source_name, source_version) = match field(&fields, "Source") {
            Some(source) => parse_source_field(source),
            None => (None, None),
        };
        packages.push(Package {
            name: name.to_owned(),
            version: version.to_owned(),
            source_name,
            source_version,
            format: PackageFormat::Dpkg,
        });
    }
    if malformed > 0 {
        warnings.push(format!(
            "skipped {malformed} malformed stanza(s) in /{path}: each needs 'Field: value' lines with Package and Version"
        ));
    }
}

/// Splits dpkg's `Source` field, `name` or `name (version)`.
fn parse_source_field(source: &str) -> (Option<String>, Option<String>) {
    match source.split_once('(') {
        Some((name, version)) => {
            let version = version.trim_end().trim_end_matches(')').trim();
            (
                Some(name.trim().to_owned()).filter(|name| !name.is_empty()),
                Some(version.to_owned()).filter(|version| !version.is_empty()),
            )
        }
        None => (Some(source.trim().to_owned()), None),
    }
}

/// Reads apk's installed database, `lib/apk/db/installed`: records separated by blank lines,
/// each line a one-letter key, a colon and a value (apk-tools' "Installed database" format,
/// the same as its index). The scanner uses `P` (name), `V` (version) and `o` (origin, the
/// source package).
fn read_apk_database(contents: &[u8], packages: &mut Vec<Package>, warnings: &mut Vec<String>) {
    let text = String::from_utf8_lossy(contents);
    let mut malformed = 0;
    for lines in paragraphs(&text) {
        let mut name = None;
        let mut version = None;
        let mut origin = None;
        let mut valid = true;
        for line in lines {
            match line.as_bytes() {
                [b'P', b':', ..] => name = Some(&line[2..]),
                [b'V', b':', ..] => version = Some(&line[2..]),
                [b'o', b':', ..] => origin = Some(&line[2..]),
                [key, b':', ..] if key.is_ascii_alphanumeric() => {}
                _ => valid = false,
            }
        }
        let (true, Some(name), Some(version)) = (
            valid,
            name.filter(|name| !name.is_empty()),
            version.filter(|version| !version.is_empty()),
        ) else {
            malformed += 1;
            continue;
        };
        packages.push(Package {
            name: name.to_owned(),
            version: version.to_owned(),
            source_name: origin
                .filter(|origin| !origin.is_empty())
                .map(str::to_owned),
            source_version: None,
            format: PackageFormat::Apk,
        });
    }
    if malformed > 0 {
        warnings.push(format!(
            "skipped {malformed} malformed record(s) in /{APK_INSTALLED}: each needs 'P:' and 'V:' lines"
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::tests::{LayerBuilder, collect};

    fn installed(layer: LayerBuilder) -> (Result<Installed, ScanFailure>, Vec<String>) {
        let files = collect(vec![layer]).unwrap();
        let mut warnings = Vec::new();
        let result = read_installed(&files, None, &mut warnings);
        (result, warnings)
    }

    const DPKG_STATUS_TEXT: &str = "\
Package: libssl3
Status: install ok installed
Priority: optional
Architecture: amd64
Source: openssl
Version: 3.0.11-1~deb12u2
Description: Secure Sockets Layer toolkit - shared libraries
 This package is part of the OpenSSL project's implementation of the SSL
 and TLS cryptographic protocols.

Package: zlib1g
Status: install ok installed
Architecture: amd64
Source: zlib (1:1.2.13.dfsg-1)
Version: 1:1.2.13.dfsg-1+b1

Package: removed-package
Status: deinstall ok config-files
Version: 1.0-1

Package: half-installed
Status: install reinstreq half-installed
Version: 1.0-1

Package: held
Status: hold ok installed
Version: 2.0-1

this line is not a field

Status: install ok installed
Version: 1.0
";

    #[test]
    fn dpkg_status_installed_packages() {
        let (result, warnings) = installed(LayerBuilder::new().file(DPKG_STATUS, DPKG_STATUS_TEXT));
        let installed = result.unwrap();
        assert_eq!(installed.format, PackageFormat::Dpkg);
        let names: Vec<&str> = installed.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["held", "libssl3", "zlib1g"]);

        let libssl = &installed.packages[1];
        assert_eq!(libssl.version, "3.0.11-1~deb12u2");
        assert_eq!(libssl.source_name.as_deref(), Some("openssl"));
        assert_eq!(libssl.source_version, None);

        let zlib = &installed.packages[2];
        assert_eq!(zlib.source_name.as_deref(), Some("zlib"));
        assert_eq!(zlib.source_version.as_deref(), Some("1:1.2.13.dfsg-1"));
        assert_eq!(zlib.version, "1:1.2.13.dfsg-1+b1");

        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("skipped 2 malformed stanza(s) in /var/lib/dpkg/status"));
    }

    #[test]
    fn dpkg_status_d_without_status_field() {
        let layer = LayerBuilder::new()
            .file(
                "var/lib/dpkg/status.d/base",
                "Package: base-files\nVersion: 12.4+deb12u5\nArchitecture: amd64\n",
            )
            .file(
                "var/lib/dpkg/status.d/libssl3",
                "Package: libssl3\nSource: openssl\nVersion: 3.0.11-1~deb12u2\n",
            )
            .file("var/lib/dpkg/status.d/libssl3.md5sums", "0123  usr/lib/x\n");
        let (result, warnings) = installed(layer);
        let installed = result.unwrap();
        let names: Vec<&str> = installed.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(names, ["base-files", "libssl3"]);
        assert_eq!(warnings, Vec::<String>::new());
    }

    #[test]
    fn apk_installed_records() {
        let database = "\
C:Q1abc=
P:musl
V:1.2.4_git20230717-r4
A:x86_64
o:musl
T:the musl c library

P:libssl3
V:3.1.4-r5
o:openssl

P:no-version
o:broken

garbage line
P:x
V:1
";
        let (result, warnings) = installed(LayerBuilder::new().file(APK_INSTALLED, database));
        let installed = result.unwrap();
        assert_eq!(installed.format, PackageFormat::Apk);
        assert_eq!(
            installed.packages,
            vec![
                Package {
                    name: "libssl3".into(),
                    version: "3.1.4-r5".into(),
                    source_name: Some("openssl".into()),
                    source_version: None,
                    format: PackageFormat::Apk,
                },
                Package {
                    name: "musl".into(),
                    version: "1.2.4_git20230717-r4".into(),
                    source_name: Some("musl".into()),
                    source_version: None,
                    format: PackageFormat::Apk,
                },
            ]
        );
        assert!(
            warnings[0].contains("skipped 2 malformed record(s)"),
            "{warnings:?}"
        );
    }

    #[test]
    fn no_database_is_unsupported() {
        let (result, _) = installed(LayerBuilder::new().file("etc/os-release", "ID=debian\n"));
        let ScanFailure::UnsupportedImage(reason) = result.unwrap_err() else {
            panic!("expected UnsupportedImage");
        };
        assert!(reason.contains("no operating-system package database found"));
        assert!(reason.contains("/var/lib/dpkg/status"));
        assert!(reason.contains("/lib/apk/db/installed"));
    }

    #[test]
    fn source_field_forms() {
        assert_eq!(
            parse_source_field("openssl (3.0.11-1~deb12u2)"),
            (Some("openssl".into()), Some("3.0.11-1~deb12u2".into()))
        );
        assert_eq!(parse_source_field("zlib"), (Some("zlib".into()), None));
        assert_eq!(parse_source_field("x ()"), (Some("x".into()), None));
    }
}
