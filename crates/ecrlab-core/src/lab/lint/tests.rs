//! Table-driven tests of the problems `lint` finds: each case edits a clean lab and names the
//! one problem it expects, with its exact line and column.

use super::*;

/// A small lab that lints clean; each case edits it to introduce one problem.
const CLEAN: &str = r#"format = 1
id = "tiny"
title = "Tiny lab"
version = "0.1.0"
summary = "A lab for tests."

[[steps]]
id = "create"
title = "Create a repository"
check = "repository-created"
instructions = "aws ecr create-repository --repository-name my-app"
hints = ["Use the AWS CLI.", "Run aws ecr create-repository."]

[[questions]]
id = "tags"
kind = "number"
prompt = "How many tags can one image have?"
answer = "1000"
explanation = "Up to 1,000."
source = "AWS ECR User Guide"

[[questions.misconceptions]]
answers = ["50"]
explanation = "50 is the resource tag limit."
"#;

/// One lint case: replacements that turn [`CLEAN`] into a file with one problem, and where
/// and what that problem is.
struct Case {
    name: &'static str,
    edits: &'static [(&'static str, &'static str)],
    severity: Severity,
    field: &'static str,
    /// Text at the problem's position in the edited file: the problem's line and column are
    /// those of the first byte of its first occurrence, plus `shift` bytes.
    at: &'static str,
    shift: usize,
    /// The start of the expected message.
    message: &'static str,
}

const fn error(
    name: &'static str,
    edits: &'static [(&'static str, &'static str)],
    field: &'static str,
    at: &'static str,
    message: &'static str,
) -> Case {
    Case {
        name,
        edits,
        severity: Severity::Error,
        field,
        at,
        shift: 0,
        message,
    }
}

const fn warning(
    name: &'static str,
    edits: &'static [(&'static str, &'static str)],
    field: &'static str,
    at: &'static str,
    message: &'static str,
) -> Case {
    Case {
        severity: Severity::Warning,
        ..error(name, edits, field, at, message)
    }
}

/// A `text` question without concepts, followed by the header of the next question, to put
/// in place of the first `[[questions]]` header.
const TEXT_QUESTION: &str = r#"[[questions]]
id = "immutability"
kind = "text"
prompt = "What is tag immutability?"
answer = "A pushed tag cannot be overwritten."
explanation = "Immutable tags cannot be overwritten."
source = "AWS ECR User Guide, Image tag mutability"

[[questions]]"#;

/// The last key of the question in [`CLEAN`], after which edits add question keys.
const QUESTION_END: &str = "source = \"AWS ECR User Guide\"";

/// Edits that turn the question of [`CLEAN`] into a `url` question.
const URL_QUESTION: [(&str, &str); 3] = [
    ("kind = \"number\"", "kind = \"url\""),
    (
        "answer = \"1000\"",
        "answer = \"https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com\"",
    ),
    ("answers = [\"50\"]", "answers = [\"public.ecr.aws\"]"),
];

/// A lab with every scoring key, valid: quiz-wide defaults, a `text` question with concept
/// credit and a `url` question with host credit and its own attempts.
const SCORED: &str = r#"format = 1
id = "tiny"
title = "Tiny lab"
version = "0.1.0"
summary = "A lab for tests."

[quiz]
attempts = 2
retry_penalty = 0.5
partial_credit = { concepts = true }

[[steps]]
id = "create"
title = "Create a repository"
check = "repository-created"
instructions = "aws ecr create-repository --repository-name my-app"
hints = ["Use the AWS CLI.", "Run aws ecr create-repository."]

[[questions]]
id = "immutability"
kind = "text"
prompt = "What is tag immutability?"
answer = "A pushed tag cannot be overwritten."
explanation = "Immutable tags cannot be overwritten."
source = "AWS ECR User Guide, Image tag mutability"

[[questions.concepts]]
name = "a pushed tag cannot be overwritten"
phrases = ["cannot overwr*"]

