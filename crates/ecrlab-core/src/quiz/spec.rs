//! Question specifications as lab files state them, and their validation into [`Question`]s.

use std::fmt;

use super::finding::{DEFAULT_MIN_SEVERITY, FindingField, FindingKey};
use super::numbers::{parse_duration, parse_number};
use super::phrases::{Phrase, normalize_words};
use super::registry_url::{self, RegistryHost};
use super::{
    AnswerKey, Concept, Fit, Misconception, Question, QuestionKind, Scoring, Trigger, read_choice,
};
use crate::evidence::SEVERITIES;

/// A question as written in a lab file, before validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuestionSpec {
    pub id: String,
    pub kind: QuestionKind,
    pub prompt: String,
    /// The correct answer, shown to students after they answer. For a `finding` question, a
    /// description of the answer, shown while the findings are unknown.
    pub answer: String,
    /// Other answers graded as correct, read like `answer`.
    pub accept: Vec<String>,
    pub explanation: String,
    /// Where the facts come from, for example a section of the AWS ECR User Guide.
    pub source: String,
    /// The choices of a `choice` question; `None` for other kinds.
    pub choices: Option<Vec<String>>,
    /// Key concepts of a `text` question; empty for other kinds.
    pub concepts: Vec<ConceptSpec>,
    pub misconceptions: Vec<MisconceptionSpec>,
    /// The field of a finding that a `finding` question asks for: `name` or `package_name`.
    pub finding_field: Option<String>,
    /// The minimum severity of a finding that counts for a `finding` question, such as `HIGH`.
    pub min_severity: Option<String>,
}

/// A key concept of a `text` question: its name and the phrases that express it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConceptSpec {
    pub name: String,
    pub phrases: Vec<String>,
}

/// A known wrong answer and why it is wrong.
///
/// `answers` lists whole answers for the `duration`, `number`, `url` and `choice` kinds;
/// `phrases` lists key phrases for the `text` kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MisconceptionSpec {
    pub answers: Option<Vec<String>>,
    pub phrases: Option<Vec<String>>,
    pub explanation: String,
}

/// The field of a [`QuestionSpec`] that a validation problem is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecField {
    Prompt,
    Answer,
    Accept(usize),
    Explanation,
    Source,
    Choices,
    Concepts,
    ConceptName(usize),
    ConceptPhrase(usize, usize),
    Misconception(usize),
    MisconceptionAnswer(usize, usize),
    MisconceptionPhrase(usize, usize),
    FindingField,
    MinSeverity,
}

impl fmt::Display for SpecField {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SpecField::Prompt => write!(formatter, "prompt"),
            SpecField::Answer => write!(formatter, "answer"),
            SpecField::Accept(index) => write!(formatter, "accept[{index}]"),
            SpecField::Explanation => write!(formatter, "explanation"),
            SpecField::Source => write!(formatter, "source"),
            SpecField::Choices => write!(formatter, "choices"),
            SpecField::Concepts => write!(formatter, "concepts"),
            SpecField::ConceptName(index) => write!(formatter, "concepts[{index}].name"),
            SpecField::ConceptPhrase(concept, phrase) => {
                write!(formatter, "concepts[{concept}].phrases[{phrase}]")
            }
            SpecField::Misconception(index) => write!(formatter, "misconceptions[{index}]"),
            SpecField::MisconceptionAnswer(index, answer) => {
                write!(formatter, "misconceptions[{index}].answers[{answer}]")
            }
            SpecField::MisconceptionPhrase(index, phrase) => {
                write!(formatter, "misconceptions[{index}].phrases[{phrase}]")
            }
            SpecField::FindingField => write!(formatter, "finding_field"),
            SpecField::MinSeverity => write!(formatter, "min_severity"),
        }
    }
}

/// One problem found while validating a [`QuestionSpec`]; the message ends with the fix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecProblem {
    pub field: SpecField,
    pub message: String,
}

