use ecrlab_core::lab::lint;

use super::*;

/// A valid lab with a choice question, so `lab show` prints choices.
const TINY: &str = r#"format = 1
id = "tiny"
title = "Tiny lab"
version = "0.2.0"
summary = "A lab for tests, with a summary long enough to wrap: it names the repository, the registry host and the one command that creates the repository."

[[steps]]
id = "create"
title = "Create a repository"
check = "repository-created"
instructions = """
Create the repository:

    aws ecr create-repository --repository-name my-app
"""
hints = ["Use the AWS CLI.", "Run: aws ecr create-repository --repository-name my-app"]

[[questions]]
id = "mutability"
kind = "choice"
prompt = "Which setting stops a pushed tag from moving to another image?"
choices = ["scanOnPush", "imageTagMutability = IMMUTABLE", "encryptionType"]
answer = "imageTagMutability = IMMUTABLE"
explanation = "Immutable tags cannot be moved."
source = "AWS ECR User Guide, Image tag mutability"
"#;

/// Returns the same lab with two errors and one warning.
fn broken() -> String {
    TINY.replace("id = \"create\"", "id = \"Create\"")
        .replace("\"Use the AWS CLI.\", ", "")
        .replace("version = \"0.2.0\"", "version = \"0.2\"")
}

fn entry(text: &str, path: &str) -> CatalogEntry {
    CatalogEntry {
        source: LabSource::File(PathBuf::from(path)),
        report: lint(text, path),
    }
}

#[test]
fn show_builtin_lab() {
    let lab = Lab::builtin_push_to_ecr();
    insta::assert_snapshot!(render_show(&lab, &LabSource::BuiltIn));
}

#[test]
fn show_lab_with_choices() {
    let lab = Lab::parse(TINY, "labs/tiny/lab.toml").expect("valid lab");
    let text = render_show(&lab, &LabSource::File(PathBuf::from("labs/tiny/lab.toml")));
    insta::assert_snapshot!(text);
}

#[test]
fn show_leaves_out_hints_and_answers() {
    let lab = Lab::builtin_push_to_ecr();
    let text = render_show(&lab, &LabSource::BuiltIn);
    for step in &lab.steps {
        for hint in &step.hints {
            assert!(!text.contains(hint.as_str()), "hint shown: {hint}");
        }
    }
    for question in &lab.questions {
        assert!(
            !text.contains(question.explanation()),
            "explanation shown for {}",
            question.id()
        );
    }
}

#[test]
fn list_valid_and_invalid_labs() {
    let mut catalog = Catalog::discover(None).expect("the built-in catalog");
    catalog
        .entries
        .push(entry(&broken(), "labs/broken/lab.toml"));
    catalog.entries.push(entry(TINY, "labs/tiny/lab.toml"));
    insta::assert_snapshot!(render_list(&catalog));
}

#[test]
fn list_shows_first_error_of_invalid_lab() {
    let catalog = Catalog {
        entries: vec![entry(&broken(), "labs/broken/lab.toml")],
    };
    let text = render_list(&catalog);
    let row = text.lines().nth(1).expect("one row after the header");
    assert!(row.starts_with("broken  invalid"), "{row}");
    assert!(
        row.ends_with(
            "labs/broken/lab.toml:4:11: error: version: \"0.2\" is not a version of the form MAJOR.MINOR.PATCH; write it like \"1.0.0\" (and 1 more; run ecrlab lab lint labs/broken/lab.toml)"
        ),
        "{row}"
    );
}

#[test]
fn lint_output_lists_problems_then_nothing() {
    let report = lint(&broken(), "labs/broken/lab.toml");
    insta::assert_snapshot!(render_lint(&report));
}

#[test]
fn lint_output_of_clean_lab_is_ok() {
    let report = lint(TINY, "labs/tiny/lab.toml");
    assert_eq!(render_lint(&report), "labs/tiny/lab.toml: ok\n");

    let one_hint = TINY.replace("\"Use the AWS CLI.\", ", "");
    let report = lint(&one_hint, "labs/tiny/lab.toml");
    assert!(
        render_lint(&report).ends_with("labs/tiny/lab.toml: ok, 1 warning\n"),
        "{}",
        render_lint(&report)
    );
}

#[test]
fn wrap_breaks_at_width() {
    let cases = [
        ("one two three", 7, "one two\nthree"),
        ("one two three", 80, "one two three"),
        ("a verylongword b", 4, "a\nverylongword\nb"),
        ("first para\n\nsecond para", 80, "first para\n\nsecond para"),
    ];
    for (text, width, expected) in cases {
        assert_eq!(wrap(text, width), expected, "{text:?} at {width}");
    }
}