[[questions]]
id = "registry"
kind = "url"
prompt = "What is the URL of your default private registry?"
answer = "https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com"
explanation = "The host names the account and the Region."
source = "AWS ECR User Guide, Amazon ECR private registry"
attempts = 3
retry_penalty = 0.25
partial_credit = { host = 0.5 }
"#;

const CASES: &[Case] = &[
    error(
        "unterminated string",
        &[("title = \"Tiny lab\"", "title = \"Tiny lab")],
        "title",
        "\nversion",
        "invalid basic string",
    ),
    error(
        "missing comma in array",
        &[("\"Use the AWS CLI.\",", "\"Use the AWS CLI.\"")],
        "steps[0].hints[1]",
        "\"Run aws",
        "missing comma between array elements",
    ),
    error(
        "value without quotes",
        &[("summary = \"A lab for tests.\"", "summary = A lab")],
        "summary",
        "A lab",
        "string values must be quoted",
    ),
    error(
        "unknown top-level key",
        &[("summary =", "descripton = \"x\"\nsummary =")],
        "descripton",
        "descripton",
        "unknown key `descripton`; the top level of a lab file takes format, id, title, version, summary, steps, questions, quiz",
    ),
    error(
        "unknown misconception key",
        &[("answers = [\"50\"]", "answer = [\"50\"]")],
        "questions[0].misconceptions[0].answer",
        "answer = [",
        "unknown key `answer`; a [[questions.misconceptions]] table takes answers, phrases, explanation",
    ),
    error(
        "missing top-level key",
        &[("summary = \"A lab for tests.\"\n", "")],
        "summary",
        "format",
        "missing key `summary`; add summary = \"...\" to the top level of a lab file",
    ),
    error(
        "missing step key",
        &[("check = \"repository-created\"\n", "")],
        "steps[0].check",
        "[[steps]]",
        "missing key `check`; add check = \"...\" to a [[steps]] table",
    ),
    error(
        "missing misconception explanation",
        &[("explanation = \"50 is the resource tag limit.\"\n", "")],
        "questions[0].misconceptions[0].explanation",
        "[[questions.misconceptions]]",
        "missing key `explanation`",
    ),
    error(
        "format as string",
        &[("format = 1", "format = \"1\"")],
        "format",
        "\"1\"",
        "expected an integer, found a string; write it as format = 1",
    ),
    error(
        "hints as string",
        &[(
            "hints = [\"Use the AWS CLI.\", \"Run aws ecr create-repository.\"]",
            "hints = \"Use the AWS CLI.\"",
        )],
        "steps[0].hints",
        "\"Use the AWS CLI.\"",
        "expected an array of strings, found a string; write it as steps[0].hints = [\"...\"]",
    ),
    error(
        "hint as integer",
        &[("\"Run aws ecr create-repository.\"", "2")],
        "steps[0].hints[1]",
        "2]",
        "expected a string, found an integer; write each element in double quotes",
    ),
    error(
        "steps as plain table",
        &[("[[steps]]", "[steps]")],
        "steps",
        "[steps]",
        "expected an array of tables, found a table",
    ),
    error(
        "unsupported format",
        &[("format = 1", "format = 2")],
        "format",
        "2\n",
        "lab format 2 is not supported; this ecrlab reads format 1",
    ),
    error(
        "version with two parts",
        &[("version = \"0.1.0\"", "version = \"0.1\"")],
        "version",
        "\"0.1\"",
        "\"0.1\" is not a version of the form MAJOR.MINOR.PATCH",
    ),
    error(
        "version with suffix",
        &[("version = \"0.1.0\"", "version = \"0.1.0-beta\"")],
        "version",
        "\"0.1.0-beta\"",
        "\"0.1.0-beta\" is not a version of the form MAJOR.MINOR.PATCH",
    ),
    error(
        "invalid lab id",
        &[("id = \"tiny\"", "id = \"Tiny\"")],
        "id",
        "\"Tiny\"",
        "\"Tiny\" is not a valid id",
    ),
    error(
        "empty title",
        &[("title = \"Tiny lab\"", "title = \"  \"")],
        "title",
        "\"  \"",
        "title is empty; write it out",
    ),
    error(
        "empty hints",
        &[(
            "[\"Use the AWS CLI.\", \"Run aws ecr create-repository.\"]",
            "[]",
        )],
        "steps[0].hints",
        "[]",
        "hints is empty",
    ),
    error(
        "unknown check kind",
        &[("\"repository-created\"", "\"repo-created\"")],
        "steps[0].check",
        "\"repo-created\"",
        "unknown check kind \"repo-created\"",
    ),
    error(
        "unknown question kind",
        &[("kind = \"number\"", "kind = \"essay\"")],
        "questions[0].kind",
        "\"essay\"",
        "unknown question kind \"essay\"",
    ),
    error(
        "unreadable answer",
        &[("answer = \"1000\"", "answer = \"lots\"")],
        "questions[0].answer",
        "\"lots\"",
        "answer \"lots\" cannot be read",
    ),
    error(
        "empty source",
        &[("source = \"AWS ECR User Guide\"", "source = \"\"")],
        "questions[0].source",
        "\"\"\n",
        "source is empty",
    ),
    error(
        "choices on number question",
        &[(
            "answer = \"1000\"",
            "answer = \"1000\"\nchoices = [\"10\", \"1000\"]",
        )],
        "questions[0].choices",
        "[\"10\"",
        "choices only apply to `choice` questions",
    ),
    error(
        "choice question without choices",
        &[("kind = \"number\"", "kind = \"choice\"")],
        "questions[0].choices",
        "\"choice\"",
        "a `choice` question needs choices",
    ),
    error(
        "text question without concepts",
        &[("[[questions]]", TEXT_QUESTION)],
        "questions[0].concepts",
        "\"text\"",
        "a `text` question needs at least one concept",
    ),
    error(
        "concepts on number question",
        &[(
            "[[questions.misconceptions]]",
            "[[questions.concepts]]\nname = \"limit\"\nphrases = [\"1000\"]\n\n[[questions.misconceptions]]",
        )],
        "questions[0].concepts",
        "[[questions.concepts]]",
        "concepts only apply to `text` questions",
    ),
    error(
        "quiz attempts zero",
        &[("[[steps]]", "[quiz]\nattempts = 0\n\n[[steps]]")],
        "quiz.attempts",
        "0\n\n[[steps]]",
        "attempts is 0, but at least one attempt must count",
    ),
    error(
        "quiz attempts as float",
        &[("[[steps]]", "[quiz]\nattempts = 2.0\n\n[[steps]]")],
        "quiz.attempts",
        "2.0",
        "expected an integer, found a float; write it as quiz.attempts = 1",
    ),
    error(
        "quiz retry penalty above one",
        &[(
            "[[steps]]",
            "[quiz]\nattempts = 2\nretry_penalty = 1.5\n\n[[steps]]",
        )],
        "quiz.retry_penalty",
        "1.5",
        "retry_penalty is 1.5, but it is the share of the credit lost per retry",
    ),
    error(
        "quiz retry penalty with one attempt",
        &[("[[steps]]", "[quiz]\nretry_penalty = 0.5\n\n[[steps]]")],
        "quiz.retry_penalty",
        "0.5",
        "retry_penalty has no effect because only one attempt counts",
    ),
    error(
        "quiz retry penalty as string",
        &[(
            "[[steps]]",
            "[quiz]\nattempts = 2\nretry_penalty = \"half\"\n\n[[steps]]",
        )],
        "quiz.retry_penalty",
        "\"half\"",
        "expected a number, found a string; write it as quiz.retry_penalty = 0.5",
    ),
    error(
        "quiz host credit of zero",
        &[(
            "[[steps]]",
            "[quiz]\npartial_credit = { host = 0.0 }\n\n[[steps]]",
        )],
        "quiz.partial_credit.host",
        "0.0",
        "partial_credit.host is 0, but it is the credit of a partly correct URL",
    ),
    error(
        "quiz unknown key",
        &[("[[steps]]", "[quiz]\ntries = 2\n\n[[steps]]")],
        "quiz.tries",
        "tries",
        "unknown key `tries`; the [quiz] table takes attempts, retry_penalty, partial_credit, so check the spelling or remove the key",
    ),
    error(
        "quiz as integer",
        &[(
            "summary = \"A lab for tests.\"",
            "summary = \"A lab for tests.\"\nquiz = 2",
        )],
        "quiz",
        "2\n",
        "expected a table, found an integer; write it as quiz = { ... }",
    ),
    // The invalid quiz-wide host credit is left out of the defaults, but the valid attempts
    // stay, so the question's own retry penalty is not reported as having no effect.
    error(
        "quiz keeps valid defaults",
        &[
            (
                "[[steps]]",
                "[quiz]\nattempts = 2\npartial_credit = { host = 2 }\n\n[[steps]]",
            ),
            (
                QUESTION_END,
                "source = \"AWS ECR User Guide\"\nretry_penalty = 0.5",
            ),
        ],
        "quiz.partial_credit.host",
        "2 }",
        "partial_credit.host is 2",
    ),
    error(
        "question attempts negative",
        &[(
            QUESTION_END,
            "source = \"AWS ECR User Guide\"\nattempts = -1",
        )],
        "questions[0].attempts",
        "-1",
        "attempts is -1, but at least one attempt must count",
    ),
    error(
        "question retry penalty negative",
        &[(
            QUESTION_END,
            "source = \"AWS ECR User Guide\"\nattempts = 2\nretry_penalty = -0.25",
        )],
        "questions[0].retry_penalty",
        "-0.25",
        "retry_penalty is -0.25",
    ),
    error(
        "question retry penalty with one attempt",
        &[(
            QUESTION_END,
            "source = \"AWS ECR User Guide\"\nretry_penalty = 0.5",
        )],
        "questions[0].retry_penalty",
        "0.5",
        "retry_penalty has no effect because only one attempt counts",
    ),
    error(
        "concept credit on number question",
        &[(
            QUESTION_END,
            "source = \"AWS ECR User Guide\"\npartial_credit = { concepts = true }",
        )],
        "questions[0].partial_credit.concepts",
        "true",
        "partial_credit.concepts only applies to `text` questions, and this one is `number`",
    ),
    error(
        "host credit on number question",
        &[(
            QUESTION_END,
            "source = \"AWS ECR User Guide\"\npartial_credit = { host = 0.5 }",
        )],
        "questions[0].partial_credit.host",
        "0.5",
        "partial_credit.host only applies to `url` questions, and this one is `number`",
    ),
    error(
        "host credit of one",
        &[
            URL_QUESTION[0],
            URL_QUESTION[1],
            URL_QUESTION[2],
            (
                QUESTION_END,
                "source = \"AWS ECR User Guide\"\npartial_credit = { host = 1 }",
            ),
        ],
        "questions[0].partial_credit.host",
        "1 }",
        "partial_credit.host is 1, but it is the credit of a partly correct URL",
    ),
    error(
        "empty partial credit",
        &[(
            QUESTION_END,
            "source = \"AWS ECR User Guide\"\npartial_credit = {}",
        )],
        "questions[0].partial_credit",
        "{}",
        "partial_credit sets no rule",
    ),
    error(
        "concept credit as string",
        &[(
            QUESTION_END,
            "source = \"AWS ECR User Guide\"\npartial_credit = { concepts = \"yes\" }",
        )],
        "questions[0].partial_credit.concepts",
        "\"yes\"",
        "expected a boolean, found a string; write it as questions[0].partial_credit.concepts = true",
    ),
    error(
        "unknown partial credit key",
        &[(
            QUESTION_END,
            "source = \"AWS ECR User Guide\"\npartial_credit = { hosts = 0.5 }",
        )],
        "questions[0].partial_credit.hosts",
        "hosts",
        "unknown key `hosts`; a partial_credit table takes concepts, host, so check the spelling or remove the key",
    ),
    warning(
        "one hint",
        &[(
            "[\"Use the AWS CLI.\", \"Run aws ecr create-repository.\"]",
            "[\"Run aws ecr create-repository.\"]",
        )],
        "steps[0].hints",
        "[\"Run aws",
        "the step has one hint",
    ),
    warning(
        "hints that shrink",
        &[(
            "[\"Use the AWS CLI.\", \"Run aws ecr create-repository.\"]",
            "[\"Run aws ecr create-repository.\", \"Use the AWS CLI.\"]",
        )],
        "steps[0].hints[1]",
        "\"Use the AWS CLI.\"",
        "hint 2 (16 characters) is not longer than hint 1 (30 characters)",
    ),
    warning(
        "lab without questions",
        &[("[[questions]]", "[[removed]]")],
        "questions",
        "\"tiny\"",
        "the lab has no quiz",
    ),
];

