use super::*;
use crate::scan::PackageFormat;

const HEADER: &str = "description = \"test advisories\"\nupdated = 2024-05-01\n";

fn parse(entries: &str) -> Result<Advisories, AdvisoryError> {
    Advisories::parse(&format!("{HEADER}{entries}"), "test.toml")
}

/// Returns the problems of an invalid file, or panics.
fn problems(entries: &str) -> Vec<String> {
    match parse(entries) {
        Err(AdvisoryError::Invalid { problems, .. }) => problems,
        other => panic!("expected AdvisoryError::Invalid, got {other:?}"),
    }
}

fn entry(id: &str, package: &str, distribution: &str, fixed: Option<&str>) -> String {
    let fixed = fixed
        .map(|fixed| format!("fixed_version = \"{fixed}\"\n"))
        .unwrap_or_default();
    format!(
        "[[advisory]]\nid = \"{id}\"\npackage = \"{package}\"\ndistribution = \"{distribution}\"\n{fixed}severity = \"HIGH\"\ndescription = \"A flaw.\"\nuri = \"https://security-tracker.debian.org/tracker/{id}\"\n"
    )
}

fn debian(version: &str) -> OperatingSystem {
    OperatingSystem {
        id: "debian".into(),
        version: version.into(),
        pretty_name: None,
    }
}

fn dpkg_package(name: &str, version: &str, source: Option<&str>) -> Package {
    Package {
        name: name.into(),
        version: version.into(),
        source_name: source.map(str::to_owned),
        source_version: None,
        format: PackageFormat::Dpkg,
    }
}

#[test]
fn bundled_file_parses() {
    let advisories = Advisories::parse(BUNDLED_TEXT, BUNDLED_ORIGIN).unwrap();
    assert!(advisories.len() >= 15, "only {} entries", advisories.len());
    assert!(!advisories.description().is_empty());
    assert!(advisories.updated_at().year() >= 2024);
    for entry in advisories.entries() {
        assert!(!entry.sources.is_empty(), "{} has no source", entry.id);
        let os_id = entry.distribution.split(':').next().unwrap();
        if let Some(fixed) = &entry.fixed_version {
            assert_eq!(validate_version(os_id, fixed), Ok(()), "{}", entry.id);
        }
    }
    assert_eq!(Advisories::bundled().len(), advisories.len());
}

#[test]
fn bundled_file_covers_each_release() {
    let advisories = Advisories::bundled();
    for distribution in [
        "debian:11",
        "debian:12",
        "ubuntu:22.04",
        "alpine:3.18",
        "alpine:3.19",
    ] {
        assert!(
            advisories.by_distribution.contains_key(distribution),
            "no entry for {distribution}"
        );
    }
}

/// The lab images: Debian 12 with the libssl3 of its first point releases, and Alpine 3.19.0
/// with its original busybox, must each get findings from the bundled file.
#[test]
fn bundled_file_flags_lab_images() {
    let advisories = Advisories::bundled();
    let libssl = dpkg_package("libssl3", "3.0.11-1~deb12u2", Some("openssl"));
    let findings = advisories.match_packages(&debian("12"), &[libssl]);
    let names: Vec<&str> = findings.iter().map(|f| f.name.as_str()).collect();
    assert!(names.contains(&"CVE-2026-28388"), "{names:?}");

    let alpine = OperatingSystem {
        id: "alpine".into(),
        version: "3.19".into(),
        pretty_name: None,
    };
    let busybox = Package {
        name: "busybox".into(),
        version: "1.36.1-r15".into(),
        source_name: Some("busybox".into()),
        source_version: None,
        format: PackageFormat::Apk,
    };
    let findings = advisories.match_packages(&alpine, &[busybox]);
    let names: Vec<&str> = findings.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "CVE-2023-42366",
            "CVE-2023-42363",
            "CVE-2023-42364",
            "CVE-2023-42365"
        ]
    );
}

#[test]
fn minimal_entry_parses() {
    let advisories = parse(&entry("CVE-2023-5678", "openssl", "debian:12", None)).unwrap();
    assert_eq!(advisories.len(), 1);
    let advisory = &advisories.entries()[0];
    assert_eq!(advisory.severity, Severity::High);
    assert_eq!(advisory.fixed_version, None);
    assert_eq!(advisory.cvss, None);
    assert_eq!(
        advisories.updated_at(),
        time::macros::datetime!(2024-05-01 00:00 UTC)
    );
}

