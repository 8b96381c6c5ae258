//! Numbers and durations read out of free-form answers.
//!
//! Answers are written by people, so the reader accepts thousands separators, number words
//! and units written with or without a space (`12h`, `12 hours`, `1h 30m`); [`tokens`] lists
//! the forms of numbers. Words that are not numbers or units are ignored, so a whole sentence
//! such as "valid for 12 hours" reads as one duration.
//!
//! An answer must give one value. Two different values, a range (`1 to 12 hours`) and a bound
//! (`1000+`, `at least 12 hours`) are errors, because the grader cannot tell which value the
//! student meant.

mod tokens;

use super::AnswerError;
use tokens::{MAX_NUMBER, Token, tokenize};

/// Seconds in each duration unit a student may write. The last two names of each unit are its
/// singular and plural, which messages use. Months and years are calendar approximations (30
/// and 365 days); they exist so that such answers are read and graded instead of being
/// rejected as unreadable.
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

/// Words before a number that make it a lower bound or a strict upper bound. After `no` or
/// `not`, "more than" and "longer than" state a maximum, like "up to", and the number is read
/// as the value.
const BOUND_WORDS_BEFORE: &[&[&str]] = &[
    &["at", "least"],
    &["more", "than"],
    &["greater", "than"],
    &["longer", "than"],
    &["less", "than"],
    &["fewer", "than"],
    &["shorter", "than"],
];

/// Words after a number, or after its unit, that make it a lower bound. "or less" and
/// "or fewer" state a maximum, like "up to", and are read as the value.
const BOUND_WORDS_AFTER: &[&[&str]] = &[
    &["or", "more"],
    &["or", "longer"],
    &["or", "greater"],
    &["or", "above"],
];

/// Symbols right before a number that make it a bound (`>=` as well). `<=` and `≤` state a
/// maximum, like "up to", and the number is read as the value.
const BOUND_SYMBOLS_BEFORE: &[char] = &['>', '<', '\u{2265}'];

/// Reads the one number an answer contains.
///
/// Numbers written in digits win over number words, so "one image can have 1,000 tags"
/// reads as 1000. Repeating the same value is fine. Two different values and a bound are
/// errors, because the grader cannot tell which value the student meant. A negative number is
/// read as negative, since a question may have a negative answer.
pub(crate) fn parse_number(answer: &str) -> Result<f64, AnswerError> {
    let tokens = tokenize(answer)?;
    reject_bounds(answer, &tokens)?;
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

/// A value found in a duration answer.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Piece {
    /// Adjacent quantities added up, in seconds, with the unit of the first one in seconds.
    Duration { seconds: f64, unit: f64 },
    /// A number without a unit.
    Bare(f64),
}

impl Piece {
    fn unit(&self) -> Option<f64> {
        match self {
            Piece::Duration { unit, .. } => Some(*unit),
            Piece::Bare(_) => None,
        }
    }
}

/// A duration read from an answer: its length and the unit the student wrote it in, both in
/// seconds.
#[derive(Debug, Clone, Copy)]
struct WrittenDuration {
    seconds: f64,
    unit: f64,
}

/// Adjacent quantities being added up: the sum in seconds and the units of the first and the
/// last quantity.
#[derive(Debug, Clone, Copy)]
struct RunningSum {
    seconds: f64,
    first_unit: f64,
    last_unit: f64,
}