/// Returns the 1-based line and column of a byte offset, counted independently of the code
/// under test.
fn position(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = offset - before.rfind('\n').map_or(0, |newline| newline + 1) + 1;
    (line, column)
}

fn apply(case: &Case) -> String {
    let mut text = CLEAN.to_owned();
    for (from, to) in case.edits {
        assert!(
            text.contains(from),
            "{}: {from:?} is not in the lab",
            case.name
        );
        text = text.replacen(from, to, 1);
    }
    // The lab-without-questions case removes the questions by renaming their tables, which
    // leaves unknown keys; strip everything from the renamed table on.
    if let Some(start) = text.find("[[removed]]") {
        text.truncate(start);
    }
    text
}

#[test]
fn clean_lab_has_no_problems() {
    let report = lint(CLEAN, "lab.toml");
    assert!(report.is_valid());
    assert_eq!(report.problems, Vec::new());
}

#[test]
fn lint_cases_find_one_problem_each() {
    for case in CASES {
        let text = apply(case);
        let report = lint(&text, "lab.toml");
        let [problem] = report.problems.as_slice() else {
            panic!(
                "{}: expected one problem, got {:#?}",
                case.name, report.problems
            );
        };

        let offset = text
            .find(case.at)
            .unwrap_or_else(|| panic!("{}: {:?} is not in the edited lab", case.name, case.at))
            + case.shift;
        let (line, column) = position(&text, offset);
        assert_eq!(problem.severity, case.severity, "{}", case.name);
        assert_eq!(problem.field, case.field, "{}", case.name);
        assert_eq!(
            (problem.line, problem.column),
            (line, column),
            "{}: {}",
            case.name,
            problem.message
        );
        assert!(
            problem.message.starts_with(case.message),
            "{}: {}",
            case.name,
            problem.message
        );
        assert_eq!(
            report.is_valid(),
            case.severity == Severity::Warning,
            "{}",
            case.name
        );
    }
}