#[test]
fn updated_accepts_offset_datetime() {
    let text = "description = \"x\"\nupdated = 2024-05-01T12:30:00+02:00\n";
    let advisories = Advisories::parse(text, "test.toml").unwrap();
    assert_eq!(
        advisories.updated_at(),
        time::macros::datetime!(2024-05-01 10:30 UTC)
    );
    assert!(advisories.is_empty());
}

#[test]
fn updated_rejects_local_datetime() {
    let text = "description = \"x\"\nupdated = 2024-05-01T12:30:00\n";
    let error = Advisories::parse(text, "test.toml")
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("updated: '2024-05-01T12:30:00' is a local date-time"),
        "{error}"
    );
}

#[test]
fn cvss_fields_parse() {
    let text = format!(
        "{}cvss_score = \"7.5\"\ncvss_vector = \"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H\"\ncvss_version = 3\n",
        entry(
            "CVE-2023-0001",
            "zlib",
            "debian:12",
            Some("1:1.2.13.dfsg-2")
        )
    );
    let advisories = parse(&text).unwrap();
    let cvss = advisories.entries()[0].cvss.clone().unwrap();
    assert_eq!(cvss.version, CvssVersion::V3);
    assert_eq!(cvss.score, "7.5");

    let float_score = text.replace("\"7.5\"", "9.8");
    let advisories = parse(&float_score).unwrap();
    assert_eq!(advisories.entries()[0].cvss.as_ref().unwrap().score, "9.8");
}

#[test]
fn unknown_field_is_a_syntax_error() {
    let text = format!(
        "{}severty = \"HIGH\"\n",
        entry("CVE-2023-0001", "zlib", "debian:12", None)
    );
    let error = parse(&text).unwrap_err();
    assert!(matches!(error, AdvisoryError::Syntax { .. }), "{error:?}");
    let message = error.to_string();
    assert!(message.contains("unknown field `severty`"), "{message}");
    assert!(message.contains("line 10"), "{message}");
    assert!(message.contains("test.toml"), "{message}");
}

#[test]
fn missing_field_is_a_syntax_error() {
    let text = "description = \"x\"\nupdated = 2024-05-01\n[[advisory]]\nid = \"CVE-2023-0001\"\n";
    let message = Advisories::parse(text, "test.toml")
        .unwrap_err()
        .to_string();
    assert!(message.contains("missing field `package`"), "{message}");
}

#[test]
fn bad_id_is_rejected() {
    for id in [
        "GHSA-1234-5678-9abc",
        "CVE-23-1234",
        "CVE-2023-123",
        "CVE-2023-12a4",
    ] {
        let problems = problems(&entry(id, "zlib", "debian:12", None));
        assert_eq!(problems.len(), 1, "{id}: {problems:?}");
        assert!(
            problems[0].starts_with(&format!("advisory 1 ({id}): id '{id}' is not a CVE id")),
            "{problems:?}"
        );
    }
}

#[test]
fn unknown_severity_is_rejected() {
    let text = entry("CVE-2023-0001", "zlib", "debian:12", None).replace("HIGH", "high");
    let problems = problems(&text);
    assert_eq!(problems.len(), 1);
    assert!(
        problems[0].contains("severity 'high' is not one of ECR's severities; use one of CRITICAL, HIGH, MEDIUM, LOW, INFORMATIONAL, UNDEFINED"),
        "{problems:?}"
    );
}

#[test]
fn unparsable_fixed_version_is_rejected() {
    let problems = problems(&format!(
        "{}{}",
        entry("CVE-2023-0001", "busybox", "alpine:3.19", Some("1.36.1-1")),
        entry("CVE-2023-0002", "zlib", "debian:12", Some("v1.3")),
    ));
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(
        problems[0].starts_with(
            "advisory 1 (CVE-2023-0001): fixed_version: invalid apk version '1.36.1-1'"
        ),
        "{problems:?}"
    );
    assert!(
        problems[1]
            .starts_with("advisory 2 (CVE-2023-0002): fixed_version: invalid dpkg version 'v1.3'"),
        "{problems:?}"
    );
}

#[test]
fn bad_distribution_is_rejected() {
    let cases = [
        ("debian", "must be ID:RELEASE"),
        (
            "fedora:39",
            "names 'fedora', which the scanner does not support",
        ),
        (
            "debian:bookworm",
            "write the major release, such as debian:12",
        ),
        ("ubuntu:22", "write YY.MM, such as ubuntu:22.04"),
        (
            "alpine:3.19.1",
            "write the major.minor branch, such as alpine:3.19",
        ),
    ];
    for (distribution, expected) in cases {
        let problems = problems(&entry("CVE-2023-0001", "zlib", distribution, None));
        assert_eq!(problems.len(), 1, "{distribution}: {problems:?}");
        assert!(
            problems[0].contains(expected),
            "{distribution}: {problems:?}"
        );
    }
}

