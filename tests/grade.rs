//! `ecrlab grade`: re-grading submissions from their evidence, the flags for every kind of
//! tampering, the class outputs pinned by snapshots, and the command's exit status.

mod report_fixture;

use ecrlab_core::report::{
    FlagKind, GradedSubmission, InstructorKey, SignatureStatus, grade_class, regrade,
};
use report_fixture::{
    completed_evidence, instructor_key, lab, partial_evidence, submission, submission_json,
};
use serde_json::Value;

/// Returns the JSON of `student`'s completed, or partial, submission.
fn json_of(student: &str, completed: bool, key: Option<&InstructorKey>) -> String {
    let evidence = if completed {
        completed_evidence()
    } else {
        partial_evidence()
    };
    submission_json(&submission(student, &evidence, key))
}

/// Applies `edit` to the parsed JSON and serializes it again, as a student editing the
/// file would.
fn tamper(json: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut value: Value = serde_json::from_str(json).unwrap();
    edit(&mut value);
    serde_json::to_string_pretty(&value).unwrap()
}

fn regrade_text(text: &str, key: Option<&InstructorKey>) -> GradedSubmission {
    regrade("student.json", text, &lab(), key).expect("the submission is readable")
}

/// Asserts that a flag of `kind` exists and its reason contains `needle`.
fn assert_flag(graded: &GradedSubmission, kind: FlagKind, needle: &str) {
    let found = graded
        .flags
        .iter()
        .any(|flag| flag.kind == kind && flag.reason.contains(needle));
    assert!(
        found,
        "no {kind:?} flag contains {needle:?}: {:#?}",
        graded.flags
    );
}

fn flag_kinds(graded: &GradedSubmission) -> Vec<FlagKind> {
    graded.flags.iter().map(|flag| flag.kind).collect()
}

#[test]
fn untouched_submission_has_no_flags() {
    let graded = regrade_text(&json_of("Ada", true, None), None);
    assert!(graded.flags.is_empty(), "{:#?}", graded.flags);
    assert!(graded.passed);
    assert_eq!(graded.signature, SignatureStatus::Unsigned);
    assert_eq!(graded.quiz_score, 1.0);
}

#[test]
fn edited_verdict_flagged() {
    let json = tamper(&json_of("Ada", false, None), |value| {
        value["steps"][3]["passed"] = Value::Bool(true);
    });
    let graded = regrade_text(&json, None);

    assert_flag(
        &graded,
        FlagKind::VerdictMismatch,
        "step push is stored as passed, but re-grading its journal and repository state fails it",
    );
    assert!(!graded.steps[3].passed);
    assert!(!graded.passed);
}

#[test]
fn edited_overall_verdict_flagged() {
    let json = tamper(&json_of("Ada", false, None), |value| {
        value["passed"] = Value::Bool(true);
    });
    let graded = regrade_text(&json, None);
    assert_eq!(flag_kinds(&graded), [FlagKind::VerdictMismatch]);
    assert_flag(
        &graded,
        FlagKind::VerdictMismatch,
        "the submission is stored as passed",
    );
}

#[test]
fn removed_event_flagged() {
    let json = tamper(&json_of("Ada", true, None), |value| {
        value["journal"].as_array_mut().unwrap().remove(2);
    });
    let graded = regrade_text(&json, None);

    assert_flag(
        &graded,
        FlagKind::EventRemoved,
        "the journal has no event seq 3, between seq 2 and seq 4",
    );
    assert_flag(
        &graded,
        FlagKind::HashChainBroken,
        "journal entry 3 (seq 4)",
    );
}

#[test]
fn removed_last_event_flagged() {
    let json = tamper(&json_of("Ada", true, None), |value| {
        value["journal"].as_array_mut().unwrap().pop();
    });
    let graded = regrade_text(&json, None);

    assert_flag(
        &graded,
        FlagKind::JournalHashMismatch,
        "events were removed from the end of the journal",
    );
    assert!(!flag_kinds(&graded).contains(&FlagKind::HashChainBroken));
}

