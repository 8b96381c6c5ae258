//! Splitting an answer into numbers, words and symbols.
//!
//! Numbers in digits may have thousands separators (`1,000`, `1 000`, `1_000`, `1'000`, and
//! `1.000.000` with at least two groups after points), a decimal point (`0.5`), an exponent
//! (`1e3`), a power (`10^3`, `10³`) and a minus sign (`-12`). Runs of number words (`one thousand`, `twenty-four`) and
//! digits followed by a scale word (`1 thousand`, `1k`) become one number.

use crate::quiz::AnswerError;

/// Characters that may separate groups of three digits, besides the point.
const THOUSANDS_SEPARATORS: &[char] = &[',', '_', '\'', ' ', '\u{a0}', '\u{2009}', '\u{202f}'];

/// Separators that always join digits. Unlike a space, they never stand between two numbers,
/// so digits after them that do not form a group of three make the number unreadable.
const JOINING_SEPARATORS: &[char] = &[',', '_', '\''];

/// Minus signs: the hyphen-minus and U+2212.
const MINUS_SIGNS: &[char] = &['-', '\u{2212}'];

/// Characters after which a minus sign may start a negative number. After a digit or a letter
/// a hyphen joins (`12-24`, `us-east-1`) instead.
const BEFORE_MINUS: &[char] = &['(', '[', '{', '=', ':', ',', ';', '"', '\''];

/// The bound on numbers read from digits. An f64 represents every integer exactly only up to
/// 2^53 (about 9e15), so larger values could not be compared or shown exactly.
pub(super) const MAX_NUMBER: f64 = 1e15;

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
pub(super) enum Token {
    /// A number, with whether it was written in words (`twelve`) rather than digits.
    Number { value: f64, in_words: bool },
    /// A run of letters, lowercased, or a name that mixes letters and digits (`ec2`, `v2`).
    Word(String),
    /// Any other visible character.
    Symbol(char),
}

/// A number in digits that cannot be read as one value.
#[derive(Debug, Clone, PartialEq)]
enum DigitsProblem {
    /// One point followed by three digits, as in `1.000`: a decimal point or a European
    /// thousands separator.
    Ambiguous {
        literal: String,
        decimal: f64,
        thousands: f64,
    },
    /// A separator that does not split the digits into groups of three, as in `1,0000` or the
    /// decimal comma of `1,5`.
    Ungrouped {
        literal: String,
    },
    TooLarge {
        literal: String,
    },
}

impl DigitsProblem {
    fn into_error(self, answer: &str) -> AnswerError {
        let answer = answer.to_owned();
        match self {
            DigitsProblem::Ambiguous {
                literal,
                decimal,
                thousands,
            } => AnswerError::AmbiguousNumber {
                answer,
                literal,
                decimal: super::format_number(decimal),
                thousands: super::format_number(thousands),
            },
            DigitsProblem::Ungrouped { literal } => {
                let (whole, decimal) = ungrouped_readings(&literal);
                AnswerError::UngroupedNumber {
                    answer,
                    literal,
                    whole,
                    decimal,
                }
            }
            DigitsProblem::TooLarge { literal } => AnswerError::NumberTooLarge { answer, literal },
        }
    }
}

/// Returns the two numbers a student may have meant by digits with a misplaced separator: the
/// digits alone (`10000` for `1,0000`) and the last separator read as a decimal point
/// (`1.0000`).
fn ungrouped_readings(literal: &str) -> (String, String) {
    let whole: String = literal.chars().filter(char::is_ascii_digit).collect();
    let last_separator = literal
        .rfind(|c: char| !c.is_ascii_digit())
        .unwrap_or(literal.len());
    let integer: String = literal[..last_separator]
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    let fraction: String = literal[last_separator..]
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    (whole, format!("{integer}.{fraction}"))
}

/// Splits an answer into tokens and merges number words into numbers.
pub(super) fn tokenize(answer: &str) -> Result<Vec<Token>, AnswerError> {
    let chars: Vec<char> = answer.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;

    while index < chars.len() {
        let current = chars[index];
        if current.is_whitespace() {
            index += 1;
        } else if starts_number(&chars, index) {
            let (value, next) =
                read_number(&chars, index).map_err(|problem| problem.into_error(answer))?;
            tokens.push(Token::Number {
                value,
                in_words: false,
            });
            index = next;
        } else if starts_negative_number(&chars, index) {
            let (value, next) =
                read_number(&chars, index + 1).map_err(|problem| problem.into_error(answer))?;
            tokens.push(Token::Number {
                value: -value,
                in_words: false,
            });
            index = next;
        } else if current.is_alphabetic() {
            let end = word_end(&chars, index);
            let word: String = chars[index..end].iter().collect();
            tokens.push(Token::Word(word.to_lowercase()));
            index = end;
        } else {
            tokens.push(Token::Symbol(current));
            index += 1;
        }
    }
    Ok(merge_number_words(tokens))
}

