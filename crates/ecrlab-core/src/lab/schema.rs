//! The first two passes over a lab file: TOML syntax, then the shape of the document (which
//! keys each table takes, which are required, and the type of each value).
//!
//! Both passes read the spanned document tree of the `toml` crate, so every problem has the
//! line and column of the key or value it is about, and every problem in the file is reported
//! at once. Serde deserialization, which stops at the first problem, runs only on files that
//! pass both.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{LabProblem, line_and_column};

/// The expected type of a value.
#[derive(Clone, Copy)]
enum Shape {
    Integer,
    /// An integer or a float, since TOML writes `0` and `1` as integers.
    Number,
    Boolean,
    String,
    Strings,
    /// One table, written as an inline table or under its own header.
    Table(&'static TableSchema),
    Tables(&'static TableSchema),
}

struct KeySchema {
    name: &'static str,
    shape: Shape,
    required: bool,
}

struct TableSchema {
    /// The table's name in messages, such as `a [[steps]] table`.
    description: &'static str,
    keys: &'static [KeySchema],
}

const fn required(name: &'static str, shape: Shape) -> KeySchema {
    KeySchema {
        name,
        shape,
        required: true,
    }
}

const fn optional(name: &'static str, shape: Shape) -> KeySchema {
    KeySchema {
        name,
        shape,
        required: false,
    }
}

const CONCEPT: TableSchema = TableSchema {
    description: "a [[questions.concepts]] table",
    keys: &[
        required("name", Shape::String),
        required("phrases", Shape::Strings),
    ],
};

const MISCONCEPTION: TableSchema = TableSchema {
    description: "a [[questions.misconceptions]] table",
    keys: &[
        optional("answers", Shape::Strings),
        optional("phrases", Shape::Strings),
        required("explanation", Shape::String),
    ],
};

const PARTIAL_CREDIT: TableSchema = TableSchema {
    description: "a partial_credit table",
    keys: &[
        optional("concepts", Shape::Boolean),
        optional("host", Shape::Number),
    ],
};

/// The scoring keys, which the `[quiz]` table sets for every question and a `[[questions]]`
/// table sets for itself.
const QUIZ: TableSchema = TableSchema {
    description: "the [quiz] table",
    keys: &[
        optional("attempts", Shape::Integer),
        optional("retry_penalty", Shape::Number),
        optional("partial_credit", Shape::Table(&PARTIAL_CREDIT)),
    ],
};

const QUESTION: TableSchema = TableSchema {
    description: "a [[questions]] table",
    keys: &[
        required("id", Shape::String),
        required("kind", Shape::String),
        required("prompt", Shape::String),
        required("answer", Shape::String),
        optional("accept", Shape::Strings),
        required("explanation", Shape::String),
        required("source", Shape::String),
        optional("choices", Shape::Strings),
        optional("concepts", Shape::Tables(&CONCEPT)),
        optional("misconceptions", Shape::Tables(&MISCONCEPTION)),
        optional("attempts", Shape::Integer),
        optional("retry_penalty", Shape::Number),
        optional("partial_credit", Shape::Table(&PARTIAL_CREDIT)),
        optional("finding_field", Shape::String),
        optional("min_severity", Shape::String),
    ],
};

const STEP: TableSchema = TableSchema {
    description: "a [[steps]] table",
    keys: &[
        required("id", Shape::String),
        required("title", Shape::String),
        required("instructions", Shape::String),
        required("check", Shape::String),
        required("hints", Shape::Strings),
    ],
};

const LAB: TableSchema = TableSchema {
    description: "the top level of a lab file",
    keys: &[
        required("format", Shape::Integer),
        required("id", Shape::String),
        required("title", Shape::String),
        required("version", Shape::String),
        required("summary", Shape::String),
        optional("steps", Shape::Tables(&STEP)),
        optional("questions", Shape::Tables(&QUESTION)),
        optional("quiz", Shape::Table(&QUIZ)),
    ],
};

/// Parses `text` as TOML and checks the document's shape. Returns every syntax problem, or,
/// when the syntax is valid, every shape problem, sorted by position.
pub(super) fn check(text: &str) -> Vec<LabProblem> {
    let (document, errors) = DeTable::parse_recoverable(text);
    let mut problems: Vec<LabProblem> = if errors.is_empty() {
        let mut checker = ShapeChecker {
            text,
            problems: Vec::new(),
        };
        checker.table(document.get_ref(), document.span(), &LAB, "");
        checker.problems
    } else {
        // The recovered document still locates each error inside a key, so the problem
        // can name the field even though the file is not valid TOML.
        let fields = FieldIndex::of(document.get_ref());
        errors
            .iter()
            .map(|error| {
                let offset = error.span().map_or(0, |span| span.start);
                let message = format!("{}; fix the TOML syntax", one_line(error.message()));
                problem_at(text, offset, fields.field_at(offset), message)
            })
            .collect()
    };
    problems.sort_by_key(|problem| (problem.line, problem.column));
    problems
}

/// Turns a serde error on a file that passed [`check`] into a problem with its field.
pub(super) fn deserialize_problem(text: &str, error: &toml::de::Error) -> LabProblem {
    let offset = error.span().map_or(0, |span| span.start);
    let (document, _) = DeTable::parse_recoverable(text);
    let field = FieldIndex::of(document.get_ref()).field_at(offset);
    let message = format!(
        "{}; docs/lab-format.md lists every key",
        one_line(error.message())
    );
    problem_at(text, offset, field, message)
}

fn problem_at(text: &str, offset: usize, field: String, message: String) -> LabProblem {
    let (line, column) = line_and_column(text, offset);
    LabProblem::error(line, column, field, message)
}

/// Joins the lines of a multi-line parser message, so each problem prints as one line.
fn one_line(message: &str) -> String {
    message
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

fn child_path(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_owned()
    } else {
        format!("{parent}.{key}")
    }
}

struct ShapeChecker<'a> {
    text: &'a str,
    problems: Vec<LabProblem>,
}

impl ShapeChecker<'_> {
    fn report(&mut self, span: Range<usize>, field: String, message: String) {
        self.problems
            .push(problem_at(self.text, span.start, field, message));
    }