#[test]
fn reordered_events_flagged() {
    let json = tamper(&json_of("Ada", true, None), |value| {
        value["journal"].as_array_mut().unwrap().swap(3, 4);
    });
    let graded = regrade_text(&json, None);

    assert_flag(
        &graded,
        FlagKind::EventsOutOfOrder,
        "event seq 4 comes after seq 5",
    );
    assert_flag(
        &graded,
        FlagKind::HashChainBroken,
        "journal entry 4 (seq 5)",
    );
    // Every sequence number is still in the file, so nothing was removed.
    assert!(
        !flag_kinds(&graded).contains(&FlagKind::EventRemoved),
        "{:#?}",
        graded.flags
    );
}

#[test]
fn removed_and_reordered_events_flagged_separately() {
    let json = tamper(&json_of("Ada", true, None), |value| {
        let journal = value["journal"].as_array_mut().unwrap();
        journal.remove(1);
        journal.swap(2, 3);
    });
    let graded = regrade_text(&json, None);

    let removed: Vec<&str> = graded
        .flags
        .iter()
        .filter(|flag| flag.kind == FlagKind::EventRemoved)
        .map(|flag| flag.reason.as_str())
        .collect();
    assert_eq!(
        removed,
        [
            "the journal has no event seq 2, between seq 1 and seq 3: the mock numbers events from 1 without gaps"
        ]
    );
    assert_flag(
        &graded,
        FlagKind::EventsOutOfOrder,
        "event seq 4 comes after seq 5",
    );
}

#[test]
fn removed_first_events_flagged() {
    let json = tamper(&json_of("Ada", true, None), |value| {
        let journal = value["journal"].as_array_mut().unwrap();
        journal.drain(0..2);
    });
    let graded = regrade_text(&json, None);
    assert_flag(
        &graded,
        FlagKind::EventRemoved,
        "the journal has no event seq 1 to 2, before seq 3",
    );
}

#[test]
fn reordered_events_with_hashes_flagged() {
    // Moving whole entries, hashes included, still breaks the chain.
    let json = tamper(&json_of("Ada", true, None), |value| {
        let journal = value["journal"].as_array_mut().unwrap();
        journal.swap(1, 2);
    });
    let graded = regrade_text(&json, None);
    assert_flag(
        &graded,
        FlagKind::HashChainBroken,
        "journal entry 2 (seq 3)",
    );
    assert_flag(
        &graded,
        FlagKind::EventsOutOfOrder,
        "event seq 2 comes after seq 3",
    );
}

#[test]
fn edited_event_flagged() {
    let json = tamper(&json_of("Ada", false, None), |value| {
        value["journal"][1]["event"]["outcome"] = Value::String("error".to_owned());
    });
    let graded = regrade_text(&json, None);
    assert_flag(
        &graded,
        FlagKind::HashChainBroken,
        "this event or one before it was edited, removed or reordered",
    );
}

#[test]
fn foreign_account_flagged() {
    let json = tamper(&json_of("Ada", true, None), |value| {
        value["journal"][0]["event"]["account"] = Value::String("999999999999".to_owned());
    });
    let graded = regrade_text(&json, None);
    assert_flag(
        &graded,
        FlagKind::ForeignAccount,
        "1 journal event names another account than the mock's 123456789012, the first seq 1 with account 999999999999",
    );
}

#[test]
fn edited_repository_state_flagged() {
    let json = tamper(&json_of("Ada", false, None), |value| {
        value["repositories"][0]["tagMutability"] = Value::String("MUTABLE".to_owned());
    });
    let graded = regrade_text(&json, None);
    assert_eq!(flag_kinds(&graded), [FlagKind::RepositoriesHashMismatch]);
}

#[test]
fn lab_version_mismatch_flagged() {
    let json = tamper(&json_of("Ada", true, None), |value| {
        value["lab"]["version"] = Value::String("1.0.0".to_owned());
    });
    let graded = regrade_text(&json, None);
    assert_eq!(flag_kinds(&graded), [FlagKind::LabMismatch]);
    assert_flag(
        &graded,
        FlagKind::LabMismatch,
        "for lab push-fixture 1.0.0, but grading uses push-fixture 2.0.0",
    );
}

#[test]
fn lab_patch_version_difference_not_flagged() {
    let json = tamper(&json_of("Ada", true, None), |value| {
        value["lab"]["version"] = Value::String("2.0.7".to_owned());
    });
    let graded = regrade_text(&json, None);
    assert_eq!(flag_kinds(&graded), Vec::<FlagKind>::new());
}

