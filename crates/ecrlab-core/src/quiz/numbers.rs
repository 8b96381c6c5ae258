//! Numbers and durations read out of free-form answers.
//!
//! Answers are written by people, so the reader accepts thousands separators (`1,000`, `1 000`,
//! `1_000`, `1'000`), number words (`one thousand`, `twelve`), scale words after digits
//! (`1 thousand`, `1k`) and units written with or without a space (`12h`, `12 hours`,
//! `1h 30m`). Words that are not numbers or units are ignored, so a whole sentence such as
//! "valid for 12 hours" reads as one duration.

use super::AnswerError;

/// Seconds in each duration unit a student may write. Months and years are calendar
/// approximations (30 and 365 days); they exist so that such answers are read and graded
/// instead of being rejected as unreadable.
const DURATION_UNITS: &[(&[&str], f64)] = &[
    (&["ms", "msec", "millisecond", "milliseconds"], 0.001),
    (&["s", "sec", "secs", "second", "seconds"], 1.0),
    (&["m", "min", "mins", "minute", "minutes"], 60.0),
    (&["h", "hr", "hrs", "hour", "hours"], 3_600.0),
    (&["d", "day", "days"], 86_400.0),
    (&["w", "wk", "wks", "week", "weeks"], 604_800.0),
    (&["month", "months"], 2_592_000.0),
    (&["y", "yr", "yrs", "year", "years"], 31_536_000.0),
];

/// Characters that may separate groups of three digits.
const THOUSANDS_SEPARATORS: &[char] = &[',', '_', '\'', ' ', '\u{a0}', '\u{2009}', '\u{202f}'];

const SMALL_NUMBER_WORDS: &[(&str, f64)] = &[
    ("zero", 0.0),
    ("one", 1.0),
    ("two", 2.0),
    ("three", 3.0),
    ("four", 4.0),
    ("five", 5.0),
    ("six", 6.0),
    ("seven", 7.0),
    ("eight", 8.0),
    ("nine", 9.0),
    ("ten", 10.0),
    ("eleven", 11.0),
    ("twelve", 12.0),
    ("thirteen", 13.0),
    ("fourteen", 14.0),
    ("fifteen", 15.0),
    ("sixteen", 16.0),
    ("seventeen", 17.0),
    ("eighteen", 18.0),
    ("nineteen", 19.0),
    ("twenty", 20.0),
    ("thirty", 30.0),
    ("forty", 40.0),
    ("fifty", 50.0),
    ("sixty", 60.0),
    ("seventy", 70.0),
    ("eighty", 80.0),
    ("ninety", 90.0),
];

const SCALE_WORDS: &[(&str, f64)] = &[
    ("hundred", 100.0),
    ("thousand", 1_000.0),
    ("k", 1_000.0),
    ("million", 1_000_000.0),
];

/// One piece of an answer after tokenizing.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Token {
    /// A number, with whether it was written in words (`twelve`) rather than digits.
    Number { value: f64, in_words: bool },
    /// A run of letters, lowercased.
    Word(String),
    /// Any other visible character.
    Symbol(char),
}

/// Reads the one number an answer contains.
///
/// Numbers written in digits win over number words, so "one image can have 1,000 tags"
/// reads as 1000. Repeating the same value is fine. Two different values are an error,
/// because the grader cannot tell which one the student meant.
pub(crate) fn parse_number(answer: &str) -> Result<f64, AnswerError> {
    let tokens = merge_number_words(tokenize(answer));
    let in_digits: Vec<f64> = tokens
        .iter()
        .filter_map(|token| match token {
            Token::Number {
                value,
                in_words: false,
            } => Some(*value),
            _ => None,
        })
        .collect();
    let values = if in_digits.is_empty() {
        tokens
            .iter()
            .filter_map(|token| match token {
                Token::Number { value, .. } => Some(*value),
                _ => None,
            })
            .collect()
    } else {
        in_digits
    };

    match distinct(values).as_slice() {
        [] => Err(AnswerError::NoNumber {
            answer: answer.to_owned(),
        }),
        [value] => Ok(*value),
        several => Err(AnswerError::SeveralNumbers {
            answer: answer.to_owned(),
            values: several.iter().map(|value| format_number(*value)).collect(),
        }),
    }
}

