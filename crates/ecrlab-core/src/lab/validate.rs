//! Validation of a parsed lab file: the raw TOML shape, and the checks that turn it into a
//! [`Lab`] while recording every problem with its line.

use std::collections::HashMap;
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;

use super::{FORMAT_VERSION, Lab, LabProblem, Step, line_and_column};
use crate::check::CheckKind;
use crate::quiz::{
    ConceptSpec, MisconceptionSpec, Question, QuestionKind, QuestionSpec, SpecField,
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
        self.problems.push(LabProblem {
            line: line_and_column(self.text, span.start).0,
            field: field.into(),
            message: message.into(),
        });
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
        let steps = self.steps(raw.steps);
        let questions = self.questions(raw.questions);

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
            let hints_span = raw.hints.span();
            let hints: Vec<String> = raw
                .hints
                .into_inner()
                .into_iter()
                .enumerate()
                .map(|(hint_index, hint)| {
                    self.required_text(hint, &field(&format!("hints[{hint_index}]")))
                })
                .collect();
            if hints.is_empty() {
                self.report(
                    hints_span,
                    field("hints"),
                    "hints is empty; give at least one hint, from a nudge to the full command",
                );
            }

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

    fn questions(&mut self, raw_questions: Vec<Spanned<RawQuestion>>) -> Vec<Question> {
        let mut first_line: HashMap<String, usize> = HashMap::new();
        let mut questions = Vec::new();

        for (index, raw) in raw_questions.into_iter().enumerate() {
            let raw = raw.into_inner();
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

            let spans = QuestionSpans::of(&raw);
            match Question::from_spec(question_spec(raw, kind)) {
                Ok(question) => questions.push(question),
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

/// Source positions of a question's fields, for problems that the quiz reports by field.
struct QuestionSpans {
    table: Range<usize>,
    prompt: Range<usize>,
    answer: Range<usize>,
    accept: Vec<Range<usize>>,
    explanation: Range<usize>,
    source: Range<usize>,
    choices: Option<Range<usize>>,
    concepts: Vec<ConceptSpans>,
    misconceptions: Vec<MisconceptionSpans>,
}

struct ConceptSpans {
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
            prompt: raw.prompt.span(),
            answer: raw.answer.span(),
            accept: raw.accept.iter().map(Spanned::span).collect(),
            explanation: raw.explanation.span(),
            source: raw.source.span(),
            choices: raw.choices.as_ref().map(Spanned::span),
            concepts: raw
                .concepts
                .iter()
                .map(|concept| {
                    let concept = concept.get_ref();
                    ConceptSpans {
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
            SpecField::Choices => self.choices.clone(),
            SpecField::Concepts => None,
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