/// Returns whether digits, or a point followed by digits (`.5`), start at `index`. A point
/// right after a letter ends an abbreviation (`approx.12`) instead.
fn starts_number(chars: &[char], index: usize) -> bool {
    let current = chars[index];
    let after_letter = index > 0 && chars[index - 1].is_alphanumeric();
    current.is_ascii_digit() || (current == '.' && !after_letter && digit_run(chars, index + 1) > 0)
}

/// Returns whether a minus sign that starts a negative number is at `index`. Such a sign is
/// followed by a number and comes first, or after a space, an opening bracket or a colon.
fn starts_negative_number(chars: &[char], index: usize) -> bool {
    let previous_allows =
        index == 0 || chars[index - 1].is_whitespace() || BEFORE_MINUS.contains(&chars[index - 1]);
    MINUS_SIGNS.contains(&chars[index])
        && previous_allows
        && index + 1 < chars.len()
        && starts_number(chars, index + 1)
}

/// Returns the end of the word starting at `start`. A word that does not follow digits and is
/// followed by digits names something (`ec2`, `v2`, `east-1`), so its digits, hyphens and
/// underscores are part of it and are not read as a value. A word right after digits is a
/// unit, so in `1h30m` the 30 stays a number.
fn word_end(chars: &[char], start: usize) -> usize {
    let mut end = start;
    while end < chars.len() && chars[end].is_alphabetic() {
        end += 1;
    }
    let after_digits = start > 0 && chars[start - 1].is_ascii_digit();
    let joins_digits = |at: usize| {
        chars.get(at).is_some_and(char::is_ascii_digit)
            || (chars.get(at).is_some_and(|c| matches!(c, '-' | '_'))
                && chars.get(at + 1).is_some_and(char::is_ascii_digit))
    };
    if after_digits || !joins_digits(end) {
        return end;
    }
    while let Some(&next) = chars.get(end) {
        let joiner =
            matches!(next, '-' | '_') && chars.get(end + 1).is_some_and(|c| c.is_alphanumeric());
        if !(next.is_alphanumeric() || joiner) {
            break;
        }
        end += 1;
    }
    end
}

/// Returns how many ASCII digits follow from `start`.
fn digit_run(chars: &[char], start: usize) -> usize {
    chars.get(start..).map_or(0, |rest| {
        rest.iter().take_while(|c| c.is_ascii_digit()).count()
    })
}

fn text(chars: &[char], start: usize, end: usize) -> String {
    chars[start..end.min(chars.len())].iter().collect()
}

/// Reads a number written in digits starting at `start`, raised to the power that follows
/// it, if any. Returns its value and the index after it.
fn read_number(chars: &[char], start: usize) -> Result<(f64, usize), DigitsProblem> {
    let (base, end) = read_digits(chars, start)?;
    let Some((exponent, next)) = read_power(chars, end) else {
        return Ok((base, end));
    };
    let value = i32::try_from(exponent).map_or(f64::INFINITY, |exponent| base.powi(exponent));
    if !value.is_finite() || value.abs() >= MAX_NUMBER {
        return Err(DigitsProblem::TooLarge {
            literal: text(chars, start, next),
        });
    }
    Ok((value, next))
}

/// Reads a power after a number at `index`: `^3`, `^-2` or `^ 3`, or superscript digits
/// (`³`, `⁻²`). Returns the exponent and the index after it, or `None` when no power follows,
/// so that `10^3` reads as one number, 1000, instead of the two numbers 10 and 3.
fn read_power(chars: &[char], index: usize) -> Option<(i64, usize)> {
    let caret = (index..chars.len())
        .find(|at| chars[*at] != ' ')
        .filter(|at| chars[*at] == '^');
    let (digits, negative, end) = match caret {
        Some(at) => {
            let mut start = (at + 1..chars.len()).find(|at| chars[*at] != ' ')?;
            let negative = MINUS_SIGNS.contains(&chars[start]);
            start += usize::from(negative);
            let run = digit_run(chars, start);
            (text(chars, start, start + run), negative, start + run)
        }
        None => {
            let negative = chars.get(index) == Some(&'\u{207b}');
            let start = index + usize::from(negative);
            let digits: String = chars[start.min(chars.len())..]
                .iter()
                .map_while(|c| superscript_digit(*c))
                .collect();
            let end = start + digits.chars().count();
            (digits, negative, end)
        }
    };
    if digits.is_empty() {
        return None;
    }
    // An exponent too long for i64 saturates, and `read_number` then rejects the number as
    // too large.
    let magnitude: i64 = digits.parse().unwrap_or(i64::MAX);
    Some((if negative { -magnitude } else { magnitude }, end))
}