/// Reads the one duration an answer contains, in seconds.
///
/// Adjacent quantities with decreasing units add up (`1 hour 30 minutes`, `1h30m`). Separate
/// quantities must agree (`12 hours (720 minutes)`), or the answer is an error. A number
/// without a unit is an error unless the answer also contains a quantity with a unit.
pub(crate) fn parse_duration(answer: &str) -> Result<f64, AnswerError> {
    let tokens = merge_number_words(tokenize(answer));
    let mut totals: Vec<f64> = Vec::new();
    let mut bare_numbers: Vec<f64> = Vec::new();
    // The running sum and the unit size of its last quantity, while quantities are adjacent.
    let mut running: Option<(f64, f64)> = None;
    let mut index = 0;

    while index < tokens.len() {
        if let Some((value, unit, length)) = read_quantity(&tokens, index) {
            running = match running {
                Some((sum, last_unit)) if unit < last_unit => Some((sum + value * unit, unit)),
                Some((sum, _)) => {
                    totals.push(sum);
                    Some((value * unit, unit))
                }
                None => Some((value * unit, unit)),
            };
            index += length;
            continue;
        }

        match &tokens[index] {
            Token::Number { value, .. } => {
                bare_numbers.push(*value);
                close_running(&mut running, &mut totals);
            }
            Token::Word(word) if word == "and" => {}
            Token::Symbol(',') => {}
            _ => close_running(&mut running, &mut totals),
        }
        index += 1;
    }
    close_running(&mut running, &mut totals);

    match distinct(totals).as_slice() {
        [] => match bare_numbers.first() {
            Some(number) => Err(AnswerError::MissingUnit {
                answer: answer.to_owned(),
                number: format_number(*number),
            }),
            None => Err(AnswerError::NoDuration {
                answer: answer.to_owned(),
            }),
        },
        [seconds] => Ok(*seconds),
        several => Err(AnswerError::SeveralDurations {
            answer: answer.to_owned(),
            values: several.iter().map(|value| format_seconds(*value)).collect(),
        }),
    }
}

/// Returns whether two numbers read from answers are the same value.
pub(crate) fn same_value(left: f64, right: f64) -> bool {
    (left - right).abs() <= 1e-9 * left.abs().max(right.abs()).max(1.0)
}

/// Formats a number without a trailing `.0`, with thousands separators: `1,000`, `0.5`.
pub(crate) fn format_number(value: f64) -> String {
    if value.fract() != 0.0 || value.abs() >= 1e15 {
        return value.to_string();
    }
    let digits = format!("{}", value.abs() as u64);
    let mut grouped = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if value < 0.0 {
        grouped.insert(0, '-');
    }
    grouped
}

/// Formats a duration in seconds with the largest unit that divides it: `12 hours`, `90 minutes`.
pub(crate) fn format_seconds(seconds: f64) -> String {
    let units = [
        (86_400.0, "day"),
        (3_600.0, "hour"),
        (60.0, "minute"),
        (1.0, "second"),
    ];
    for (size, name) in units {
        let count = seconds / size;
        if count >= 1.0 && count.fract() == 0.0 {
            let plural = if count == 1.0 { "" } else { "s" };
            return format!("{} {name}{plural}", format_number(count));
        }
    }
    format!("{} seconds", format_number(seconds))
}

pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;

    while index < chars.len() {
        let current = chars[index];
        let starts_decimal =
            current == '.' && chars.get(index + 1).is_some_and(char::is_ascii_digit);
        if current.is_whitespace() {
            index += 1;
        } else if current.is_ascii_digit() || starts_decimal {
            let (value, next) = read_digits(&chars, index);
            tokens.push(Token::Number {
                value,
                in_words: false,
            });
            index = next;
        } else if current.is_alphabetic() {
            let start = index;
            while index < chars.len() && chars[index].is_alphabetic() {
                index += 1;
            }
            let word: String = chars[start..index].iter().collect();
            tokens.push(Token::Word(word.to_lowercase()));
        } else {
            tokens.push(Token::Symbol(current));
            index += 1;
        }
    }
    tokens
}

/// Reads a number written in digits starting at `start`; returns its value and the index
/// after it. A separator counts as a thousands separator only between a first group of one to
/// three digits and following groups of exactly three, all with the same separator, so
/// "50, 100" stays two numbers.
fn read_digits(chars: &[char], start: usize) -> (f64, usize) {
    let mut index = start;
    let mut literal = String::new();
    while index < chars.len() && chars[index].is_ascii_digit() {
        literal.push(chars[index]);
        index += 1;
    }

    let mut separator: Option<char> = None;
    if (1..=3).contains(&literal.len()) {
        while let Some(&candidate) = chars.get(index) {
            let is_group = THOUSANDS_SEPARATORS.contains(&candidate)
                && separator.is_none_or(|used| used == candidate)
                && (1..=3)
                    .all(|offset| chars.get(index + offset).is_some_and(char::is_ascii_digit))
                && !chars.get(index + 4).is_some_and(char::is_ascii_digit);
            if !is_group {
                break;
            }
            separator = Some(candidate);
            literal.extend(&chars[index + 1..index + 4]);
            index += 4;
        }
    }

    if chars.get(index) == Some(&'.') && chars.get(index + 1).is_some_and(char::is_ascii_digit) {
        literal.push('.');
        index += 1;
        while index < chars.len() && chars[index].is_ascii_digit() {
            literal.push(chars[index]);
            index += 1;
        }
    }

    // The literal contains only ASCII digits and at most one '.', which f64 always parses,
    // including the form ".5".
    let value = literal.parse().unwrap_or(0.0);
    (value, index)
}

