use crate::evidence::scans::{SCAN_COMPLETED, SCAN_STARTED};
use crate::evidence::{
    Evidence, ImageScan, ImageState, JournalEvent, Outcome, RepositoryState, SCAN_COMPLETE,
    ScanFinding, Source,
};
use crate::quiz::{
    AnswerError, MisconceptionSpec, Question, QuestionKind, QuestionSpec, SpecField, Verdict,
};

const IMAGE: &str = "sha256:2222222222222222222222222222222222222222222222222222222222222222";

fn spec(field: &str) -> QuestionSpec {
    QuestionSpec {
        id: "scan-finding".to_owned(),
        kind: QuestionKind::Finding,
        prompt: "Which package has a HIGH or CRITICAL finding?".to_owned(),
        answer: "the package_name of a HIGH or CRITICAL finding of your image".to_owned(),
        accept: Vec::new(),
        explanation: "DescribeImageScanFindings lists the findings.".to_owned(),
        source: "ECR API Reference, DescribeImageScanFindings".to_owned(),
        choices: None,
        concepts: Vec::new(),
        misconceptions: Vec::new(),
        finding_field: Some(field.to_owned()),
        min_severity: None,
    }
}

fn question(field: &str) -> Question {
    Question::from_spec(spec(field)).unwrap_or_else(|problems| panic!("{problems:?}"))
}

fn finding(name: &str, severity: &str, package: &str) -> ScanFinding {
    ScanFinding {
        name: name.to_owned(),
        severity: severity.to_owned(),
        package_name: Some(package.to_owned()),
        package_version: Some("1.0-1".to_owned()),
    }
}

fn event(seq: u64, source: Source, action: &str) -> JournalEvent {
    JournalEvent {
        seq,
        time: format!("2026-03-01T10:{seq:02}:00Z"),
        account: "123456789012".to_owned(),
        region: "us-east-1".to_owned(),
        source,
        action: action.to_owned(),
        repository: Some("my-app".to_owned()),
        reference: Some("scan".to_owned()),
        digest: Some(IMAGE.to_owned()),
        host: None,
        user_agent: None,
        outcome: Outcome::Ok,
        error_code: None,
        message: None,
    }
}

/// Builds the evidence of one pushed image, scanned with `status` and `findings`.
fn evidence(status: &str, findings: Vec<ScanFinding>) -> Evidence {
    Evidence {
        events: vec![
            event(1, Source::Scanner, SCAN_STARTED),
            event(2, Source::Registry, "ManifestPut"),
            event(3, Source::Scanner, SCAN_COMPLETED),
        ],
        repositories: vec![RepositoryState {
            region: "us-east-1".to_owned(),
            name: "my-app".to_owned(),
            uri: "localhost:5000/my-app".to_owned(),
            tag_mutability: "IMMUTABLE".to_owned(),
            scan_on_push: true,
            images: vec![ImageState {
                digest: IMAGE.to_owned(),
                tags: vec!["scan".to_owned()],
                size_bytes: 4_096,
                manifest_media_type: None,
                pushed_at: None,
                scan: Some(ImageScan {
                    status: status.to_owned(),
                    description: None,
                    completed_at: None,
                    findings,
                }),
            }],
        }],
    }
}

fn vulnerable() -> Evidence {
    evidence(
        SCAN_COMPLETE,
        vec![
            finding("CVE-2024-5535", "CRITICAL", "libssl3"),
            finding("CVE-2023-4911", "HIGH", "libc6"),
            finding("CVE-2023-50495", "MEDIUM", "libtinfo6"),
        ],
    )
}

#[test]
fn package_answers_graded_against_findings() {
    let question = question("package_name").with_evidence(&vulnerable());
    for answer in ["libssl3", "LIBSSL3", "The package is libssl3.", "libc6"] {
        let grade = question.grade(answer).unwrap();
        assert!(grade.is_correct(), "{answer:?}: {grade:?}");
    }

    let lower = question.grade("libtinfo6").unwrap();
    assert_eq!(lower.verdict, Verdict::Incorrect);
    assert_eq!(
        lower.notes,
        [
            "package libtinfo6 has findings of severity MEDIUM in my-app:scan, and the question asks for HIGH or CRITICAL"
        ]
    );

    let unknown = question.grade("openssl").unwrap();
    assert_eq!(unknown.verdict, Verdict::Incorrect);
    assert_eq!(
        unknown.notes,
        ["package openssl is not the package_name of any finding of my-app:scan"]
    );
}

#[test]
fn cve_answers_graded_against_findings() {
    let question = question("name").with_evidence(&vulnerable());
    for answer in ["CVE-2024-5535", "cve-2024-5535", "It is CVE-2023-4911."] {
        let grade = question.grade(answer).unwrap();
        assert!(grade.is_correct(), "{answer:?}: {grade:?}");
    }

    let lower = question.grade("CVE-2023-50495").unwrap();
    assert_eq!(
        lower.notes,
        [
            "CVE-2023-50495 has findings of severity MEDIUM in my-app:scan, and the question asks for HIGH or CRITICAL"
        ]
    );
    let unknown = question.grade("CVE-2020-0001").unwrap();
    assert_eq!(
        unknown.notes,
        ["CVE-2020-0001 is not the name of any finding of my-app:scan"]
    );
}