/// Returns the ASCII digit of a superscript digit (`³` gives `3`).
fn superscript_digit(c: char) -> Option<char> {
    match c {
        '\u{2070}' => Some('0'),
        '\u{b9}' => Some('1'),
        '\u{b2}' => Some('2'),
        '\u{b3}' => Some('3'),
        '\u{2074}'..='\u{2079}' => char::from_u32(u32::from(c) - 0x2074 + u32::from('4')),
        _ => None,
    }
}

/// Reads a number written in digits starting at `start`; returns its value and the index
/// after it.
///
/// A separator is a thousands separator only between a first group of one to three digits
/// (not `0`) and following groups of exactly three, all with the same separator, so
/// "50, 100" stays two numbers. One point followed by three digits (`1.000`) is ambiguous
/// and an error. Two or more such groups (`1.000.000`) are thousands separators.
fn read_digits(chars: &[char], start: usize) -> Result<(f64, usize), DigitsProblem> {
    let first_end = start + digit_run(chars, start);
    let mut literal = text(chars, start, first_end);
    let (mut index, separator) = read_groups(chars, start, first_end, &mut literal)?;

    if separator.is_none()
        && chars
            .get(index)
            .is_some_and(|c| JOINING_SEPARATORS.contains(c))
    {
        let run = digit_run(chars, index + 1);
        if run > 0 {
            // "1000,5" or "1000,50": a decimal comma or a misplaced separator.
            return Err(DigitsProblem::Ungrouped {
                literal: text(chars, start, index + 1 + run),
            });
        }
    }

    if separator != Some('.') && chars.get(index) == Some(&'.') {
        let run = digit_run(chars, index + 1);
        if run > 0 {
            literal.extend(&chars[index..index + 1 + run]);
            index += 1 + run;
        }
    }

    index = read_exponent(chars, index, &mut literal);

    // The literal contains ASCII digits, at most one '.' and an optional exponent, which f64
    // always parses, including the form ".5"; overflow parses as infinity.
    let value: f64 = literal.parse().unwrap_or(f64::INFINITY);
    if !value.is_finite() || value >= MAX_NUMBER {
        return Err(DigitsProblem::TooLarge {
            literal: text(chars, start, index),
        });
    }
    Ok((value, index))
}

/// Reads the groups of three digits that follow the first group (`start..first_end`) and
/// appends them to `literal`. Returns the index after the last group and the separator used.
fn read_groups(
    chars: &[char],
    start: usize,
    first_end: usize,
    literal: &mut String,
) -> Result<(usize, Option<char>), DigitsProblem> {
    let first_group = text(chars, start, first_end);
    let mut index = first_end;
    let mut separator: Option<char> = None;
    if !(1..=3).contains(&first_group.len()) {
        return Ok((index, separator));
    }

    while let Some(&candidate) = chars.get(index) {
        let is_separator = THOUSANDS_SEPARATORS.contains(&candidate) || candidate == '.';
        if !is_separator || separator.is_some_and(|used| used != candidate) {
            break;
        }
        let run = digit_run(chars, index + 1);
        if run == 0 {
            break;
        }
        if run != 3 || first_group == "0" {
            if JOINING_SEPARATORS.contains(&candidate) || separator == Some('.') {
                return Err(DigitsProblem::Ungrouped {
                    literal: text(chars, start, index + 1 + run),
                });
            }
            // A space separates two numbers, and a point here is a decimal point.
            break;
        }
        let another_point_group =
            chars.get(index + 4) == Some(&'.') && digit_run(chars, index + 5) > 0;
        if candidate == '.' && separator.is_none() && !another_point_group {
            let group = text(chars, index + 1, index + 4);
            return Err(DigitsProblem::Ambiguous {
                literal: text(chars, start, index + 4),
                decimal: format!("{first_group}.{group}").parse().unwrap_or(0.0),
                thousands: format!("{first_group}{group}").parse().unwrap_or(0.0),
            });
        }
        separator = Some(candidate);
        literal.extend(&chars[index + 1..index + 4]);
        index += 4;
    }
    Ok((index, separator))
}