/// Replaces runs of number words with one number token: `one thousand` becomes 1000,
/// `twenty-four` 24, `1.5 thousand` 1500. The article `a` counts as one only before a scale
/// word (`a thousand`).
pub(crate) fn merge_number_words(tokens: Vec<Token>) -> Vec<Token> {
    let mut merged = Vec::with_capacity(tokens.len());
    let mut index = 0;

    while index < tokens.len() {
        match read_number_words(&tokens, index) {
            Some((value, in_words, next)) => {
                merged.push(Token::Number { value, in_words });
                index = next;
            }
            None => {
                merged.push(tokens[index].clone());
                index += 1;
            }
        }
    }
    merged
}

/// Reads a number made of words (optionally starting with digits) at `start`. Returns the
/// value, whether it was written entirely in words, and the index after it; `None` when no
/// number starts there.
fn read_number_words(tokens: &[Token], start: usize) -> Option<(f64, bool, usize)> {
    let mut total = 0.0;
    let mut current = 0.0;
    let mut in_words = true;
    let mut consumed_any = false;
    let mut index = start;

    if let Token::Number { value, .. } = tokens[start] {
        // Digits only start a merge when a scale word follows ("1 thousand", "1k").
        let followed_by_scale =
            matches!(tokens.get(start + 1), Some(Token::Word(word)) if scale_value(word).is_some());
        if !followed_by_scale {
            return None;
        }
        current = value;
        in_words = false;
        index += 1;
    }

    while let Some(token) = tokens.get(index) {
        let Token::Word(word) = token else {
            // A hyphen joins tens and units ("twenty-four"); anything else ends the number.
            let joins = *token == Token::Symbol('-')
                && consumed_any
                && matches!(tokens.get(index + 1), Some(Token::Word(next)) if small_value(next).is_some());
            if joins {
                index += 1;
                continue;
            }
            break;
        };

        if let Some(value) = small_value(word) {
            current += value;
        } else if let Some(scale) = scale_value(word) {
            if !consumed_any && in_words {
                // A bare scale word ("hundred") or the unit "k" alone is not a number.
                break;
            }
            if scale == 100.0 {
                current = current.max(1.0) * scale;
            } else {
                total += current.max(1.0) * scale;
                current = 0.0;
            }
        } else if (word == "a" || word == "an") && !consumed_any {
            let before_scale = matches!(tokens.get(index + 1), Some(Token::Word(next)) if scale_value(next).is_some() && next != "k");
            if !before_scale {
                break;
            }
            current = 1.0;
        } else if word == "and" && consumed_any {
            let continues = matches!(tokens.get(index + 1), Some(Token::Word(next)) if small_value(next).is_some());
            if !continues {
                break;
            }
        } else {
            break;
        }
        consumed_any = true;
        index += 1;
    }

    if !consumed_any {
        return None;
    }
    Some((total + current, in_words, index))
}

/// Reads a number followed by a duration unit at `index`, with an optional hyphen between
/// them (`12-hour`). Returns the number, the unit in seconds and how many tokens it spans.
fn read_quantity(tokens: &[Token], index: usize) -> Option<(f64, f64, usize)> {
    let Some(Token::Number { value, .. }) = tokens.get(index) else {
        return None;
    };
    let (unit_token, length) = match tokens.get(index + 1) {
        Some(Token::Symbol('-')) => (tokens.get(index + 2), 3),
        other => (other, 2),
    };
    match unit_token {
        Some(Token::Word(word)) => unit_seconds(word).map(|unit| (*value, unit, length)),
        _ => None,
    }
}

fn close_running(running: &mut Option<(f64, f64)>, totals: &mut Vec<f64>) {
    if let Some((sum, _)) = running.take() {
        totals.push(sum);
    }
}

fn small_value(word: &str) -> Option<f64> {
    SMALL_NUMBER_WORDS
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(_, value)| *value)
}

fn scale_value(word: &str) -> Option<f64> {
    SCALE_WORDS
        .iter()
        .find(|(name, _)| *name == word)
        .map(|(_, value)| *value)
}

