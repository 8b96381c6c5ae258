//! The text, Markdown and JUnit XML forms of a submission, for people and CI.

use std::fmt::Write as _;

use super::{AttemptStatus, GradedAttempt, Submission, SubmittedAnswer};
use crate::evidence::{JournalEvent, Outcome};

// Writing to a String cannot fail, so the `fmt::Result`s below are ignored.

pub(super) fn text(submission: &Submission) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} ({})",
        submission.lab.id, submission.lab.version, submission.lab.title
    );
    for (name, value) in header_fields(submission) {
        let _ = writeln!(out, "{name:<10} {value}");
    }

    let _ = writeln!(
        out,
        "\nSteps: {} of {} passed",
        passed_steps(submission),
        submission.steps.len()
    );
    for step in &submission.steps {
        let verdict = if step.passed { "PASS" } else { "FAIL" };
        let _ = writeln!(out, "{verdict} {}: {}", step.id, step.title);
        for sentence in &step.evidence {
            let _ = writeln!(out, "     - {sentence}");
        }
    }

    let _ = writeln!(out, "\nQuiz: {}", quiz_score(submission));
    for answer in &submission.quiz.answers {
        let _ = writeln!(
            out,
            "{} {} ({})",
            answer.verdict,
            answer.question_id,
            points(answer.score)
        );
        for line in attempt_lines(answer)
            .into_iter()
            .chain(answer_notes(answer))
        {
            let _ = writeln!(out, "     - {line}");
        }
    }

    let _ = writeln!(
        out,
        "\nJournal: {}",
        count_of(submission.journal.len(), "event", "events")
    );
    for entry in &submission.journal {
        let _ = writeln!(out, "{}", event_line(&entry.event));
    }
    let _ = writeln!(out, "\njournal hash      {}", submission.journal_hash);
    let _ = writeln!(out, "repositories hash {}", submission.repositories_hash);
    let _ = writeln!(out, "signature         {}", signature_line(submission));
    out
}

pub(super) fn markdown(submission: &Submission) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# {} {}: {}\n",
        markdown_text(&submission.lab.id),
        markdown_text(&submission.lab.version),
        markdown_text(&submission.lab.title)
    );
    let _ = writeln!(out, "| | |\n| --- | --- |");
    for (name, value) in header_fields(submission) {
        let _ = writeln!(out, "| {name} | {} |", markdown_cell(&value));
    }

    let _ = writeln!(
        out,
        "\n## Steps: {} of {} passed\n",
        passed_steps(submission),
        submission.steps.len()
    );
    for step in &submission.steps {
        let verdict = if step.passed { "PASS" } else { "FAIL" };
        let _ = writeln!(
            out,
            "- **{verdict}** `{}`: {}",
            step.id,
            markdown_text(&step.title)
        );
        for sentence in &step.evidence {
            let _ = writeln!(out, "  - {}", markdown_text(sentence));
        }
    }

    let _ = writeln!(out, "\n## Quiz: {}\n", quiz_score(submission));
    let _ = writeln!(out, "| Question | Answers | Verdict | Score |");
    let _ = writeln!(out, "| --- | --- | --- | --- |");
    for answer in &submission.quiz.answers {
        let _ = writeln!(
            out,
            "| `{}` | {} | {} | {} |",
            answer.question_id,
            markdown_cell(&attempts_cell(answer)),
            answer.verdict,
            format_score(answer.score)
        );
    }

    let _ = writeln!(
        out,
        "\n## Journal: {}\n",
        count_of(submission.journal.len(), "event", "events")
    );
    let _ = writeln!(out, "```text");
    for entry in &submission.journal {
        // A fenced block shows text as it is, so only a fence inside it needs breaking.
        let _ = writeln!(out, "{}", event_line(&entry.event).replace("```", "'''"));
    }
    let _ = writeln!(out, "```\n");
    let _ = writeln!(out, "- journal hash: `{}`", submission.journal_hash);
    let _ = writeln!(
        out,
        "- repositories hash: `{}`",
        submission.repositories_hash
    );
    let _ = writeln!(
        out,
        "- signature: {}",
        markdown_text(&signature_line(submission))
    );
    out
}