impl Question {
    /// Validates a question and prepares its answer key. Returns every problem found, each
    /// naming its field and the fix.
    pub fn from_spec(spec: QuestionSpec) -> Result<Question, Vec<SpecProblem>> {
        let mut problems = Vec::new();
        let mut require_text = |field: SpecField, value: &str| {
            if value.trim().is_empty() {
                problems.push(SpecProblem {
                    field,
                    message: format!("{field} is empty; write it out"),
                });
            }
        };
        require_text(SpecField::Prompt, &spec.prompt);
        require_text(SpecField::Explanation, &spec.explanation);
        require_text(SpecField::Source, &spec.source);
        check_fields_fit_kind(&spec, &mut problems);

        let key = build_key(&spec, &mut problems);
        let misconceptions = match &key {
            Some(key) => build_misconceptions(&spec, key, &mut problems),
            None => Vec::new(),
        };

        let Some(key) = key.filter(|_| problems.is_empty()) else {
            return Err(problems);
        };
        let question = Question {
            id: spec.id.clone(),
            kind: spec.kind,
            prompt: spec.prompt.trim().to_owned(),
            answer: spec.answer.trim().to_owned(),
            explanation: spec.explanation.trim().to_owned(),
            source: spec.source.trim().to_owned(),
            key,
            misconceptions,
            scoring: Scoring::default(),
        };
        let problems = question.check_answer_key(&spec);
        if problems.is_empty() {
            Ok(question)
        } else {
            Err(problems)
        }
    }

    /// Grades the lab's own answers: the answer and every accepted variant must grade as
    /// correct, and no misconception's answer may. A `finding` question's answer describes
    /// answers that only the evidence decides, so it is not graded.
    fn check_answer_key(&self, spec: &QuestionSpec) -> Vec<SpecProblem> {
        let mut problems = Vec::new();
        if self.kind == QuestionKind::Finding {
            return problems;
        }
        let keyed = std::iter::once((SpecField::Answer, &spec.answer)).chain(
            spec.accept
                .iter()
                .enumerate()
                .map(|(index, text)| (SpecField::Accept(index), text)),
        );
        for (field, text) in keyed {
            let message = match self.grade(text) {
                Ok(grade) if grade.is_correct() => continue,
                Ok(grade) => match grade.misconception {
                    Some(explanation) => format!(
                        "{field} matches a misconception ({explanation:?}); narrow that misconception's phrases"
                    ),
                    None => format!(
                        "{field} does not grade as correct ({}); make it name every concept, or widen the concepts' phrases",
                        grade.notes.join("; ")
                    ),
                },
                Err(error) => format!("{field} cannot be read: {error}"),
            };
            problems.push(SpecProblem { field, message });
        }

        for (index, misconception) in spec.misconceptions.iter().enumerate() {
            let answers = misconception.answers.iter().flatten().enumerate();
            for (answer_index, text) in answers {
                let correct = self
                    .read(text)
                    .is_ok_and(|reading| self.judge(&reading).0 == Fit::Full);
                if correct {
                    problems.push(SpecProblem {
                        field: SpecField::MisconceptionAnswer(index, answer_index),
                        message: format!(
                            "{text:?} grades as a correct answer, so it cannot be a misconception; remove it"
                        ),
                    });
                }
            }
        }
        problems
    }
}

fn check_fields_fit_kind(spec: &QuestionSpec, problems: &mut Vec<SpecProblem>) {
    check_finding_fields(spec, problems);
    if spec.kind != QuestionKind::Choice && spec.choices.is_some() {
        problems.push(SpecProblem {
            field: SpecField::Choices,
            message: format!(
                "choices only apply to `choice` questions, and this one is `{}`; remove choices or set kind = \"choice\"",
                spec.kind
            ),
        });
    }
    if spec.kind != QuestionKind::Text && !spec.concepts.is_empty() {
        problems.push(SpecProblem {
            field: SpecField::Concepts,
            message: format!(
                "concepts only apply to `text` questions, and this one is `{}`; remove the concepts or set kind = \"text\"",
                spec.kind
            ),
        });
    }
    for (index, misconception) in spec.misconceptions.iter().enumerate() {
        let field = SpecField::Misconception(index);
        if misconception.explanation.trim().is_empty() {
            problems.push(SpecProblem {
                field,
                message: "the misconception's explanation is empty; say why the answer is wrong"
                    .to_owned(),
            });
        }
        let is_text = spec.kind == QuestionKind::Text;
        let has_answers = misconception.answers.is_some();
        let has_phrases = misconception.phrases.is_some();
        let message = match (is_text, has_answers, has_phrases) {
            (true, false, true) | (false, true, false) => continue,
            (true, _, _) => {
                "a misconception of a `text` question lists `phrases`, not `answers`; write the key phrases of the wrong idea".to_owned()
            }
            (false, _, _) => format!(
                "a misconception of a `{}` question lists whole `answers`, not `phrases`; write the wrong answers",
                spec.kind
            ),
        };
        problems.push(SpecProblem { field, message });
    }
}