/// Reads the one duration an answer contains, in seconds.
///
/// Adjacent quantities with decreasing units add up (`1 hour 30 minutes`, `1h30m`). Separate
/// quantities must agree (`12 hours (720 minutes)`), or the answer is an error. A number
/// without a unit takes the unit of the next duration in the answer, or of the previous one
/// when none follows, so `1 to 12 hours`, `12 or 24 hours` and `12 hours? maybe 24` hold two
/// values and are errors. An answer with numbers but no unit at all is an error too, and so
/// are negative durations and moments such as "12 hours ago".
pub(crate) fn parse_duration(answer: &str) -> Result<f64, AnswerError> {
    let tokens = tokenize(answer)?;
    reject_bounds(answer, &tokens)?;
    let pieces = read_pieces(answer, &tokens)?;

    if !pieces.iter().any(|piece| piece.unit().is_some()) {
        return match pieces.first() {
            Some(Piece::Bare(number)) => Err(AnswerError::MissingUnit {
                answer: answer.to_owned(),
                number: format_number(*number),
            }),
            _ => Err(AnswerError::NoDuration {
                answer: answer.to_owned(),
            }),
        };
    }

    let readings = piece_values(&pieces);
    if let Some(negative) = readings.iter().find(|reading| reading.seconds < 0.0) {
        return Err(AnswerError::NegativeDuration {
            answer: answer.to_owned(),
            duration: format_seconds(negative.seconds),
        });
    }
    let mut distinct: Vec<WrittenDuration> = Vec::new();
    for reading in readings {
        if !distinct
            .iter()
            .any(|seen| same_value(seen.seconds, reading.seconds))
        {
            distinct.push(reading);
        }
    }
    match distinct.as_slice() {
        [reading] => Ok(reading.seconds),
        several => Err(AnswerError::SeveralDurations {
            answer: answer.to_owned(),
            values: several.iter().map(format_in_written_unit).collect(),
        }),
    }
}

/// Formats a duration in the unit the student wrote it in (`24 hours` for the 24 of `12 or 24
/// hours`), so that a message repeats the student's values. A value that is not a whole number
/// of that unit, such as `1h30m` in hours, uses [`format_seconds`].
fn format_in_written_unit(reading: &WrittenDuration) -> String {
    let count = reading.seconds / reading.unit;
    let name = DURATION_UNITS
        .iter()
        .find(|(_, seconds)| *seconds == reading.unit)
        .and_then(|(names, _)| match *names {
            [.., singular, plural] => Some(if count == 1.0 { singular } else { plural }),
            _ => None,
        });
    match name {
        Some(name) if count.fract() == 0.0 && count.abs() < MAX_NUMBER => {
            format!("{} {name}", format_number(count))
        }
        _ => format_seconds(reading.seconds),
    }
}

/// Splits a duration answer into durations and numbers without a unit, in answer order.
fn read_pieces(answer: &str, tokens: &[Token]) -> Result<Vec<Piece>, AnswerError> {
    let mut pieces = Vec::new();
    let mut running: Option<RunningSum> = None;
    let mut index = 0;

    while index < tokens.len() {
        if let Some((value, unit, length)) = read_quantity(tokens, index) {
            running = match running {
                Some(sum) if unit < sum.last_unit => Some(RunningSum {
                    seconds: sum.seconds + value * unit,
                    last_unit: unit,
                    ..sum
                }),
                other => {
                    close_running(other, &mut pieces);
                    Some(RunningSum {
                        seconds: value * unit,
                        first_unit: unit,
                        last_unit: unit,
                    })
                }
            };
            index += length;
            if matches!(tokens.get(index), Some(Token::Word(word)) if word == "ago") {
                return Err(AnswerError::PastMoment {
                    answer: answer.to_owned(),
                });
            }
            continue;
        }

        match &tokens[index] {
            Token::Number { value, .. } => {
                close_running(running.take(), &mut pieces);
                pieces.push(Piece::Bare(*value));
            }
            Token::Word(word) if word == "and" => {}
            Token::Symbol(',') => {}
            _ => close_running(running.take(), &mut pieces),
        }
        index += 1;
    }
    close_running(running, &mut pieces);
    Ok(pieces)
}

fn close_running(running: Option<RunningSum>, pieces: &mut Vec<Piece>) {
    if let Some(sum) = running {
        pieces.push(Piece::Duration {
            seconds: sum.seconds,
            unit: sum.first_unit,
        });
    }
}