/// Renders one JUnit test suite with a test case per step and per question. Failed steps and
/// wrong answers are `<failure>` elements whose text is the evidence or the feedback.
pub(super) fn junit(submission: &Submission) -> String {
    let failures = submission.steps.iter().filter(|step| !step.passed).count()
        + submission
            .quiz
            .answers
            .iter()
            .filter(|answer| answer.score < 1.0)
            .count();
    let tests = submission.steps.len() + submission.quiz.answers.len();
    let suite = format!("{} {}", submission.lab.id, submission.lab.version);

    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"ecrlab report\" tests=\"{tests}\" failures=\"{failures}\">"
    );
    let _ = writeln!(
        out,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" timestamp=\"{}\">",
        xml_escape(&suite),
        xml_escape(&submission.created_at)
    );
    let _ = writeln!(out, "    <properties>");
    for (name, value) in header_fields(submission) {
        let _ = writeln!(
            out,
            "      <property name=\"{}\" value=\"{}\"/>",
            xml_escape(name),
            xml_escape(&value)
        );
    }
    let _ = writeln!(
        out,
        "      <property name=\"journal hash\" value=\"{}\"/>",
        submission.journal_hash
    );
    let _ = writeln!(out, "    </properties>");

    let class = junit_class(&submission.lab.id, &submission.student);
    let step_class = format!("{class}.steps");
    for step in &submission.steps {
        let name = format!("{}: {}", step.id, step.title);
        let failure = (!step.passed).then(|| ("step failed", step.evidence.join("\n")));
        write_testcase(&mut out, &step_class, &name, failure);
    }
    let quiz_class = format!("{class}.quiz");
    for answer in &submission.quiz.answers {
        let failure =
            (answer.score < 1.0).then(|| (answer.verdict.as_str(), quiz_feedback(answer)));
        write_testcase(&mut out, &quiz_class, &answer.question_id, failure);
    }
    let _ = writeln!(out, "  </testsuite>");
    let _ = writeln!(out, "</testsuites>");
    out
}

/// Builds a JUnit classname `ecrlab.<lab id>.<name>`. CI tools read the parts of a classname
/// between dots as packages, so dots inside the lab id and the name become `_`.
pub(super) fn junit_class(lab_id: &str, name: &str) -> String {
    format!(
        "ecrlab.{}.{}",
        lab_id.replace('.', "_"),
        name.replace('.', "_")
    )
}

/// Returns the feedback on a question for a JUnit failure: the verdict and score, each
/// answer and whether it counted, the correct answer and the explanation.
pub(super) fn quiz_feedback(answer: &SubmittedAnswer) -> String {
    let mut lines = vec![format!("{}, {}", answer.verdict, points(answer.score))];
    lines.extend(attempt_lines(answer));
    lines.extend(answer_notes(answer));
    lines.join("\n")
}

/// Writes a `<testcase>`, with a `<failure>` when `failure` contains its message and text.
pub(super) fn write_testcase(
    out: &mut String,
    classname: &str,
    name: &str,
    failure: Option<(&str, String)>,
) {
    let open = format!(
        "    <testcase classname=\"{}\" name=\"{}\"",
        xml_escape(classname),
        xml_escape(name)
    );
    match failure {
        None => {
            let _ = writeln!(out, "{open}/>");
        }
        Some((message, text)) => {
            let _ = writeln!(out, "{open}>");
            let _ = writeln!(
                out,
                "      <failure message=\"{}\">{}</failure>",
                xml_escape(message),
                xml_escape(&text)
            );
            let _ = writeln!(out, "    </testcase>");
        }
    }
}

/// Escapes text for XML content and attribute values. Control characters that XML 1.0 does
/// not allow (all below U+0020 except tab, newline and carriage return) become U+FFFD.
pub(super) fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        match character {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            '\t' | '\n' | '\r' => escaped.push(character),
            control if u32::from(control) < 0x20 => escaped.push('\u{FFFD}'),
            other => escaped.push(other),
        }
    }
    escaped
}

fn header_fields(submission: &Submission) -> Vec<(&'static str, String)> {
    vec![
        ("student", submission.student.clone()),
        ("created", submission.created_at.clone()),
        ("mock", submission.mock.endpoint.clone()),
        ("registry", submission.mock.registry_host.clone()),
        ("account", submission.mock.account_id.clone()),
        ("region", submission.mock.region.clone()),
        ("ecrlab", submission.ecrlab_version.clone()),
    ]
}

fn passed_steps(submission: &Submission) -> usize {
    submission.steps.iter().filter(|step| step.passed).count()
}

fn quiz_score(submission: &Submission) -> String {
    format!(
        "{} of {}",
        format_score(submission.quiz.score),
        points(submission.quiz.max_score)
    )
}