fn unit_seconds(word: &str) -> Option<f64> {
    DURATION_UNITS
        .iter()
        .find(|(names, _)| names.contains(&word))
        .map(|(_, seconds)| *seconds)
}

fn distinct(values: Vec<f64>) -> Vec<f64> {
    let mut unique: Vec<f64> = Vec::new();
    for value in values {
        if !unique.iter().any(|seen| same_value(*seen, value)) {
            unique.push(value);
        }
    }
    unique
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn number_forms_read_as_one_thousand() {
        let cases = [
            "1000",
            "1,000",
            "1 000",
            "1_000",
            "1'000",
            "1\u{202f}000",
            "one thousand",
            "a thousand",
            "1 thousand",
            "1k",
            "1,000 tags",
            "up to 1,000 tags per image",
            "One image can have up to 1000 tags.",
            "1000.",
        ];
        for answer in cases {
            assert_eq!(parse_number(answer), Ok(1000.0), "answer {answer:?}");
        }
    }

    #[test]
    fn number_words_compose() {
        let cases = [
            ("twelve", 12.0),
            ("twenty-four", 24.0),
            ("one hundred and twenty", 120.0),
            ("two thousand five hundred", 2500.0),
            ("1.5 thousand", 1500.0),
            ("fifty", 50.0),
            ("0.5", 0.5),
            (".5", 0.5),
            ("5,000,000", 5_000_000.0),
        ];
        for (answer, expected) in cases {
            assert_eq!(parse_number(answer), Ok(expected), "answer {answer:?}");
        }
    }

    #[test]
    fn number_rejects_missing_and_conflicting_values() {
        assert!(matches!(
            parse_number("lots"),
            Err(AnswerError::NoNumber { .. })
        ));
        assert!(matches!(
            parse_number("hundred"),
            Err(AnswerError::NoNumber { .. })
        ));
        let Err(AnswerError::SeveralNumbers { values, .. }) = parse_number("50, 100") else {
            panic!("expected SeveralNumbers for \"50, 100\"");
        };
        assert_eq!(values, vec!["50".to_owned(), "100".to_owned()]);
    }

    #[test]
    fn number_repeated_value_is_not_ambiguous() {
        assert_eq!(parse_number("1000 (1,000)"), Ok(1000.0));
    }

    #[test]
    fn duration_forms_read_as_twelve_hours() {
        let cases = [
            "12h",
            "12 h",
            "12 hours",
            "12 Hours",
            "12hrs",
            "720 minutes",
            "720 min",
            "43200 s",
            "43,200 seconds",
            "0.5 days",
            "twelve hours",
            "valid for 12 hours",
            "11 hours 60 minutes",
            "11h60m",
            "11 hours and 60 minutes",
            "12 hours (720 minutes)",
            "a 12-hour token",
        ];
        for answer in cases {
            assert_eq!(parse_duration(answer), Ok(43_200.0), "answer {answer:?}");
        }
    }

    #[test]
    fn duration_sums_adjacent_quantities() {
        assert_eq!(parse_duration("1h30m"), Ok(5_400.0));
        assert_eq!(parse_duration("1 hour, 30 minutes"), Ok(5_400.0));
        assert_eq!(parse_duration("30 minutes"), Ok(1_800.0));
        assert_eq!(parse_duration("200 days"), Ok(17_280_000.0));
    }

    #[test]
    fn duration_needs_a_unit() {
        let Err(AnswerError::MissingUnit { number, .. }) = parse_duration("12") else {
            panic!("expected MissingUnit for \"12\"");
        };
        assert_eq!(number, "12");
        assert!(matches!(
            parse_duration("a while"),
            Err(AnswerError::NoDuration { .. })
        ));
    }

    #[test]
    fn duration_rejects_conflicting_values() {
        let Err(AnswerError::SeveralDurations { values, .. }) =
            parse_duration("12 hours or 30 minutes")
        else {
            panic!("expected SeveralDurations");
        };
        assert_eq!(values, vec!["12 hours".to_owned(), "30 minutes".to_owned()]);
    }

    #[test]
    fn format_number_groups_thousands() {
        assert_eq!(format_number(1000.0), "1,000");
        assert_eq!(format_number(43_200.0), "43,200");
        assert_eq!(format_number(50.0), "50");
        assert_eq!(format_number(0.5), "0.5");
    }

    #[test]
    fn format_seconds_picks_largest_unit() {
        assert_eq!(format_seconds(43_200.0), "12 hours");
        assert_eq!(format_seconds(1_800.0), "30 minutes");
        assert_eq!(format_seconds(86_400.0), "1 day");
        assert_eq!(format_seconds(0.5), "0.5 seconds");
    }
}