/// Reports the keys that belong to `finding` questions on other kinds, and the keys that
/// `finding` questions cannot use: their answers come from the evidence, so a fixed `accept`
/// list or misconception answer could contradict it.
fn check_finding_fields(spec: &QuestionSpec, problems: &mut Vec<SpecProblem>) {
    if spec.kind != QuestionKind::Finding {
        let own_keys = [
            (SpecField::FindingField, spec.finding_field.is_some()),
            (SpecField::MinSeverity, spec.min_severity.is_some()),
        ];
        for (field, present) in own_keys {
            if present {
                problems.push(SpecProblem {
                    field,
                    message: format!(
                        "{field} only applies to `finding` questions, and this one is `{}`; remove {field} or set kind = \"finding\"",
                        spec.kind
                    ),
                });
            }
        }
        return;
    }
    if !spec.accept.is_empty() {
        problems.push(SpecProblem {
            field: SpecField::Accept(0),
            message: "a `finding` question takes its correct answers from the scan findings, so it has no accept list; remove accept".to_owned(),
        });
    }
    if !spec.misconceptions.is_empty() {
        problems.push(SpecProblem {
            field: SpecField::Misconception(0),
            message: "a `finding` question takes its correct answers from the scan findings, so a fixed wrong answer could be right for some image; remove the misconceptions".to_owned(),
        });
    }
}

fn build_finding_key(spec: &QuestionSpec, problems: &mut Vec<SpecProblem>) -> Option<FindingKey> {
    require_answer(spec, problems);
    let known_fields: Vec<&str> = FindingField::ALL.iter().map(|field| field.name()).collect();
    let field = match spec.finding_field.as_deref() {
        None => {
            problems.push(SpecProblem {
                field: SpecField::FindingField,
                message: format!(
                    "a `finding` question needs finding_field, the field of a finding that the answer gives; set it to one of: {}",
                    known_fields.join(", ")
                ),
            });
            None
        }
        Some(name) => {
            let field = FindingField::from_name(name);
            if field.is_none() {
                problems.push(SpecProblem {
                    field: SpecField::FindingField,
                    message: format!(
                        "unknown finding_field {name:?}; use one of: {}",
                        known_fields.join(", ")
                    ),
                });
            }
            field
        }
    };
    let min_severity = spec.min_severity.as_deref().unwrap_or(DEFAULT_MIN_SEVERITY);
    if !SEVERITIES.contains(&min_severity) {
        problems.push(SpecProblem {
            field: SpecField::MinSeverity,
            message: format!(
                "unknown min_severity {min_severity:?}; use one of ECR's severities in upper case: {}",
                SEVERITIES.join(", ")
            ),
        });
        return None;
    }
    Some(FindingKey::new(field?, min_severity))
}

fn build_key(spec: &QuestionSpec, problems: &mut Vec<SpecProblem>) -> Option<AnswerKey> {
    let answers = std::iter::once((SpecField::Answer, spec.answer.as_str())).chain(
        spec.accept
            .iter()
            .enumerate()
            .map(|(index, text)| (SpecField::Accept(index), text.as_str())),
    );

    match spec.kind {
        QuestionKind::Duration => {
            read_all(answers, problems, parse_duration).map(AnswerKey::Duration)
        }
        QuestionKind::Number => read_all(answers, problems, parse_number).map(AnswerKey::Number),
        QuestionKind::Url => read_all(answers, problems, read_url_key).map(AnswerKey::Url),
        QuestionKind::Text => {
            // The answer itself is not whole-matched: it must name every concept, which
            // check_answer_key verifies, so the concepts are tested on a correct answer.
            require_answer(spec, problems);
            let concepts = build_concepts(&spec.concepts, problems);
            let accepted = read_all(answers.skip(1), problems, |text| {
                let words = normalize_words(text);
                if words.is_empty() {
                    Err("it contains no words; write the answer out".to_owned())
                } else {
                    Ok(words)
                }
            });
            Some(AnswerKey::Text {
                accepted: accepted?,
                concepts: concepts?,
            })
        }
        QuestionKind::Choice => build_choice_key(spec, problems),
        QuestionKind::Finding => build_finding_key(spec, problems).map(AnswerKey::Finding),
    }
}