#[test]
fn edited_quiz_grade_flagged() {
    let json = tamper(&json_of("Ada", true, None), |value| {
        value["quiz"]["answers"][1]["verdict"] = Value::String("correct".to_owned());
        value["quiz"]["answers"][1]["score"] = Value::from(1.0);
        value["quiz"]["score"] = Value::from(2.0);
    });
    let graded = regrade_text(&json, None);

    assert_flag(
        &graded,
        FlagKind::QuizMismatch,
        "question tags-per-image is stored as correct (1 point), but re-grading the answers gives incorrect (0 points)",
    );
    assert_flag(
        &graded,
        FlagKind::QuizMismatch,
        "the quiz score is stored as 2, but re-grading the answers gives 1",
    );
    assert_eq!(graded.quiz_score, 1.0);
}

#[test]
fn wrong_key_signature_flagged() {
    let other = InstructorKey::from_secret(b"another-instructors-secret-987654");
    let json = json_of("Ada", true, Some(&other));
    let graded = regrade_text(&json, Some(&instructor_key()));

    assert_eq!(graded.signature, SignatureStatus::Invalid);
    assert_flag(
        &graded,
        FlagKind::SignatureInvalid,
        &format!(
            "made with instructor key {}, not with the grading key {}",
            other.id(),
            instructor_key().id()
        ),
    );
}

#[test]
fn edit_after_signing_flagged() {
    let key = instructor_key();
    let json = tamper(&json_of("Ada", true, Some(&key)), |value| {
        value["student"] = Value::String("Mallory".to_owned());
    });
    let graded = regrade_text(&json, Some(&key));

    assert_eq!(graded.signature, SignatureStatus::Invalid);
    assert_eq!(flag_kinds(&graded), [FlagKind::SignatureInvalid]);
    assert_flag(
        &graded,
        FlagKind::SignatureInvalid,
        "the file was edited after it was signed",
    );
}

#[test]
fn forged_signature_value_flagged() {
    let key = instructor_key();
    let json = tamper(&json_of("Ada", true, Some(&key)), |value| {
        value["signature"]["value"] = Value::String("00".repeat(32));
    });
    let graded = regrade_text(&json, Some(&key));
    assert_eq!(graded.signature, SignatureStatus::Invalid);
}

#[test]
fn unsigned_with_key_flagged() {
    let graded = regrade_text(&json_of("Ada", true, None), Some(&instructor_key()));
    assert_eq!(graded.signature, SignatureStatus::Unsigned);
    assert_eq!(flag_kinds(&graded), [FlagKind::SignatureMissing]);
}

#[test]
fn signed_without_key_not_checked() {
    let graded = regrade_text(&json_of("Ada", true, Some(&instructor_key())), None);
    assert_eq!(graded.signature, SignatureStatus::NotChecked);
    assert!(graded.flags.is_empty(), "{:#?}", graded.flags);
}

#[test]
fn signature_survives_reformatting() {
    let key = instructor_key();
    let json = json_of("Ada", true, Some(&key));
    let compact = serde_json::to_string(&serde_json::from_str::<Value>(&json).unwrap()).unwrap();
    let graded = regrade_text(&compact, Some(&key));
    assert_eq!(graded.signature, SignatureStatus::Valid);
}

#[test]
fn copied_journal_flagged() {
    let ada = json_of("Ada", true, None);
    let copy = json_of("Mallory", true, None);
    let class = grade_class(
        &lab(),
        &[
            ("ada.json".to_owned(), ada),
            ("mallory.json".to_owned(), copy),
        ],
        None,
    );
    assert_flag(
        &class.submissions[1],
        FlagKind::DuplicateJournal,
        "identical to that of ada.json (Ada)",
    );
    assert_flag(
        &class.submissions[0],
        FlagKind::DuplicateJournal,
        "identical to that of mallory.json (Mallory)",
    );
}