/// Returns the value of each piece with its unit. A number without a unit takes the unit of
/// the next duration, or of the previous one when none follows. The caller ensures that the
/// pieces contain a duration.
fn piece_values(pieces: &[Piece]) -> Vec<WrittenDuration> {
    pieces
        .iter()
        .enumerate()
        .map(|(position, piece)| match piece {
            Piece::Duration { seconds, unit } => WrittenDuration {
                seconds: *seconds,
                unit: *unit,
            },
            Piece::Bare(value) => {
                let unit = pieces[position + 1..]
                    .iter()
                    .chain(pieces[..position].iter().rev())
                    .find_map(Piece::unit)
                    .unwrap_or(1.0);
                WrittenDuration {
                    seconds: value * unit,
                    unit,
                }
            }
        })
        .collect()
}

/// Returns an error when a number in the answer is given as a bound ("1000+", "at least 12
/// hours") instead of as one value.
fn reject_bounds(answer: &str, tokens: &[Token]) -> Result<(), AnswerError> {
    for (index, token) in tokens.iter().enumerate() {
        let Token::Number { value, .. } = token else {
            continue;
        };
        let number = format_number(*value);
        let bound = bound_before(tokens, index)
            .map(|before| format!("{before}{number}{}", written_unit(tokens, index)))
            .or_else(|| bound_after(tokens, index).map(|after| format!("{number}{after}")));
        if let Some(bound) = bound {
            return Err(AnswerError::Bound {
                answer: answer.to_owned(),
                bound,
            });
        }
    }
    Ok(())
}

/// Returns the duration unit after the number at `index` as the answer writes it, with a
/// leading space (` hours`, ` h`), or an empty string when no unit follows.
fn written_unit(tokens: &[Token], index: usize) -> String {
    let Some((_, _, length)) = read_quantity(tokens, index) else {
        return String::new();
    };
    match &tokens[index + length - 1] {
        Token::Word(word) => format!(" {word}"),
        _ => String::new(),
    }
}

/// Returns the words or symbol before the number at `index` that make it a bound.
fn bound_before(tokens: &[Token], index: usize) -> Option<String> {
    let before = &tokens[..index];
    match before {
        [.., Token::Symbol('>'), Token::Symbol('=')] => return Some(">=".to_owned()),
        [.., Token::Symbol(symbol)] if BOUND_SYMBOLS_BEFORE.contains(symbol) => {
            return Some(symbol.to_string());
        }
        _ => {}
    }
    for words in BOUND_WORDS_BEFORE {
        let Some(start) = before.len().checked_sub(words.len()) else {
            continue;
        };
        if !words_at(before, start, words) {
            continue;
        }
        let states_maximum = matches!(words[0], "more" | "longer")
            && start > 0
            && matches!(&before[start - 1], Token::Word(word) if word == "no" || word == "not");
        if !states_maximum {
            return Some(format!("{} ", words.join(" ")));
        }
    }
    None
}

/// Returns the words or symbol after the number at `index`, and the unit or noun between
/// them ("12 hours or more", "1,000 tags+"), that make it a bound.
fn bound_after(tokens: &[Token], index: usize) -> Option<String> {
    let mut candidates = vec![(index + 1, String::new())];
    if let Some(Token::Word(word)) = tokens.get(index + 1) {
        candidates.push((index + 2, format!(" {word}")));
    }
    for (at, between) in candidates {
        // "1000 + 50" is a sum, not a bound.
        let plus = tokens.get(at) == Some(&Token::Symbol('+'))
            && !matches!(tokens.get(at + 1), Some(Token::Number { .. }));
        if plus {
            return Some(format!("{between}+"));
        }
        if let Some(words) = BOUND_WORDS_AFTER
            .iter()
            .find(|words| words_at(tokens, at, words))
        {
            return Some(format!("{between} {}", words.join(" ")));
        }
    }
    None
}