fn require_answer(spec: &QuestionSpec, problems: &mut Vec<SpecProblem>) {
    if spec.answer.trim().is_empty() {
        problems.push(SpecProblem {
            field: SpecField::Answer,
            message: "answer is empty; write the correct answer".to_owned(),
        });
    }
}

/// Reads every answer of the key with `read`; records a problem for each that fails.
fn read_all<'a, T, E: fmt::Display>(
    answers: impl Iterator<Item = (SpecField, &'a str)>,
    problems: &mut Vec<SpecProblem>,
    read: impl Fn(&str) -> Result<T, E>,
) -> Option<Vec<T>> {
    let mut values = Vec::new();
    let mut failed = false;
    for (field, text) in answers {
        if text.trim().is_empty() {
            problems.push(SpecProblem {
                field,
                message: format!("{field} is empty; write the correct answer"),
            });
            failed = true;
            continue;
        }
        match read(text.trim()) {
            Ok(value) => values.push(value),
            Err(error) => {
                problems.push(SpecProblem {
                    field,
                    message: format!("{field} {text:?} cannot be read: {error}"),
                });
                failed = true;
            }
        }
    }
    (!failed).then_some(values)
}

fn read_url_key(text: &str) -> Result<RegistryHost, String> {
    let url = registry_url::parse(text).map_err(|error| error.to_string())?;
    let Some(host) = url.registry else {
        return Err(format!(
            "`{}` is not an ECR registry host of the form <aws_account_id>.dkr.ecr.<region>.amazonaws.com",
            url.host
        ));
    };
    let problems = host.problems();
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(host)
}

fn build_concepts(specs: &[ConceptSpec], problems: &mut Vec<SpecProblem>) -> Option<Vec<Concept>> {
    if specs.is_empty() {
        problems.push(SpecProblem {
            field: SpecField::Concepts,
            message: "a `text` question needs at least one concept; add [[questions.concepts]] with a name and phrases".to_owned(),
        });
        return None;
    }
    let mut concepts = Vec::new();
    let mut failed = false;
    for (index, spec) in specs.iter().enumerate() {
        if spec.name.trim().is_empty() {
            problems.push(SpecProblem {
                field: SpecField::ConceptName(index),
                message: "the concept's name is empty; state the concept as a clause, such as \"a pushed tag cannot be moved\"".to_owned(),
            });
            failed = true;
        }
        let phrases = parse_phrases(&spec.phrases, problems, |phrase| {
            SpecField::ConceptPhrase(index, phrase)
        });
        match phrases {
            Some(phrases) if !phrases.is_empty() => concepts.push(Concept {
                name: spec.name.trim().to_owned(),
                phrases,
            }),
            Some(_) => {
                problems.push(SpecProblem {
                    field: SpecField::ConceptName(index),
                    message: format!(
                        "concept {:?} has no phrases; list the phrases that express it",
                        spec.name
                    ),
                });
                failed = true;
            }
            None => failed = true,
        }
    }
    (!failed).then_some(concepts)
}

fn parse_phrases(
    texts: &[String],
    problems: &mut Vec<SpecProblem>,
    field: impl Fn(usize) -> SpecField,
) -> Option<Vec<Phrase>> {
    let mut phrases = Vec::new();
    let mut failed = false;
    for (index, text) in texts.iter().enumerate() {
        match Phrase::parse(text) {
            Ok(phrase) => phrases.push(phrase),
            Err(message) => {
                problems.push(SpecProblem {
                    field: field(index),
                    message,
                });
                failed = true;
            }
        }
    }
    (!failed).then_some(phrases)
}