#[test]
fn unreadable_files_reported() {
    let class = grade_class(
        &lab(),
        &[
            ("notes.json".to_owned(), "not json".to_owned()),
            ("other.json".to_owned(), r#"{"name": "x"}"#.to_owned()),
            (
                "future.json".to_owned(),
                r#"{"format": "ecrlab-submission/9"}"#.to_owned(),
            ),
            (
                "broken.json".to_owned(),
                r#"{"format": "ecrlab-submission/1"}"#.to_owned(),
            ),
        ],
        None,
    );
    let messages: Vec<String> = class.errors.iter().map(ToString::to_string).collect();
    assert_eq!(messages.len(), 4);
    assert!(
        messages[0].starts_with("notes.json is not valid JSON"),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("it has no \"format\" member"),
        "{messages:?}"
    );
    assert!(
        messages[2].contains("has format \"ecrlab-submission/9\""),
        "{messages:?}"
    );
    assert!(
        messages[3].starts_with("broken.json is not an ecrlab submission (missing field"),
        "{messages:?}"
    );
    assert_eq!(class.summary.unreadable, 4);
    assert_eq!(class.summary.submissions, 0);
}

/// Returns a class of three: a complete signed submission, a partial one, and a partial one whose
/// push verdict was edited.
fn class_files() -> Vec<(String, String)> {
    let key = instructor_key();
    // Mallory worked two hours later, so her journal differs from Alan's.
    let mut evidence = partial_evidence();
    for event in &mut evidence.events {
        event.time = event.time.replace("T09:", "T11:");
    }
    let signed = submission_json(&submission("Mallory", &evidence, Some(&key)));
    let edited = tamper(&signed, |value| {
        value["steps"][3]["passed"] = Value::Bool(true);
    });
    vec![
        (
            "ada.json".to_owned(),
            json_of("Ada Lovelace", true, Some(&key)),
        ),
        (
            "alan.json".to_owned(),
            json_of("=Alan, Turing", false, Some(&key)),
        ),
        ("mallory.json".to_owned(), edited),
    ]
}

#[test]
fn class_csv_snapshot() {
    let class = grade_class(&lab(), &class_files(), Some(&instructor_key()));
    insta::assert_snapshot!(class.render_csv());
}

#[test]
fn class_summary_snapshot() {
    let class = grade_class(&lab(), &class_files(), Some(&instructor_key()));
    insta::assert_snapshot!(class.render_summary());
}

#[test]
fn class_json_snapshot() {
    let class = grade_class(&lab(), &class_files(), Some(&instructor_key()));
    insta::assert_snapshot!(class.render_json());
}

#[test]
fn class_junit_snapshot() {
    let mut files = class_files();
    files.push(("notes.json".to_owned(), "not json".to_owned()));
    let class = grade_class(&lab(), &files, Some(&instructor_key()));
    insta::assert_snapshot!(class.render_junit());
}

fn run_grade(arguments: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_ecrlab"))
        .args(arguments)
        .env_remove("ECRLAB_INSTRUCTOR_KEY")
        .env("NO_COLOR", "1")
        .output()
        .expect("run ecrlab")
}

#[test]
fn grade_command_prints_csv_and_summary() {
    let work = tempfile::tempdir().unwrap();
    let lab_path = report_fixture::write_lab(work.path());
    let folder = work.path().join("submissions");
    std::fs::create_dir(&folder).unwrap();
    for (name, text) in class_files() {
        std::fs::write(folder.join(name), text).unwrap();
    }
    std::fs::write(folder.join("README.txt"), "not a submission").unwrap();

    let output = run_grade(&[
        "grade",
        folder.to_str().unwrap(),
        "--format",
        "csv",
        "--lab",
        lab_path.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stderr:\n{stderr}");
    assert_eq!(stdout.lines().count(), 4, "{stdout}");
    assert!(stdout.starts_with("file,student,lab,"), "{stdout}");
    assert!(
        stderr.contains("3 submissions, 1 passed every step, 1 flagged"),
        "{stderr}"
    );
}

#[test]
fn grade_command_fails_on_unreadable_submission() {
    let work = tempfile::tempdir().unwrap();
    let lab_path = report_fixture::write_lab(work.path());
    let folder = work.path().join("submissions");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("ada.json"), json_of("Ada", true, None)).unwrap();
    std::fs::write(folder.join("notes.json"), "{ not json").unwrap();

    let output = run_grade(&[
        "grade",
        folder.to_str().unwrap(),
        "--format",
        "json",
        "--lab",
        lab_path.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr:\n{stderr}");
    assert!(
        stderr.contains("ecrlab: error: notes.json is not valid JSON"),
        "{stderr}"
    );
    let class: Value = serde_json::from_slice(&output.stdout).expect("JSON on stdout");
    assert_eq!(class["submissions"][0]["student"], "Ada");
}

#[test]
fn grade_command_rejects_missing_folder() {
    let work = tempfile::tempdir().unwrap();
    let missing = work.path().join("missing");
    let output = run_grade(&["grade", missing.to_str().unwrap(), "--format", "csv"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1));
    // The folder, then the OS error, then the fix.
    let prefix = format!(
        "ecrlab: error: failed to list submissions folder {}: ",
        missing.display()
    );
    let fix = "; pass the folder that contains the students' JSON reports\n";
    assert!(stderr.starts_with(&prefix), "{stderr}");
    assert!(stderr.ends_with(fix), "{stderr}");
    let os_error = &stderr[prefix.len()..stderr.len() - fix.len()];
    assert!(os_error.contains("(os error "), "{stderr}");
}

#[test]
fn grade_command_defaults_to_csv() {
    let work = tempfile::tempdir().unwrap();
    let lab_path = report_fixture::write_lab(work.path());
    let folder = work.path().join("submissions");
    std::fs::create_dir(&folder).unwrap();
    std::fs::write(folder.join("ada.json"), json_of("Ada", true, None)).unwrap();

    let output = run_grade(&[
        "grade",
        folder.to_str().unwrap(),
        "--lab",
        lab_path.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stderr:\n{stderr}");
    assert!(stdout.starts_with("file,student,lab,"), "{stdout}");
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(
        stderr
            .starts_with("Class summary for push-fixture 2.0.0: 1 submission, 1 passed every step"),
        "{stderr}"
    );
    assert!(
        stderr.contains("  quiz: average 1 of 2 points\n"),
        "{stderr}"
    );
}

#[test]
fn grade_command_reports_empty_folder() {
    let work = tempfile::tempdir().unwrap();
    let lab_path = report_fixture::write_lab(work.path());
    let folder = work.path().join("submissions");
    std::fs::create_dir(&folder).unwrap();

    let output = run_grade(&[
        "grade",
        folder.to_str().unwrap(),
        "--lab",
        lab_path.to_str().unwrap(),
    ]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "stderr:\n{stderr}");
    assert!(
        stderr.contains(&format!(
            "ecrlab: warning: submissions folder {} contains no .json files",
            folder.display()
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("Class summary for push-fixture 2.0.0: no submissions\n"),
        "{stderr}"
    );
    assert!(!stderr.contains("average"), "{stderr}");
}

#[test]
fn class_summary_without_readable_submissions() {
    let class = grade_class(
        &lab(),
        &[("notes.json".to_owned(), "not json".to_owned())],
        None,
    );
    assert_eq!(
        class.render_summary(),
        "Class summary for push-fixture 2.0.0: no readable submissions, 1 unreadable\n"
    );
}

#[test]
fn junit_classnames_have_no_file_extension() {
    let mut files = class_files();
    files.push(("notes.v2.json".to_owned(), "not json".to_owned()));
    let junit = grade_class(&lab(), &files, None).render_junit();

    let classnames: Vec<&str> = junit
        .lines()
        .filter_map(|line| line.split("classname=\"").nth(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    assert!(!classnames.is_empty(), "{junit}");
    for classname in &classnames {
        assert!(classname.starts_with("ecrlab.push-fixture."), "{classname}");
        assert!(!classname.contains(".json"), "{classname}");
    }
    assert!(classnames.contains(&"ecrlab.push-fixture.Ada Lovelace.steps"));
    assert!(classnames.contains(&"ecrlab.push-fixture.notes_v2_json.submission"));
}

#[test]
fn junit_quiz_failure_carries_feedback() {
    let junit = grade_class(&lab(), &class_files(), None).render_junit();
    let expected = "<failure message=\"incorrect\">incorrect, 0 points\n\
        &quot;100&quot;: incorrect, counted for 0 points\n\
        &quot;1000&quot;: correct, not counted because the question allows only 1 try\n\
        correct answer: 1,000\n\
        explanation: One image can carry up to 1,000 tags.</failure>";
    assert!(junit.contains(expected), "{junit}");
}
