//! The CSV, JSON, JUnit XML and text forms of a class report.

use std::fmt::Write as _;

use super::regrade::{ClassReport, GradedSubmission};
use super::render::{
    count_of, format_score, junit_class, points, quiz_feedback, write_testcase, xml_escape,
};

// Writing to a String cannot fail, so the `fmt::Result`s below are ignored.

impl ClassReport {
    /// Renders one CSV row per readable submission (RFC 4180), with one column per step of
    /// the graded lab. The class summary is not part of the CSV; see [`Self::render_summary`].
    pub fn render_csv(&self) -> String {
        let mut header = vec![
            "file".to_owned(),
            "student".to_owned(),
            "lab".to_owned(),
            "version".to_owned(),
            "created".to_owned(),
            "passed".to_owned(),
        ];
        header.extend(self.summary.steps.iter().map(|step| step.id.clone()));
        header.extend(
            ["quiz score", "quiz max", "signature", "flags"]
                .iter()
                .map(|name| (*name).to_owned()),
        );
        let mut out = csv_row(&header);

        for submission in &self.submissions {
            let mut row = vec![
                submission.file.clone(),
                submission.student.clone(),
                submission.lab.id.clone(),
                submission.lab.version.clone(),
                submission.created_at.clone(),
                yes_no(submission.passed).to_owned(),
            ];
            for step in &self.summary.steps {
                row.push(step_cell(submission, &step.id).to_owned());
            }
            row.push(format_score(submission.quiz_score));
            row.push(format_score(submission.quiz_max_score));
            row.push(submission.signature.name().to_owned());
            row.push(flags_cell(submission));
            out.push_str(&csv_row(&row));
        }
        out
    }

    /// Renders the report as pretty-printed JSON.
    pub fn render_json(&self) -> String {
        let mut json =
            serde_json::to_string_pretty(self).expect("a class report serializes to JSON");
        json.push('\n');
        json
    }

    /// Renders one JUnit test suite per submission: a test case per step, per question and
    /// one named `integrity` that fails with the flags. Unreadable files are suites with an
    /// `<error>`; the class summary is the properties of a last suite. Classnames are
    /// `ecrlab.<lab id>.<student>.steps`, `.quiz` and `.submission`, with dots in the parts
    /// replaced, and the file name takes the student's place for an unreadable file.
    pub fn render_junit(&self) -> String {
        let mut suites = String::new();
        let mut tests = 0;
        let mut failures = 0;
        for submission in &self.submissions {
            let (suite, suite_tests, suite_failures) = submission_suite(&self.lab.id, submission);
            suites.push_str(&suite);
            tests += suite_tests;
            failures += suite_failures;
        }
        for error in &self.errors {
            let _ = writeln!(
                suites,
                "  <testsuite name=\"{}\" tests=\"1\" errors=\"1\">",
                xml_escape(error.file())
            );
            let class = format!("{}.submission", junit_class(&self.lab.id, error.file()));
            let _ = writeln!(
                suites,
                "    <testcase classname=\"{}\" name=\"read submission\">",
                xml_escape(&class)
            );
            let _ = writeln!(
                suites,
                "      <error message=\"unreadable submission\">{}</error>",
                xml_escape(&error.to_string())
            );
            let _ = writeln!(suites, "    </testcase>\n  </testsuite>");
        }
        suites.push_str(&self.summary_suite());

        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let _ = writeln!(
            out,
            "<testsuites name=\"ecrlab grade {} {}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{}\">",
            xml_escape(&self.lab.id),
            xml_escape(&self.lab.version),
            self.errors.len()
        );
        out.push_str(&suites);
        let _ = writeln!(out, "</testsuites>");
        out
    }

    /// Renders the class summary as text: counts, each step's pass count and the average
    /// quiz score. Without readable submissions it is one line that says so.
    pub fn render_summary(&self) -> String {
        let summary = &self.summary;
        let lab = format!("{} {}", self.lab.id, self.lab.version);
        let Some(average) = summary.average_quiz_score else {
            return match summary.unreadable {
                0 => format!("Class summary for {lab}: no submissions\n"),
                unreadable => format!(
                    "Class summary for {lab}: no readable submissions, {unreadable} unreadable\n"
                ),
            };
        };

        let mut out = format!(
            "Class summary for {lab}: {}, {} passed every step, {} flagged, {} unreadable\n",
            count_of(summary.submissions, "submission", "submissions"),
            summary.passed,
            summary.flagged,
            summary.unreadable
        );
        for step in &summary.steps {
            let _ = writeln!(
                out,
                "  {}: {} of {} passed",
                step.id, step.passed, summary.submissions
            );
        }
        let _ = writeln!(
            out,
            "  quiz: average {} of {}",
            format_score(average),
            points(summary.quiz_max_score)
        );
        out
    }