/// Returns whether `tokens` contains the words `words` from index `start` on.
fn words_at(tokens: &[Token], start: usize, words: &[&str]) -> bool {
    words.iter().enumerate().all(|(offset, expected)| {
        matches!(tokens.get(start + offset), Some(Token::Word(word)) if word == expected)
    })
}

/// Returns whether two numbers read from answers are the same value.
pub(crate) fn same_value(left: f64, right: f64) -> bool {
    (left - right).abs() <= 1e-9 * left.abs().max(right.abs()).max(1.0)
}

/// Formats a number without a trailing `.0`, with thousands separators: `1,000`, `0.5`.
/// Numbers of 10^15 and above are shown in scientific notation, such as `3.6e18`.
pub(crate) fn format_number(value: f64) -> String {
    if value.abs() >= MAX_NUMBER {
        return format!("{value:e}");
    }
    if value.fract() != 0.0 {
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
        let count: f64 = seconds / size;
        if count.abs() >= 1.0 && count.fract() == 0.0 {
            let plural = if count.abs() == 1.0 { "" } else { "s" };
            return format!("{} {name}{plural}", format_number(count));
        }
    }
    format!("{} seconds", format_number(seconds))
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
    fn number_reads_powers_as_one_value() {
        let cases = [
            ("10^3", 1000.0),
            ("10 ^ 3", 1000.0),
            ("10^3 tags", 1000.0),
            ("10\u{b3}", 1000.0),
            ("2^-1", 0.5),
            ("10\u{207b}\u{b9}", 0.1),
            ("-10^3", -1000.0),
        ];
        for (answer, expected) in cases {
            assert_eq!(parse_number(answer), Ok(expected), "answer {answer:?}");
        }
        assert!(matches!(
            parse_number("10^20"),
            Err(AnswerError::NumberTooLarge { .. })
        ));
        assert!(matches!(
            parse_number("10^99999999999999999999"),
            Err(AnswerError::NumberTooLarge { .. })
        ));
        assert_eq!(parse_duration("10^3 seconds"), Ok(1000.0));
    }

    #[test]
    fn question_mark_leaves_value_readable() {
        assert_eq!(parse_duration("12h?"), Ok(43_200.0));
        assert_eq!(parse_number("1000?"), Ok(1000.0));
    }

    #[test]
    fn number_reads_exponents_and_negatives() {
        assert_eq!(parse_number("1e3"), Ok(1000.0));
        assert_eq!(parse_number("-1000"), Ok(-1000.0));
        assert_eq!(parse_number("ec2 images take 1000 tags"), Ok(1000.0));
    }

    #[test]
    fn bounds_are_unreadable() {
        let cases = [
            ("1000+", "1,000+"),
            ("1,000+ tags", "1,000+"),
            ("1000 tags+", "1,000 tags+"),
            ("1000 or more", "1,000 or more"),
            ("more than 1000", "more than 1,000"),
            ("at least 1,000 tags", "at least 1,000"),
            ("no less than 1000", "less than 1,000"),
            ("fewer than 1000", "fewer than 1,000"),
            (">1000", ">1,000"),
            (">= 1000", ">=1,000"),
            ("< 1000", "<1,000"),
        ];
        for (answer, bound) in cases {
            assert_eq!(
                parse_number(answer),
                Err(AnswerError::Bound {
                    answer: answer.to_owned(),
                    bound: bound.to_owned(),
                }),
                "answer {answer:?}"
            );
        }

        let durations = [
            ("at least 12 hours", "at least 12 hours"),
            ("12+ hours", "12+"),
            ("12h+", "12 h+"),
            ("12 hours or longer", "12 hours or longer"),
            ("longer than 12h", "longer than 12 h"),
            ("at least 720 min", "at least 720 min"),
            ("more than 12-hour", "more than 12 hour"),
        ];
        for (answer, bound) in durations {
            assert_eq!(
                parse_duration(answer),
                Err(AnswerError::Bound {
                    answer: answer.to_owned(),
                    bound: bound.to_owned(),
                }),
                "answer {answer:?}"
            );
        }
    }

    #[test]
    fn maximum_reads_as_value() {
        for answer in [
            "up to 1,000",
            "no more than 1000",
            "not more than 1000",
            "<= 1000",
            "\u{2264}1000",
            "1000 or fewer",
            "at most 1000",
        ] {
            assert_eq!(parse_number(answer), Ok(1000.0), "answer {answer:?}");
        }
        assert!(matches!(
            parse_number("1000 + 50"),
            Err(AnswerError::SeveralNumbers { .. })
        ));
        for answer in ["at most 12 hours", "no longer than 12h", "12 hours or less"] {
            assert_eq!(parse_duration(answer), Ok(43_200.0), "answer {answer:?}");
        }
    }

    #[test]
    fn duration_ranges_and_hedges_hold_two_values() {
        let cases: &[(&str, &[&str])] = &[
            ("1 to 12 hours", &["1 hour", "12 hours"]),
            ("10 to 12h", &["10 hours", "12 hours"]),
            ("between 1 and 12 hours", &["1 hour", "12 hours"]),
            ("12 hours? maybe 24", &["12 hours", "24 hours"]),
            ("12 or 24 hours", &["12 hours", "24 hours"]),
            ("12-24 hours", &["12 hours", "24 hours"]),
            ("12\u{2013}24 hours", &["12 hours", "24 hours"]),
            ("1 hour to 12 hours", &["1 hour", "12 hours"]),
            ("twelve or twenty-four hours", &["12 hours", "24 hours"]),
            ("720 minutes or 1 day", &["720 minutes", "1 day"]),
            ("1h30m or 2h", &["90 minutes", "2 hours"]),
        ];
        for (answer, expected) in cases {
            let Err(AnswerError::SeveralDurations { values, .. }) = parse_duration(answer) else {
                panic!("expected SeveralDurations for {answer:?}");
            };
            assert_eq!(values, *expected, "answer {answer:?}");
        }
    }

    #[test]
    fn duration_ignores_digits_inside_names() {
        for answer in [
            "aws cli v2 tokens last 12 hours",
            "in us-east-1 it is 12 hours",
            "12 hours (same as 12)",
        ] {
            assert_eq!(parse_duration(answer), Ok(43_200.0), "answer {answer:?}");
        }
    }

    #[test]
    fn duration_negative_is_unreadable() {
        for answer in ["-12 hours", "\u{2212}12h", "(-720 minutes)"] {
            assert_eq!(
                parse_duration(answer),
                Err(AnswerError::NegativeDuration {
                    answer: answer.to_owned(),
                    duration: "-12 hours".to_owned(),
                }),
                "answer {answer:?}"
            );
        }
    }

    #[test]
    fn duration_ago_is_unreadable() {
        assert_eq!(
            parse_duration("12 hours ago"),
            Err(AnswerError::PastMoment {
                answer: "12 hours ago".to_owned(),
            })
        );
    }

    #[test]
    fn format_number_groups_thousands() {
        assert_eq!(format_number(1000.0), "1,000");
        assert_eq!(format_number(43_200.0), "43,200");
        assert_eq!(format_number(50.0), "50");
        assert_eq!(format_number(0.5), "0.5");
        assert_eq!(format_number(-1000.0), "-1,000");
        assert_eq!(format_number(3.6e18), "3.6e18");
    }

    #[test]
    fn format_seconds_picks_largest_unit() {
        assert_eq!(format_seconds(43_200.0), "12 hours");
        assert_eq!(format_seconds(1_800.0), "30 minutes");
        assert_eq!(format_seconds(86_400.0), "1 day");
        assert_eq!(format_seconds(0.5), "0.5 seconds");
        assert_eq!(format_seconds(-43_200.0), "-12 hours");
    }
}