#[test]
fn scored_lab_has_no_problems() {
    let report = lint(SCORED, "lab.toml");
    assert_eq!(report.problems, Vec::new());
    let lab = report.lab.expect("the lab is valid");

    let text = lab
        .question("immutability")
        .expect("text question")
        .scoring();
    assert_eq!(text.attempts, 2);
    assert_eq!(text.retry_penalty, 0.5);
    assert!(text.concept_credit);
    assert_eq!(text.host_credit, None);

    let url = lab.question("registry").expect("url question").scoring();
    assert_eq!(url.attempts, 3);
    assert_eq!(url.retry_penalty, 0.25);
    assert_eq!(url.host_credit, Some(0.5));
}

#[test]
fn problem_displays_compiler_style() {
    let text = CLEAN.replace("id = \"create\"", "id = \"Create\"");
    let report = lint(&text, "labs/tiny/lab.toml");
    let lines: Vec<String> = report
        .problems
        .iter()
        .map(|problem| problem.display_at(&report.origin))
        .collect();
    assert_eq!(
        lines,
        vec![
            "labs/tiny/lab.toml:8:6: error: steps[0].id: \"Create\" is not a valid id; use lowercase letters, digits and single hyphens, starting with a letter (for example push-image)"
        ]
    );
}

#[test]
fn last_command_hint_may_be_shorter() {
    let text = CLEAN.replace(
        "[\"Use the AWS CLI.\", \"Run aws ecr create-repository.\"]",
        "[\"The AWS CLI creates repositories with aws ecr.\", \"Run: aws ecr create-repository\"]",
    );
    let report = lint(&text, "lab.toml");
    assert_eq!(report.problems, Vec::new());

    let text = text.replace("\"Run: aws", "\"Type aws");
    let report = lint(&text, "lab.toml");
    let fields: Vec<&str> = report
        .problems
        .iter()
        .map(|problem| problem.field.as_str())
        .collect();
    assert_eq!(fields, vec!["steps[0].hints[1]"]);
}