fn build_choice_key(spec: &QuestionSpec, problems: &mut Vec<SpecProblem>) -> Option<AnswerKey> {
    let Some(choices) = &spec.choices else {
        problems.push(SpecProblem {
            field: SpecField::Choices,
            message: "a `choice` question needs choices; add choices = [\"...\", \"...\"]"
                .to_owned(),
        });
        return None;
    };
    let choices: Vec<String> = choices
        .iter()
        .map(|choice| choice.trim().to_owned())
        .collect();
    if choices.len() < 2 || choices.len() > 26 {
        problems.push(SpecProblem {
            field: SpecField::Choices,
            message: format!(
                "a `choice` question needs 2 to 26 choices, and this one has {}; change the list",
                choices.len()
            ),
        });
        return None;
    }
    for (index, choice) in choices.iter().enumerate() {
        let words = normalize_words(choice);
        let duplicate = choices[..index]
            .iter()
            .any(|earlier| normalize_words(earlier) == words);
        if words.is_empty() || duplicate {
            problems.push(SpecProblem {
                field: SpecField::Choices,
                message: format!(
                    "choice {} ({choice:?}) is empty or repeats an earlier choice; give each choice distinct words",
                    index + 1
                ),
            });
            return None;
        }
    }

    let answers = std::iter::once((SpecField::Answer, spec.answer.as_str())).chain(
        spec.accept
            .iter()
            .enumerate()
            .map(|(index, text)| (SpecField::Accept(index), text.as_str())),
    );
    let indexes = read_all(answers, problems, |text| read_choice(text, &choices))?;
    match indexes.as_slice() {
        [correct, rest @ ..] if rest.iter().all(|index| index == correct) => {
            Some(AnswerKey::Choice {
                correct: *correct,
                choices,
            })
        }
        _ => {
            problems.push(SpecProblem {
                field: SpecField::Answer,
                message: "a `choice` question has one correct choice, but answer and accept name different choices; remove the others from accept".to_owned(),
            });
            None
        }
    }
}

fn build_misconceptions(
    spec: &QuestionSpec,
    key: &AnswerKey,
    problems: &mut Vec<SpecProblem>,
) -> Vec<Misconception> {
    let mut misconceptions = Vec::new();
    for (index, misconception) in spec.misconceptions.iter().enumerate() {
        let trigger = match (key, &misconception.answers, &misconception.phrases) {
            (AnswerKey::Text { .. }, _, Some(phrases)) if phrases.is_empty() => {
                problems.push(SpecProblem {
                    field: SpecField::Misconception(index),
                    message:
                        "the misconception lists no phrases; list the phrases of the wrong idea"
                            .to_owned(),
                });
                None
            }
            (AnswerKey::Text { .. }, _, Some(phrases)) => {
                parse_phrases(phrases, problems, |phrase| {
                    SpecField::MisconceptionPhrase(index, phrase)
                })
                .map(Trigger::Phrases)
            }
            (_, Some(answers), _) => misconception_trigger(key, index, answers, problems),
            // check_fields_fit_kind already reported the missing list.
            _ => None,
        };
        if let Some(trigger) = trigger {
            misconceptions.push(Misconception {
                explanation: misconception.explanation.trim().to_owned(),
                trigger,
            });
        }
    }
    misconceptions
}

fn misconception_trigger(
    key: &AnswerKey,
    index: usize,
    answers: &[String],
    problems: &mut Vec<SpecProblem>,
) -> Option<Trigger> {
    if answers.is_empty() {
        problems.push(SpecProblem {
            field: SpecField::Misconception(index),
            message: "the misconception lists no answers; list the wrong answers it explains"
                .to_owned(),
        });
        return None;
    }
    let fields = answers
        .iter()
        .enumerate()
        .map(|(answer, text)| (SpecField::MisconceptionAnswer(index, answer), text.as_str()));
    match key {
        AnswerKey::Duration(_) => read_all(fields, problems, parse_duration).map(Trigger::Values),
        AnswerKey::Number(_) => read_all(fields, problems, parse_number).map(Trigger::Values),
        AnswerKey::Url(_) => {
            read_all(fields, problems, registry_url::HostPattern::parse).map(Trigger::Hosts)
        }
        AnswerKey::Choice { choices, .. } => {
            read_all(fields, problems, |text| read_choice(text, choices)).map(Trigger::Choices)
        }
        AnswerKey::Text { .. } | AnswerKey::Finding(_) => None,
    }
}