/// Formats a score with its unit: `1 point`, `0.5 points`, `2 points`.
pub(super) fn points(score: f64) -> String {
    let score = format_score(score);
    if score == "1" {
        "1 point".to_owned()
    } else {
        format!("{score} points")
    }
}

/// Formats a count with the singular or plural form of what it counts: `1 event`, `2 events`.
pub(super) fn count_of(count: usize, singular: &str, plural: &str) -> String {
    if count == 1 {
        format!("1 {singular}")
    } else {
        format!("{count} {plural}")
    }
}

/// Formats a score with at most two decimals and no trailing zeros: `3`, `2.5`, `0.33`.
pub(super) fn format_score(score: f64) -> String {
    let text = format!("{score:.2}");
    text.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// Returns one line per answer, in order, saying whether it counted toward the score.
fn attempt_lines(answer: &SubmittedAnswer) -> Vec<String> {
    answer
        .graded_attempts
        .iter()
        .map(|attempt| attempt_line(attempt, answer.attempts_allowed))
        .collect()
}

/// Formats an answer as `"100": incorrect, counted for 0 points`, or with the reason it did
/// not count.
fn attempt_line(attempt: &GradedAttempt, attempts_allowed: u32) -> String {
    let answer = format!("{:?}", attempt.answer);
    let verdict = &attempt.verdict;
    match attempt.status {
        AttemptStatus::Counted => {
            format!("{answer}: {verdict}, counted for {}", points(attempt.score))
        }
        AttemptStatus::Unreadable => {
            format!("{answer}: not counted because it could not be read, so it used no try")
        }
        AttemptStatus::AfterCorrectAnswer => {
            format!("{answer}: {verdict}, not counted because an earlier answer was correct")
        }
        AttemptStatus::BeyondAllowedTries => {
            let allowed = count_of(attempts_allowed as usize, "try", "tries");
            format!("{answer}: {verdict}, not counted because the question allows only {allowed}")
        }
    }
}

/// Lists the answers for a Markdown table cell.
fn attempts_cell(answer: &SubmittedAnswer) -> String {
    if answer.graded_attempts.is_empty() {
        return "(not answered)".to_owned();
    }
    attempt_lines(answer).join("; ")
}

fn answer_notes(answer: &SubmittedAnswer) -> Vec<String> {
    let mut notes = answer.notes.clone();
    if let Some(misconception) = &answer.misconception {
        notes.push(format!("misconception: {misconception}"));
    }
    if answer.score < 1.0 {
        notes.push(format!("correct answer: {}", answer.correct_answer));
        if !answer.explanation.is_empty() {
            notes.push(format!("explanation: {}", answer.explanation));
        }
    }
    notes
}

/// Formats an event as `#3 2026-01-02T03:04:05.000Z ecr-api CreateRepository my-app ok`.
fn event_line(event: &JournalEvent) -> String {
    let mut line = format!(
        "#{} {} {} {}",
        event.seq,
        event.time,
        source_name(event),
        event.action
    );
    if let Some(repository) = &event.repository {
        let _ = write!(line, " {repository}");
        if let Some(reference) = &event.reference {
            let separator = if reference.contains(':') { "@" } else { ":" };
            let _ = write!(line, "{separator}{reference}");
        }
    }
    match event.outcome {
        Outcome::Ok => line.push_str(" ok"),
        Outcome::Error => {
            let _ = write!(
                line,
                " error {}",
                event.error_code.as_deref().unwrap_or("(no code)")
            );
        }
    }
    if let Some(agent) = &event.user_agent {
        let _ = write!(line, " [{agent}]");
    }
    line
}

fn source_name(event: &JournalEvent) -> &'static str {
    use crate::evidence::Source;
    match event.source {
        Source::EcrApi => "ecr-api",
        Source::Registry => "registry",
        Source::Lifecycle => "lifecycle",
        Source::Scanner => "scanner",
        Source::Other => "other",
    }
}

fn signature_line(submission: &Submission) -> String {
    match &submission.signature {
        Some(signature) => format!(
            "{} with instructor key {}",
            signature.algorithm, signature.key_id
        ),
        None => "none (no instructor key was configured)".to_owned(),
    }
}

/// Escapes the characters that Markdown would read as formatting.
fn markdown_text(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for character in text.chars() {
        if "\\`*_[]<>|#".contains(character) {
            escaped.push('\\');
        }
        escaped.push(character);
    }
    escaped
}

/// Escapes text for a table cell, where a line break would end the row.
fn markdown_cell(text: &str) -> String {
    markdown_text(text).replace(['\n', '\r'], " ")
}