#[test]
fn answers_without_one_value_are_unreadable() {
    let packages = question("package_name").with_evidence(&vulnerable());
    let cves = question("name").with_evidence(&vulnerable());

    let several = packages.grade("libssl3 and libc6").unwrap_err();
    assert_eq!(
        several.to_string(),
        "\"libssl3 and libc6\" gives several values of package_name (libssl3, libc6); answer with one"
    );
    let none = packages.grade("the openssl library").unwrap_err();
    assert!(
        matches!(
            none,
            AnswerError::NoFindingValue {
                field: "package_name",
                ..
            }
        ),
        "{none:?}"
    );
    let no_cve = cves.grade("the openssl bug").unwrap_err();
    assert!(
        matches!(no_cve, AnswerError::NoFindingValue { field: "name", .. }),
        "{no_cve:?}"
    );
    assert!(matches!(
        cves.grade("CVE-2024-5535 or CVE-2023-4911"),
        Err(AnswerError::SeveralFindingValues { .. })
    ));
    assert!(
        cves.grade("CVE-2024-5535, cve-2024-5535")
            .unwrap()
            .is_correct(),
        "the same id twice is one value"
    );
}

#[test]
fn correct_answer_lists_counted_findings() {
    let packages = question("package_name").with_evidence(&vulnerable());
    assert_eq!(
        packages.grade("libtinfo6").unwrap().correct_answer,
        "libssl3 (CRITICAL CVE-2024-5535 in my-app:scan); or libc6 (HIGH CVE-2023-4911 in my-app:scan)"
    );
    let cves = question("name").with_evidence(&vulnerable());
    assert_eq!(
        cves.grade("CVE-2020-0001").unwrap().correct_answer,
        "CVE-2024-5535 (CRITICAL in package libssl3 in my-app:scan); or CVE-2023-4911 (HIGH in package libc6 in my-app:scan)"
    );
}

#[test]
fn grading_waits_for_evidence() {
    let question = question("package_name");
    assert!(question.needs_evidence());
    assert_eq!(question.grade("libssl3"), Err(AnswerError::NoScanEvidence));
    assert_eq!(
        question.grading_unavailable(),
        Some(AnswerError::NoScanEvidence)
    );

    let unsupported = question.with_evidence(&evidence("UNSUPPORTED_IMAGE", Vec::new()));
    let expected = AnswerError::NoCompletedScan {
        severities: "HIGH or CRITICAL".to_owned(),
    };
    assert_eq!(unsupported.grade("libssl3"), Err(expected.clone()));

    let only_low = question.with_evidence(&evidence(
        SCAN_COMPLETE,
        vec![finding("CVE-2023-50495", "LOW", "libtinfo6")],
    ));
    assert_eq!(only_low.grading_unavailable(), Some(expected));
    assert_eq!(
        only_low.grade("libtinfo6").unwrap_err().to_string(),
        "no image you pushed has a COMPLETE scan with a finding of severity HIGH or CRITICAL yet, so this question cannot be graded; push the sample image in labs/push-to-ecr/scan-image with scan on push on, read its findings and answer again"
    );
    assert_eq!(
        question.grade_unanswered().correct_answer,
        "the package_name of a HIGH or CRITICAL finding of your image"
    );
}

#[test]
fn ungradable_answers_use_no_try() {
    let question = question("package_name");
    let answers = vec!["libssl3".to_owned()];

    let before = question.grade_attempts(&answers);
    assert_eq!(before.attempts[0].try_number, None);
    assert_eq!(before.score, 0.0);

    let after = question
        .with_evidence(&vulnerable())
        .grade_attempts(&answers);
    assert_eq!(after.attempts[0].try_number, Some(1));
    assert_eq!(after.score, 1.0);
}

#[test]
fn min_severity_critical_counts_only_critical() {
    let mut critical = spec("package_name");
    critical.min_severity = Some("CRITICAL".to_owned());
    let question = Question::from_spec(critical)
        .unwrap()
        .with_evidence(&vulnerable());

    assert!(question.grade("libssl3").unwrap().is_correct());
    assert_eq!(
        question.grade("libc6").unwrap().notes,
        [
            "package libc6 has findings of severity HIGH in my-app:scan, and the question asks for CRITICAL"
        ]
    );
}

#[test]
fn invalid_finding_specs_name_field_and_fix() {
    let problems = |spec: QuestionSpec| Question::from_spec(spec).unwrap_err();

    let mut missing = spec("name");
    missing.finding_field = None;
    let found = problems(missing);
    assert_eq!(found[0].field, SpecField::FindingField);
    assert!(
        found[0]
            .message
            .ends_with("set it to one of: name, package_name"),
        "{found:?}"
    );

    let found = problems(spec("cve"));
    assert_eq!(
        found[0].message,
        "unknown finding_field \"cve\"; use one of: name, package_name"
    );

    let mut severity = spec("name");
    severity.min_severity = Some("high".to_owned());
    let found = problems(severity);
    assert_eq!(found[0].field, SpecField::MinSeverity);
    assert!(
        found[0].message.contains("CRITICAL, HIGH, MEDIUM"),
        "{found:?}"
    );

    let mut accept = spec("name");
    accept.accept = vec!["CVE-2024-5535".to_owned()];
    assert_eq!(problems(accept)[0].field, SpecField::Accept(0));

    let mut misconception = spec("name");
    misconception.misconceptions = vec![MisconceptionSpec {
        answers: Some(vec!["CVE-2020-0001".to_owned()]),
        phrases: None,
        explanation: "Not in the image.".to_owned(),
    }];
    assert!(
        problems(misconception)
            .iter()
            .any(|problem| problem.field == SpecField::Misconception(0))
    );

    let mut number = spec("name");
    number.kind = QuestionKind::Number;
    number.answer = "5".to_owned();
    let found = problems(number);
    assert_eq!(found[0].field, SpecField::FindingField);
    assert!(
        found[0]
            .message
            .starts_with("finding_field only applies to `finding` questions"),
        "{found:?}"
    );
}