#[test]
fn warnings_do_not_fail_parse() {
    let text = CLEAN.replace("\"Use the AWS CLI.\", ", "");
    let report = lint(&text, "lab.toml");
    assert_eq!(report.warning_count(), 1);
    assert_eq!(report.error_count(), 0);
    assert!(Lab::parse(&text, "lab.toml").is_ok());
}

#[test]
fn errors_and_warnings_are_counted() {
    let text = CLEAN
        .replace("\"Use the AWS CLI.\", ", "")
        .replace("format = 1", "format = 3");
    let report = lint(&text, "lab.toml");
    assert_eq!(report.error_count(), 1);
    assert_eq!(report.warning_count(), 1);
    assert!(!report.is_valid());
}

#[test]
fn builtin_lab_has_no_errors() {
    let report = lint(
        super::super::BUILTIN_PUSH_TO_ECR,
        "labs/push-to-ecr/lab.toml",
    );
    assert_eq!(report.error_count(), 0, "{:#?}", report.problems);
}

/// Writes [`CLEAN`], whose id is `tiny`, to `<temporary folder>/<folder>/<file>` and lints it.
fn lint_clean_lab_at(folder: &str, file: &str) -> LintReport {
    let root = std::env::temp_dir().join(format!(
        "ecrlab-lint-{}-{folder}-{file}",
        std::process::id()
    ));
    let path = root.join(folder).join(file);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, CLEAN).unwrap();
    let report = lint_path(&path).expect("the lab file is readable");
    std::fs::remove_dir_all(&root).unwrap();
    report
}

#[test]
fn id_differing_from_folder_warns() {
    let report = lint_clean_lab_at("tiny-lab", "lab.toml");
    assert_eq!(report.error_count(), 0, "{:#?}", report.problems);
    assert_eq!(report.warning_count(), 1, "{:#?}", report.problems);
    let problem = &report.problems[0];
    assert_eq!(problem.severity, Severity::Warning);
    assert_eq!((problem.line, problem.column), (2, 6));
    assert_eq!(problem.field, "id");
    assert!(
        problem
            .message
            .starts_with("the lab's id \"tiny\" differs from its folder name \"tiny-lab\"; "),
        "{}",
        problem.message
    );
}

#[test]
fn id_matching_folder_is_clean() {
    let report = lint_clean_lab_at("tiny", "lab.toml");
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
}

#[test]
fn folder_is_ignored_for_other_file_names() {
    let report = lint_clean_lab_at("drafts", "tiny.toml");
    assert!(report.problems.is_empty(), "{:#?}", report.problems);
}