    fn table(&mut self, table: &DeTable, span: Range<usize>, schema: &TableSchema, path: &str) {
        for (key, value) in table.iter() {
            let name: &str = key.get_ref();
            let field = child_path(path, name);
            match schema.keys.iter().find(|known| known.name == name) {
                Some(known) => self.value(value, known.shape, &field),
                None => {
                    let known: Vec<&str> = schema.keys.iter().map(|key| key.name).collect();
                    let message = format!(
                        "unknown key `{name}`; {} takes {}, so check the spelling or remove the key",
                        schema.description,
                        known.join(", ")
                    );
                    self.report(key.span(), field, message);
                }
            }
        }

        for key in schema.keys.iter().filter(|key| key.required) {
            let present = table.iter().any(|(name, _)| **name.get_ref() == *key.name);
            if !present {
                let message = format!(
                    "missing key `{}`; add {} = {} to {}",
                    key.name,
                    key.name,
                    example_of(key.shape),
                    schema.description
                );
                self.report(span.clone(), child_path(path, key.name), message);
            }
        }
    }

    fn value(&mut self, value: &Spanned<DeValue>, shape: Shape, field: &str) {
        match (shape, value.get_ref()) {
            (Shape::Integer, DeValue::Integer(_))
            | (Shape::Number, DeValue::Integer(_) | DeValue::Float(_))
            | (Shape::Boolean, DeValue::Boolean(_))
            | (Shape::String, DeValue::String(_)) => {}
            (Shape::Table(schema), DeValue::Table(table)) => {
                self.table(table, value.span(), schema, field)
            }
            (Shape::Strings, DeValue::Array(elements)) => {
                for (index, element) in elements.iter().enumerate() {
                    if !matches!(element.get_ref(), DeValue::String(_)) {
                        let message = format!(
                            "expected a string, found {}; write each element in double quotes",
                            type_name(element.get_ref())
                        );
                        self.report(element.span(), format!("{field}[{index}]"), message);
                    }
                }
            }
            (Shape::Tables(schema), DeValue::Array(elements)) => {
                for (index, element) in elements.iter().enumerate() {
                    let element_field = format!("{field}[{index}]");
                    match element.get_ref() {
                        DeValue::Table(table) => {
                            self.table(table, element.span(), schema, &element_field)
                        }
                        other => {
                            let message = format!(
                                "expected a table, found {}; write each entry as its own [[{}]] table",
                                type_name(other),
                                table_header(field)
                            );
                            self.report(element.span(), element_field, message);
                        }
                    }
                }
            }
            (expected, found) => {
                let message = format!(
                    "expected {}, found {}; write it as {field} = {}",
                    describe(expected),
                    type_name(found),
                    example_of(expected)
                );
                self.report(value.span(), field.to_owned(), message);
            }
        }
    }
}