#[test]
fn duplicate_entry_is_rejected() {
    let one = entry("CVE-2023-0001", "zlib", "debian:12", None);
    let other_release = entry("CVE-2023-0001", "zlib", "debian:11", None);
    let problems = problems(&format!("{one}{other_release}{one}"));
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(
        problems[0].starts_with("advisory 3 (CVE-2023-0001): duplicate of an earlier entry for package 'zlib' in 'debian:12'"),
        "{problems:?}"
    );
}

#[test]
fn incomplete_cvss_is_rejected() {
    let text = format!(
        "{}cvss_score = \"7.5\"\n",
        entry("CVE-2023-0001", "zlib", "debian:12", None)
    );
    let problems = problems(&text);
    assert!(
        problems[0].contains("must be given together"),
        "{problems:?}"
    );
}

#[test]
fn inconsistent_cvss_is_rejected() {
    let base = entry("CVE-2023-0001", "zlib", "debian:12", None);
    let cases = [
        (
            "\"11.0\"",
            "CVSS:3.1/AV:N",
            "3",
            "cvss_score '11.0' must be a base score",
        ),
        (
            "\"7.5\"",
            "AV:N/AC:L/Au:N/C:P/I:P/A:P",
            "3",
            "does not match cvss_version",
        ),
        (
            "\"7.5\"",
            "CVSS:3.1/AV:N",
            "4",
            "cvss_version 4 is not supported",
        ),
    ];
    for (score, vector, version, expected) in cases {
        let text = format!(
            "{base}cvss_score = {score}\ncvss_vector = \"{vector}\"\ncvss_version = {version}\n"
        );
        let problems = problems(&text);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains(expected), "{problems:?}");
    }
}

#[test]
fn empty_description_and_bad_uri_are_rejected() {
    let text = entry("CVE-2023-0001", "zlib", "debian:12", None)
        .replace("A flaw.", " ")
        .replace("https://security-tracker.debian.org/tracker/", "tracker/");
    let problems = problems(&text);
    assert_eq!(problems.len(), 2, "{problems:?}");
    assert!(problems[0].contains("description is empty"));
    assert!(problems[1].contains("uri 'tracker/CVE-2023-0001' must be an http(s) URL"));
}

#[test]
fn invalid_error_lists_every_problem() {
    let text = format!(
        "{}{}",
        entry("CVE-1", "zlib", "debian:12", None),
        entry("CVE-2023-0002", "zlib", "debian:x", None)
    );
    let message = parse(&text).unwrap_err().to_string();
    assert!(
        message
            .starts_with("the advisory file test.toml has 2 problem(s):\n  - advisory 1 (CVE-1)"),
        "{message}"
    );
    assert!(
        message.contains("\n  - advisory 2 (CVE-2023-0002)"),
        "{message}"
    );
}

#[test]
fn load_reports_missing_file() {
    let error = Advisories::load(Path::new("/nonexistent/advisories.toml")).unwrap_err();
    assert!(matches!(error, AdvisoryError::Read { .. }));
    assert!(error.to_string().contains("/nonexistent/advisories.toml"));
}

#[test]
fn load_reads_a_file() {
    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("advisories.toml");
    std::fs::write(
        &path,
        format!(
            "{HEADER}{}",
            entry("CVE-2023-0001", "zlib", "debian:12", None)
        ),
    )
    .unwrap();
    let advisories = Advisories::load(&path).unwrap();
    assert_eq!(advisories.len(), 1);
    assert_eq!(advisories.origin(), path.display().to_string());
}

#[test]
fn match_below_fixed_version() {
    let advisories = parse(&entry(
        "CVE-2023-0001",
        "openssl",
        "debian:12",
        Some("3.0.13-1~deb12u1"),
    ))
    .unwrap();
    let cases = [
        ("3.0.11-1~deb12u2", 1),
        ("3.0.13-1~deb12u1", 0),
        ("3.0.13-1~deb12u2", 0),
        ("3.0.14-1", 0),
        ("3.0.13-1~deb11u1", 1),
    ];
    for (version, expected) in cases {
        let packages = [dpkg_package("libssl3", version, Some("openssl"))];
        let findings = advisories.match_packages(&debian("12"), &packages);
        assert_eq!(findings.len(), expected, "libssl3 {version}");
    }
}