/// Reads an exponent (`e3`, `E+3`, `e-2`) at `index` into `literal`. Returns the index after
/// it, or `index` when there is no exponent or letters follow it.
fn read_exponent(chars: &[char], index: usize, literal: &mut String) -> usize {
    if !chars.get(index).is_some_and(|c| matches!(c, 'e' | 'E')) {
        return index;
    }
    let sign = usize::from(chars.get(index + 1).is_some_and(|c| matches!(c, '+' | '-')));
    let digits_start = index + 1 + sign;
    let run = digit_run(chars, digits_start);
    let end = digits_start + run;
    if run == 0 || chars.get(end).is_some_and(|c| c.is_alphabetic()) {
        return index;
    }
    literal.push('e');
    literal.extend(&chars[index + 1..end]);
    end
}

/// Replaces runs of number words with one number token: `one thousand` becomes 1000,
/// `twenty-four` 24, `1.5 thousand` 1500. The article `a` counts as one only before a scale
/// word (`a thousand`).
fn merge_number_words(tokens: Vec<Token>) -> Vec<Token> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn numbers(answer: &str) -> Vec<f64> {
        tokenize(answer)
            .unwrap_or_else(|error| panic!("{answer:?}: {error}"))
            .into_iter()
            .filter_map(|token| match token {
                Token::Number { value, .. } => Some(value),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn digits_read_separators_decimals_and_exponents() {
        let cases: &[(&str, &[f64])] = &[
            ("1,000", &[1000.0]),
            ("1.000.000", &[1_000_000.0]),
            ("1,000.5", &[1000.5]),
            ("0.500", &[0.5]),
            ("1.0000", &[1.0]),
            ("12.5", &[12.5]),
            ("1e3", &[1000.0]),
            ("1E+3", &[1000.0]),
            ("2.5e2", &[250.0]),
            ("50, 100", &[50.0, 100.0]),
            ("12-24", &[12.0, 24.0]),
            ("-12", &[-12.0]),
            ("(\u{2212}5)", &[-5.0]),
        ];
        for (answer, expected) in cases {
            assert_eq!(numbers(answer), *expected, "answer {answer:?}");
        }
    }

    #[test]
    fn digits_inside_names_are_not_numbers() {
        let cases: &[(&str, &[f64])] = &[
            ("aws cli v2", &[]),
            ("an ec2 host", &[]),
            ("us-east-1", &[]),
            ("k8s", &[]),
            ("1h30m", &[1.0, 30.0]),
            ("approx.12", &[12.0]),
            ("1k", &[1000.0]),
        ];
        for (answer, expected) in cases {
            assert_eq!(numbers(answer), *expected, "answer {answer:?}");
        }
    }

    #[test]
    fn digits_with_one_point_group_are_ambiguous() {
        for (answer, literal) in [("1.000", "1.000"), ("about 2.500 tags", "2.500")] {
            let Err(AnswerError::AmbiguousNumber {
                literal: found,
                decimal,
                thousands,
                ..
            }) = tokenize(answer)
            else {
                panic!("expected AmbiguousNumber for {answer:?}");
            };
            assert_eq!(found, literal, "answer {answer:?}");
            assert_ne!(decimal, thousands, "answer {answer:?}");
        }
    }

    #[test]
    fn digits_with_misplaced_separators_are_unreadable() {
        for (answer, literal, whole, decimal) in [
            ("1,0000", "1,0000", "10000", "1.0000"),
            ("1,5 hours", "1,5", "15", "1.5"),
            ("0,500", "0,500", "0500", "0.500"),
            ("1,000,00", "1,000,00", "100000", "1000.00"),
            ("1000,50", "1000,50", "100050", "1000.50"),
            ("1.000.00", "1.000.00", "100000", "1000.00"),
        ] {
            assert_eq!(
                tokenize(answer),
                Err(AnswerError::UngroupedNumber {
                    answer: answer.to_owned(),
                    literal: literal.to_owned(),
                    whole: whole.to_owned(),
                    decimal: decimal.to_owned(),
                }),
                "answer {answer:?}"
            );
        }
    }

    #[test]
    fn digits_too_large_are_unreadable() {
        for (answer, literal) in [
            ("1e1000 hours", "1e1000"),
            ("99999999999999999999999 hours", "99999999999999999999999"),
            ("1000000000000000", "1000000000000000"),
        ] {
            assert_eq!(
                tokenize(answer),
                Err(AnswerError::NumberTooLarge {
                    answer: answer.to_owned(),
                    literal: literal.to_owned(),
                }),
                "answer {answer:?}"
            );
        }
        assert_eq!(numbers("999999999999999"), vec![999_999_999_999_999.0]);
    }
}