    fn summary_suite(&self) -> String {
        let summary = &self.summary;
        let mut properties = vec![
            ("submissions".to_owned(), summary.submissions.to_string()),
            ("passed".to_owned(), summary.passed.to_string()),
            ("flagged".to_owned(), summary.flagged.to_string()),
            ("unreadable".to_owned(), summary.unreadable.to_string()),
        ];
        for step in &summary.steps {
            properties.push((format!("step {} passed", step.id), step.passed.to_string()));
        }
        if let Some(average) = summary.average_quiz_score {
            properties.push(("average quiz score".to_owned(), format_score(average)));
        }
        properties.push((
            "quiz max score".to_owned(),
            format_score(summary.quiz_max_score),
        ));

        let mut out = String::from("  <testsuite name=\"class summary\" tests=\"0\">\n");
        out.push_str("    <properties>\n");
        for (name, value) in properties {
            let _ = writeln!(
                out,
                "      <property name=\"{}\" value=\"{}\"/>",
                xml_escape(&name),
                xml_escape(&value)
            );
        }
        out.push_str("    </properties>\n  </testsuite>\n");
        out
    }
}

/// Returns a submission's suite with its test and failure counts. `lab_id` is the lab graded
/// against, which names the test cases whatever lab the submission states.
fn submission_suite(lab_id: &str, submission: &GradedSubmission) -> (String, usize, usize) {
    let mut cases = String::new();
    let mut failures = 0;
    // A student name cannot be empty when `ecrlab report` writes it, but an edited file can
    // have one, and a classname needs a part there.
    let name = if submission.student.trim().is_empty() {
        &submission.file
    } else {
        &submission.student
    };
    let class = junit_class(lab_id, name);
    let step_class = format!("{class}.steps");
    for step in &submission.steps {
        let failure = (!step.passed).then(|| ("step failed", step.evidence.join("\n")));
        failures += usize::from(failure.is_some());
        write_testcase(&mut cases, &step_class, &step.id, failure);
    }
    let quiz_class = format!("{class}.quiz");
    for answer in &submission.quiz {
        let failure =
            (answer.score < 1.0).then(|| (answer.verdict.as_str(), quiz_feedback(answer)));
        failures += usize::from(failure.is_some());
        write_testcase(&mut cases, &quiz_class, &answer.question_id, failure);
    }
    let reasons: Vec<String> = submission
        .flags
        .iter()
        .map(|flag| format!("{}: {}", kind_name(flag.kind), flag.reason))
        .collect();
    let failure = (!reasons.is_empty()).then(|| ("submission flagged", reasons.join("\n")));
    failures += usize::from(failure.is_some());
    write_testcase(
        &mut cases,
        &format!("{class}.submission"),
        "integrity",
        failure,
    );

    let tests = submission.steps.len() + submission.quiz.len() + 1;
    let name = format!("{} ({})", submission.student, submission.file);
    let mut suite = String::new();
    let _ = writeln!(
        suite,
        "  <testsuite name=\"{}\" tests=\"{tests}\" failures=\"{failures}\" timestamp=\"{}\">",
        xml_escape(&name),
        xml_escape(&submission.created_at)
    );
    suite.push_str(&cases);
    let _ = writeln!(suite, "  </testsuite>");
    (suite, tests, failures)
}

fn step_cell(submission: &GradedSubmission, step_id: &str) -> &'static str {
    match submission.steps.iter().find(|step| step.id == step_id) {
        Some(step) if step.passed => "pass",
        Some(_) => "fail",
        None => "",
    }
}

fn flags_cell(submission: &GradedSubmission) -> String {
    submission
        .flags
        .iter()
        .map(|flag| format!("{}: {}", kind_name(flag.kind), flag.reason))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Returns a flag kind's name as JSON writes it, such as `hash-chain-broken`.
pub(super) fn kind_name(kind: super::FlagKind) -> String {
    match serde_json::to_value(kind) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{kind:?}"),
    }
}

fn yes_no(value: bool) -> &'static str {
    if value { "yes" } else { "no" }
}

/// Formats one CSV record ending with CRLF, as RFC 4180 specifies.
fn csv_row(cells: &[String]) -> String {
    let mut row = cells
        .iter()
        .map(|cell| csv_cell(cell))
        .collect::<Vec<_>>()
        .join(",");
    row.push_str("\r\n");
    row
}

/// Quotes a cell when it contains a comma, quote or line break (RFC 4180). A cell that starts
/// with `=`, `+`, `-`, `@`, tab or carriage return gets a leading `'`, so that a spreadsheet
/// does not run a student-chosen name as a formula (OWASP, "CSV Injection").
fn csv_cell(cell: &str) -> String {
    let mut value = cell.to_owned();
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        value.insert(0, '\'');
    }
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cell_quotes_and_guards_formulas() {
        assert_eq!(csv_cell("alice"), "alice");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("=1+1"), "'=1+1");
        assert_eq!(csv_cell("-x,y"), "\"'-x,y\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }
}