#[test]
fn match_without_fixed_version() {
    let advisories = parse(&entry("CVE-2023-0001", "zlib", "debian:12", None)).unwrap();
    let packages = [dpkg_package("zlib1g", "1:1.3-99", Some("zlib"))];
    let findings = advisories.match_packages(&debian("12"), &packages);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].package_name, "zlib1g");
    assert_eq!(findings[0].package_version, "1:1.3-99");
    assert_eq!(findings[0].fixed_version, None);
}

#[test]
fn match_requires_same_release() {
    let advisories = parse(&entry("CVE-2023-0001", "zlib", "debian:12", None)).unwrap();
    let packages = [dpkg_package("zlib1g", "1:1.2.11-1", Some("zlib"))];
    assert!(
        advisories
            .match_packages(&debian("11"), &packages)
            .is_empty()
    );
    let ubuntu = OperatingSystem {
        id: "ubuntu".into(),
        version: "12".into(),
        pretty_name: None,
    };
    assert!(advisories.match_packages(&ubuntu, &packages).is_empty());
}

#[test]
fn match_by_binary_name() {
    let advisories = parse(&entry("CVE-2023-0001", "libssl3", "debian:12", None)).unwrap();
    let matching = [dpkg_package("libssl3", "3.0.0-1", Some("openssl"))];
    let other = [dpkg_package("openssl", "3.0.0-1", None)];
    assert_eq!(advisories.match_packages(&debian("12"), &matching).len(), 1);
    assert!(advisories.match_packages(&debian("12"), &other).is_empty());
}

#[test]
fn match_uses_recorded_source_version() {
    // A binNMU: the binary version has +b1, the status file records the source version.
    let advisories = parse(&entry(
        "CVE-2023-0001",
        "zlib",
        "debian:12",
        Some("1:1.2.13.dfsg-2"),
    ))
    .unwrap();
    let mut package = dpkg_package("zlib1g", "1:1.2.13.dfsg-2+b1", Some("zlib"));
    package.source_version = Some("1:1.2.13.dfsg-1".into());
    let findings = advisories.match_packages(&debian("12"), &[package]);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].package_version, "1:1.2.13.dfsg-2+b1");
}

#[test]
fn match_uses_apk_ordering_on_alpine() {
    let advisories = parse(&entry(
        "CVE-2023-0001",
        "busybox",
        "alpine:3.19",
        Some("1.36.1-r15"),
    ))
    .unwrap();
    let alpine = OperatingSystem {
        id: "alpine".into(),
        version: "3.19".into(),
        pretty_name: None,
    };
    let package = |version: &str| Package {
        name: "ssl_client".into(),
        version: version.into(),
        source_name: Some("busybox".into()),
        source_version: None,
        format: PackageFormat::Apk,
    };
    assert_eq!(
        advisories
            .match_packages(&alpine, &[package("1.36.1-r9")])
            .len(),
        1
    );
    assert!(
        advisories
            .match_packages(&alpine, &[package("1.36.1-r15")])
            .is_empty()
    );
    assert!(
        advisories
            .match_packages(&alpine, &[package("1.36.1-r16")])
            .is_empty()
    );
    // apk sorts a release candidate before the release; dpkg's ordering would not.
    assert_eq!(
        advisories
            .match_packages(&alpine, &[package("1.36.1_rc1-r20")])
            .len(),
        1
    );
}

#[test]
fn findings_sorted_and_unique() {
    let text = format!(
        "{}{}{}",
        entry("CVE-2023-0002", "openssl", "debian:12", None).replace("HIGH", "LOW"),
        entry("CVE-2023-0003", "openssl", "debian:12", None).replace("HIGH", "CRITICAL"),
        entry("CVE-2023-0001", "openssl", "debian:12", None),
    );
    let advisories = parse(&text).unwrap();
    let packages = [
        dpkg_package("openssl", "3.0.0-1", None),
        dpkg_package("libssl3", "3.0.0-1", Some("openssl")),
        // The same package twice, as for two architectures, gives each finding once.
        dpkg_package("libssl3", "3.0.0-1", Some("openssl")),
    ];
    let findings = advisories.match_packages(&debian("12"), &packages);
    let summary: Vec<(Severity, &str, &str)> = findings
        .iter()
        .map(|finding| {
            (
                finding.severity,
                finding.name.as_str(),
                finding.package_name.as_str(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (Severity::Critical, "CVE-2023-0003", "libssl3"),
            (Severity::Critical, "CVE-2023-0003", "openssl"),
            (Severity::High, "CVE-2023-0001", "libssl3"),
            (Severity::High, "CVE-2023-0001", "openssl"),
            (Severity::Low, "CVE-2023-0002", "libssl3"),
            (Severity::Low, "CVE-2023-0002", "openssl"),
        ]
    );
}