/// Returns the header of an array of tables from a field path: `questions[0].concepts`
/// becomes `questions.concepts`.
fn table_header(field: &str) -> String {
    field
        .split('.')
        .map(|part| part.split('[').next().unwrap_or(part))
        .collect::<Vec<_>>()
        .join(".")
}

fn describe(shape: Shape) -> &'static str {
    match shape {
        Shape::Integer => "an integer",
        Shape::Number => "a number",
        Shape::Boolean => "a boolean",
        Shape::String => "a string",
        Shape::Strings => "an array of strings",
        Shape::Table(_) => "a table",
        Shape::Tables(_) => "an array of tables",
    }
}

fn example_of(shape: Shape) -> &'static str {
    match shape {
        Shape::Integer => "1",
        Shape::Number => "0.5",
        Shape::Boolean => "true",
        Shape::String => "\"...\"",
        Shape::Strings => "[\"...\"]",
        Shape::Table(_) => "{ ... }",
        Shape::Tables(_) => "[[...]] tables",
    }
}

fn type_name(value: &DeValue) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// The field paths of a document's keys and array elements, by where each starts in the text.
struct FieldIndex {
    /// Start offset and field path of every key and array element, in no particular order.
    entries: Vec<(usize, String)>,
}

impl FieldIndex {
    fn of(document: &DeTable) -> FieldIndex {
        let mut index = FieldIndex {
            entries: Vec::new(),
        };
        index.add_table(document, "");
        index
    }

    fn add_table(&mut self, table: &DeTable, path: &str) {
        for (key, value) in table.iter() {
            let field = child_path(path, key.get_ref());
            let start = key.span().start.min(value.span().start);
            self.entries.push((start, field.clone()));
            self.add_value(value, &field);
        }
    }

    fn add_value(&mut self, value: &Spanned<DeValue>, field: &str) {
        match value.get_ref() {
            DeValue::Table(table) => self.add_table(table, field),
            DeValue::Array(elements) => {
                for (index, element) in elements.iter().enumerate() {
                    let element_field = format!("{field}[{index}]");
                    self.entries
                        .push((element.span().start, element_field.clone()));
                    self.add_value(element, &element_field);
                }
            }
            _ => {}
        }
    }

    /// Returns the field whose key or element starts last at or before `offset`: the innermost
    /// field that contains the offset, because keys of a table follow the table's header.
    /// Returns `document` for an offset before the first key.
    fn field_at(&self, offset: usize) -> String {
        self.entries
            .iter()
            .filter(|(start, _)| *start <= offset)
            .max_by_key(|(start, field)| (*start, field.len()))
            .map_or_else(|| "document".to_owned(), |(_, field)| field.clone())
    }
}
