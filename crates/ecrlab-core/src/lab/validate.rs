//! Validation of a parsed lab file: the raw TOML shape, and the checks that turn it into a
//! [`Lab`] while recording every problem, error or warning, with its line and column.

use std::collections::HashMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{FORMAT_VERSION, Lab, LabProblem, Step, line_and_column};
use crate::check::CheckKind;
use crate::quiz::{
    ConceptSpec, MisconceptionSpec, PartialCreditSpec, Question, QuestionKind, QuestionSpec,
    Scoring, ScoringProblem, ScoringSpec, SpecField,
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawLab {
    format: Spanned<u32>,
    id: Spanned<String>,
    title: Spanned<String>,
    version: Spanned<String>,
    summary: Spanned<String>,
    #[serde(default)]
    steps: Vec<Spanned<RawStep>>,
    #[serde(default)]
    questions: Vec<Spanned<RawQuestion>>,
    /// Scoring keys that apply to every question without its own.
    quiz: Option<Spanned<ScoringSpec>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    id: Spanned<String>,
    title: Spanned<String>,
    instructions: Spanned<String>,
    check: Spanned<String>,
    hints: Spanned<Vec<Spanned<String>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Spanned<String>,
    kind: Spanned<String>,
    prompt: Spanned<String>,
    answer: Spanned<String>,
    #[serde(default)]
    accept: Vec<Spanned<String>>,
    explanation: Spanned<String>,
    source: Spanned<String>,
    choices: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    concepts: Vec<Spanned<RawConcept>>,
    #[serde(default)]
    misconceptions: Vec<Spanned<RawMisconception>>,
    attempts: Option<Spanned<i64>>,
    retry_penalty: Option<Spanned<f64>>,
    partial_credit: Option<Spanned<PartialCreditSpec>>,
    finding_field: Option<Spanned<String>>,
    min_severity: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConcept {
    name: Spanned<String>,
    phrases: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMisconception {
    answers: Option<Vec<Spanned<String>>>,
    phrases: Option<Vec<Spanned<String>>>,
    explanation: Spanned<String>,
}

/// The start of a last hint that gives the full command, as in `Run: docker push ...`.
const COMMAND_HINT: &str = "Run:";

/// Collects validation problems while turning raw TOML values into a [`Lab`].
pub(super) struct Validator<'a> {
    text: &'a str,
    problems: Vec<LabProblem>,
}

impl<'a> Validator<'a> {
    pub(super) fn new(text: &'a str) -> Validator<'a> {
        Validator {
            text,
            problems: Vec::new(),
        }
    }

    pub(super) fn into_problems(self) -> Vec<LabProblem> {
        self.problems
    }

    fn report(&mut self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) {
        let (line, column) = line_and_column(self.text, span.start);
        self.problems
            .push(LabProblem::error(line, column, field, message));
    }

    fn warn(&mut self, span: Range<usize>, field: impl Into<String>, message: impl Into<String>) {
        let (line, column) = line_and_column(self.text, span.start);
        self.problems
            .push(LabProblem::warning(line, column, field, message));
    }

    pub(super) fn lab(&mut self, raw: RawLab, origin: &str) -> Lab {
        if *raw.format.get_ref() != FORMAT_VERSION {
            self.report(
                raw.format.span(),
                "format",
                format!(
                    "lab format {} is not supported; this ecrlab reads format {FORMAT_VERSION}, so set format = {FORMAT_VERSION} or use an ecrlab that reads format {}",
                    raw.format.get_ref(),
                    raw.format.get_ref()
                ),
            );
        }
        self.identifier(&raw.id, "id");
        self.version(&raw.version);
        let title = self.required_text(raw.title, "title");
        let summary = self.required_text(raw.summary, "summary");

        if raw.steps.is_empty() {
            self.report(
                raw.id.span(),
                "steps",
                "the lab has no steps; add at least one [[steps]] table",
            );
        }
        if raw.questions.is_empty() {
            self.warn(
                raw.id.span(),
                "questions",
                "the lab has no quiz; add [[questions]] tables so students can test what they learned",
            );
        }
        let steps = self.steps(raw.steps);
        let defaults = self.quiz_defaults(raw.quiz.as_ref().map(Spanned::get_ref));
        let questions = self.questions(raw.questions, &defaults);

        Lab {
            id: raw.id.into_inner(),
            title,
            version: raw.version.into_inner(),
            summary,
            steps,
            questions,
            origin: origin.to_owned(),
        }
    }

    fn steps(&mut self, raw_steps: Vec<Spanned<RawStep>>) -> Vec<Step> {
        let mut first_line: HashMap<String, usize> = HashMap::new();
        let mut steps = Vec::new();

        for (index, raw) in raw_steps.into_iter().enumerate() {
            let raw = raw.into_inner();
            let field = |name: &str| format!("steps[{index}].{name}");
            self.identifier(&raw.id, &field("id"));
            self.unique(&raw.id, &field("id"), "step", &mut first_line);

            let check = self.check_kind(&raw.check, &field("check"));
            let hints = self.hints(raw.hints, &field("hints"));

            let title = self.required_text(raw.title, &field("title"));
            let instructions = self.required_text(raw.instructions, &field("instructions"));
            if let Some(check) = check {
                steps.push(Step {
                    id: raw.id.into_inner(),
                    title,
                    instructions,
                    check,
                    hints,
                });
            }
        }
        steps
    }

    /// Reads a step's hints, which `ecrlab hint` reveals one level at a time, so each hint
    /// should give more away than the one before it.
    fn hints(&mut self, raw_hints: Spanned<Vec<Spanned<String>>>, field: &str) -> Vec<String> {
        let hints_span = raw_hints.span();
        let raw_hints = raw_hints.into_inner();
        let spans: Vec<Range<usize>> = raw_hints.iter().map(Spanned::span).collect();
        let hints: Vec<String> = raw_hints
            .into_iter()
            .enumerate()
            .map(|(index, hint)| self.required_text(hint, &format!("{field}[{index}]")))
            .collect();

        match hints.len() {
            0 => self.report(
                hints_span,
                field,
                "hints is empty; give at least one hint, from a nudge to the full command",
            ),
            1 => self.warn(
                hints_span,
                field,
                "the step has one hint, so the first request for help gives everything away or too little; add hints that grow from a nudge to the full command",
            ),
            _ => {}
        }
        for index in 1..hints.len() {
            let previous = hints[index - 1].chars().count();
            let length = hints[index].chars().count();
            // A last hint that gives the command to run gives everything away, however short.
            let gives_command = index == hints.len() - 1 && hints[index].starts_with(COMMAND_HINT);
            if length <= previous && !gives_command {
                self.warn(
                    spans[index].clone(),
                    format!("{field}[{index}]"),
                    format!(
                        "hint {} ({length} characters) is not longer than hint {index} ({previous} characters); order hints from a short nudge to the most detailed",
                        index + 1
                    ),
                );
            }
        }
        hints
    }

    fn check_kind(&mut self, name: &Spanned<String>, field: &str) -> Option<CheckKind> {
        let kind = CheckKind::from_name(name.get_ref());
        if kind.is_none() {
            let known: Vec<&str> = CheckKind::ALL.iter().map(|kind| kind.name()).collect();
            self.report(
                name.span(),
                field,
                format!(
                    "unknown check kind {:?}; use one of: {}",
                    name.get_ref(),
                    known.join(", ")
                ),
            );
        }
        kind
    }

    /// Validates the `[quiz]` table into the scoring of questions without their own keys.
    /// Reports each invalid key and leaves it out of the returned defaults, so that the
    /// questions are checked against the keys that are valid.
    fn quiz_defaults(&mut self, spec: Option<&ScoringSpec>) -> Scoring {
        let Some(spec) = spec else {
            return Scoring::default();
        };
        let problems = match Scoring::from_quiz_spec(spec) {
            Ok(scoring) => return scoring,
            Err(problems) => problems,
        };

        let mut valid_keys = spec.clone();
        for problem in &problems {
            remove_scoring_key(&mut valid_keys, problem.field);
        }
        for problem in problems {
            self.report_scoring_problem(problem, "quiz");
        }
        Scoring::from_quiz_spec(&valid_keys).unwrap_or_default()
    }

    fn report_scoring_problem(&mut self, problem: ScoringProblem, prefix: &str) {
        self.report(
            problem.span,
            format!("{prefix}.{}", problem.field),
            problem.message,
        );
    }

    fn questions(
        &mut self,
        raw_questions: Vec<Spanned<RawQuestion>>,
        defaults: &Scoring,
    ) -> Vec<Question> {
        let mut first_line: HashMap<String, usize> = HashMap::new();
        let mut questions = Vec::new();

        for (index, raw) in raw_questions.into_iter().enumerate() {
            let mut raw = raw.into_inner();
            let prefix = format!("questions[{index}]");
            self.identifier(&raw.id, &format!("{prefix}.id"));
            self.unique(
                &raw.id,
                &format!("{prefix}.id"),
                "question",
                &mut first_line,
            );

            let Some(kind) = QuestionKind::from_name(raw.kind.get_ref()) else {
                let known: Vec<&str> = QuestionKind::ALL.iter().map(|kind| kind.name()).collect();
                self.report(
                    raw.kind.span(),
                    format!("{prefix}.kind"),
                    format!(
                        "unknown question kind {:?}; use one of: {}",
                        raw.kind.get_ref(),
                        known.join(", ")
                    ),
                );
                continue;
            };

            let scoring = ScoringSpec {
                attempts: raw.attempts.take(),
                retry_penalty: raw.retry_penalty.take(),
                partial_credit: raw.partial_credit.take(),
            };
            let spans = QuestionSpans::of(&raw);
            // NOTE: a question whose other keys are invalid has its scoring keys checked only
            // once those are fixed, because the checks need a built question.
            match Question::from_spec(question_spec(raw, kind)) {
                Ok(question) => match question.with_scoring(&scoring, defaults) {
                    Ok(question) => questions.push(question),
                    Err(problems) => {
                        for problem in problems {
                            self.report_scoring_problem(problem, &prefix);
                        }
                    }
                },
                Err(problems) => {
                    for problem in problems {
                        self.report(
                            spans.of_field(problem.field),
                            format!("{prefix}.{}", problem.field),
                            problem.message,
                        );
                    }
                }
            }
        }
        questions
    }

    fn required_text(&mut self, value: Spanned<String>, field: &str) -> String {
        if value.get_ref().trim().is_empty() {
            self.report(
                value.span(),
                field,
                format!("{field} is empty; write it out"),
            );
        }
        value.into_inner().trim().to_owned()
    }

    /// Checks that an id is lowercase kebab-case, which keeps ids usable in file names,
    /// command arguments and report keys.
    fn identifier(&mut self, id: &Spanned<String>, field: &str) {
        let value = id.get_ref();
        let valid = value.starts_with(|c: char| c.is_ascii_lowercase())
            && value
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !value.ends_with('-')
            && !value.contains("--");
        if !valid {
            self.report(
                id.span(),
                field,
                format!(
                    "{value:?} is not a valid id; use lowercase letters, digits and single hyphens, starting with a letter (for example push-image)"
                ),
            );
        }
    }

    fn unique(
        &mut self,
        id: &Spanned<String>,
        field: &str,
        what: &str,
        first_line: &mut HashMap<String, usize>,
    ) {
        let line = line_and_column(self.text, id.span().start).0;
        match first_line.get(id.get_ref()) {
            Some(first) => {
                let message = format!(
                    "duplicate {what} id {:?}, first used on line {first}; give each {what} its own id",
                    id.get_ref()
                );
                self.report(id.span(), field, message);
            }
            None => {
                first_line.insert(id.get_ref().clone(), line);
            }
        }
    }

    fn version(&mut self, version: &Spanned<String>) {
        let parts: Vec<&str> = version.get_ref().split('.').collect();
        let valid = parts.len() == 3
            && parts
                .iter()
                .all(|part| !part.is_empty() && part.chars().all(|c| c.is_ascii_digit()));
        if !valid {
            self.report(
                version.span(),
                "version",
                format!(
                    "{:?} is not a version of the form MAJOR.MINOR.PATCH; write it like \"1.0.0\"",
                    version.get_ref()
                ),
            );
        }
    }
}

/// Clears the scoring key that a [`ScoringProblem`] names, such as `partial_credit.host`, and
/// a `partial_credit` table left without rules.
fn remove_scoring_key(spec: &mut ScoringSpec, field: &str) {
    match field {
        "attempts" => spec.attempts = None,
        "retry_penalty" => spec.retry_penalty = None,
        "partial_credit" => spec.partial_credit = None,
        "partial_credit.concepts" => {
            if let Some(partial) = &mut spec.partial_credit {
                partial.get_mut().concepts = None;
            }
        }
        "partial_credit.host" => {
            if let Some(partial) = &mut spec.partial_credit {
                partial.get_mut().host = None;
            }
        }
        // A key that this function does not know stays, so checking the keys again fails and
        // the defaults fall back to one attempt without partial credit.
        _ => {}
    }
    let no_rules = spec
        .partial_credit
        .as_ref()
        .is_some_and(|partial| partial.get_ref() == &PartialCreditSpec::default());
    if no_rules {
        spec.partial_credit = None;
    }
}

/// Source positions of a question's fields, for problems that the quiz reports by field.
struct QuestionSpans {
    table: Range<usize>,
    kind: Range<usize>,
    prompt: Range<usize>,
    answer: Range<usize>,
    accept: Vec<Range<usize>>,
    explanation: Range<usize>,
    source: Range<usize>,
    choices: Option<Range<usize>>,
    concepts: Vec<ConceptSpans>,
    misconceptions: Vec<MisconceptionSpans>,
    finding_field: Option<Range<usize>>,
    min_severity: Option<Range<usize>>,
}

struct ConceptSpans {
    table: Range<usize>,
    name: Range<usize>,
    phrases: Vec<Range<usize>>,
}

struct MisconceptionSpans {
    table: Range<usize>,
    answers: Vec<Range<usize>>,
    phrases: Vec<Range<usize>>,
}

impl QuestionSpans {
    fn of(raw: &RawQuestion) -> QuestionSpans {
        QuestionSpans {
            table: raw.id.span(),
            kind: raw.kind.span(),
            prompt: raw.prompt.span(),
            answer: raw.answer.span(),
            accept: raw.accept.iter().map(Spanned::span).collect(),
            explanation: raw.explanation.span(),
            source: raw.source.span(),
            choices: raw.choices.as_ref().map(Spanned::span),
            finding_field: raw.finding_field.as_ref().map(Spanned::span),
            min_severity: raw.min_severity.as_ref().map(Spanned::span),
            concepts: raw
                .concepts
                .iter()
                .map(|concept| {
                    let table = concept.span();
                    let concept = concept.get_ref();
                    ConceptSpans {
                        table,
                        name: concept.name.span(),
                        phrases: concept.phrases.iter().map(Spanned::span).collect(),
                    }
                })
                .collect(),
            misconceptions: raw
                .misconceptions
                .iter()
                .map(|misconception| {
                    let spans = |list: &Option<Vec<Spanned<String>>>| {
                        list.iter().flatten().map(Spanned::span).collect()
                    };
                    MisconceptionSpans {
                        table: misconception.span(),
                        answers: spans(&misconception.get_ref().answers),
                        phrases: spans(&misconception.get_ref().phrases),
                    }
                })
                .collect(),
        }
    }

    fn of_field(&self, field: SpecField) -> Range<usize> {
        let found = match field {
            SpecField::Prompt => Some(self.prompt.clone()),
            SpecField::Answer => Some(self.answer.clone()),
            SpecField::Accept(index) => self.accept.get(index).cloned(),
            SpecField::Explanation => Some(self.explanation.clone()),
            SpecField::Source => Some(self.source.clone()),
            // Without choices, the problem is the kind that needs them.
            SpecField::Choices => Some(self.choices.clone().unwrap_or(self.kind.clone())),
            // Concepts on a kind other than `text` are reported at the first concept, and
            // missing concepts at the kind that needs them.
            SpecField::Concepts => Some(
                self.concepts
                    .first()
                    .map_or(self.kind.clone(), |spans| spans.table.clone()),
            ),
            SpecField::ConceptName(index) => {
                self.concepts.get(index).map(|spans| spans.name.clone())
            }
            SpecField::ConceptPhrase(index, phrase) => self
                .concepts
                .get(index)
                .and_then(|spans| spans.phrases.get(phrase).cloned()),
            SpecField::Misconception(index) => self
                .misconceptions
                .get(index)
                .map(|spans| spans.table.clone()),
            SpecField::MisconceptionAnswer(index, answer) => self
                .misconceptions
                .get(index)
                .and_then(|spans| spans.answers.get(answer).cloned()),
            SpecField::MisconceptionPhrase(index, phrase) => self
                .misconceptions
                .get(index)
                .and_then(|spans| spans.phrases.get(phrase).cloned()),
            // A missing finding_field is reported at the kind that needs it.
            SpecField::FindingField => {
                Some(self.finding_field.clone().unwrap_or(self.kind.clone()))
            }
            SpecField::MinSeverity => self.min_severity.clone(),
        };
        found.unwrap_or_else(|| self.table.clone())
    }
}

fn question_spec(raw: RawQuestion, kind: QuestionKind) -> QuestionSpec {
    let strings = |list: Vec<Spanned<String>>| -> Vec<String> {
        list.into_iter().map(Spanned::into_inner).collect()
    };
    QuestionSpec {
        id: raw.id.into_inner(),
        kind,
        prompt: raw.prompt.into_inner(),
        answer: raw.answer.into_inner(),
        accept: strings(raw.accept),
        explanation: raw.explanation.into_inner(),
        source: raw.source.into_inner(),
        choices: raw.choices.map(Spanned::into_inner),
        finding_field: raw.finding_field.map(Spanned::into_inner),
        min_severity: raw.min_severity.map(Spanned::into_inner),
        concepts: raw
            .concepts
            .into_iter()
            .map(|concept| {
                let concept = concept.into_inner();
                ConceptSpec {
                    name: concept.name.into_inner(),
                    phrases: strings(concept.phrases),
                }
            })
            .collect(),
        misconceptions: raw
            .misconceptions
            .into_iter()
            .map(|misconception| {
                let misconception = misconception.into_inner();
                MisconceptionSpec {
                    answers: misconception.answers.map(strings),
                    phrases: misconception.phrases.map(strings),
                    explanation: misconception.explanation.into_inner(),
                }
            })
            .collect(),
    }
}
