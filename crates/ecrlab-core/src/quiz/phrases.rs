//! Free-text answers: word normalisation and key-phrase matching.
//!
//! A phrase is a few words that must appear in the answer in order, for example
//! `cannot overwr*`. A word ending in `*` matches every word that starts with it
//! (`overwritten`, `overwriting`). Up to [`MAX_GAP`] other words may stand between two words of
//! a phrase, so `cannot overwr*` also matches "cannot ever be overwritten".
//!
//! Two rules keep negations from turning a match around. A phrase of several words that does
//! not itself start with a negation is ignored where a negation stands right before it, so
//! `block* push*` does not match "it does not block the push". And the words between two
//! phrase words may not negate or prevent anything, so `not overwr*` does not match "does not
//! prevent overwriting". Single-word phrases name a topic (`tag*`) and have no such guard.
//!
//! NOTE: this is keyword grading. It recognises the concepts an answer names, not whether the
//! sentence around them is true, so an instructor should read answers that fail narrowly.

use std::fmt;

/// Maximum number of answer words allowed between two consecutive words of a phrase.
pub(crate) const MAX_GAP: usize = 3;

/// How many words before a phrase are searched for a negation.
const NEGATION_REACH: usize = 2;

const NEGATIONS: &[&str] = &[
    "not", "no", "never", "cannot", "without", "nor", "nothing", "none", "nobody", "neither",
];

/// Words that state the opposite of a negated phrase: "cannot be overwritten" negates "can be
/// overwritten".
const AFFIRMATIVE_MODALS: &[&str] = &["can", "may", "could"];

/// Words and word sequences that mark an answer as a guess, after [`normalize_words`].
const HEDGES: &[&[&str]] = &[
    &["maybe"],
    &["perhaps"],
    &["probably"],
    &["possibly"],
    &["presumably"],
    &["unsure"],
    &["idk"],
    &["i", "think"],
    &["i", "guess"],
    &["i", "believe"],
    &["not", "sure"],
    &["no", "idea"],
    &["do", "not", "know"],
    &["or", "not"],
];

/// Stems of verbs that reverse what follows them ("prevents overwriting").
const PREVENTING_STEMS: &[&str] = &[
    "prevent", "block", "stop", "forbid", "disallow", "reject", "refus", "deny", "denie",
];

/// A key phrase, parsed from its written form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Phrase {
    source: String,
    words: Vec<PhraseWord>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PhraseWord {
    Exact(String),
    Prefix(String),
}

impl PhraseWord {
    fn matches(&self, word: &str) -> bool {
        match self {
            PhraseWord::Exact(expected) => word == expected,
            PhraseWord::Prefix(prefix) => word.starts_with(prefix.as_str()),
        }
    }

    fn is_negation(&self) -> bool {
        matches!(self, PhraseWord::Exact(word) if NEGATIONS.contains(&word.as_str()))
    }

    /// Returns the word as a lab file writes it, with `*` after a prefix.
    fn written(&self) -> String {
        match self {
            PhraseWord::Exact(word) => word.clone(),
            PhraseWord::Prefix(prefix) => format!("{prefix}*"),
        }
    }
}

impl Phrase {
    /// Parses a phrase. The error explains what is wrong with it.
    pub(crate) fn parse(text: &str) -> Result<Phrase, String> {
        let mut words = Vec::new();
        for raw in text.split_whitespace() {
            let (stem, is_prefix) = match raw.strip_suffix('*') {
                Some(stem) => (stem, true),
                None => (raw, false),
            };
            if stem.contains('*') {
                return Err(format!(
                    "phrase {text:?} has `*` inside the word {raw:?}; `*` may only end a word"
                ));
            }
            let normalised = normalize_words(stem);
            match (normalised.as_slice(), is_prefix) {
                ([], _) => {
                    return Err(format!(
                        "phrase {text:?} contains {raw:?}, which has no letters or digits"
                    ));
                }
                ([single], true) => words.push(PhraseWord::Prefix(single.clone())),
                (several, true) => {
                    return Err(format!(
                        "phrase {text:?}: the prefix {raw:?} reads as several words ({}); write them as separate words",
                        several.join(" ")
                    ));
                }
                (several, false) => {
                    words.extend(several.iter().cloned().map(PhraseWord::Exact));
                }
            }
        }
        if words.is_empty() {
            return Err("phrase is empty; write one or more words".to_owned());
        }
        Ok(Phrase {
            source: text.to_owned(),
            words,
        })
    }

    /// Returns the statements opposite to a negated two-word phrase: `cannot overwr*` gives
    /// `can overwr*`, `may overwr*` and `could overwr*`. Returns `None` for other phrases,
    /// because dropping the negation of a longer phrase does not reliably state its opposite.
    pub(crate) fn affirmative(&self) -> Option<Vec<Phrase>> {
        let [negation, rest] = self.words.as_slice() else {
            return None;
        };
        if !negation.is_negation() {
            return None;
        }
        let phrases = AFFIRMATIVE_MODALS
            .iter()
            .map(|modal| Phrase {
                source: format!("{modal} {}", rest.written()),
                words: vec![PhraseWord::Exact((*modal).to_owned()), rest.clone()],
            })
            .collect();
        Some(phrases)
    }

    /// Whether the phrase occurs in the answer, given as words from [`normalize_words`].
    pub(crate) fn matches(&self, answer: &[String]) -> bool {
        let guard_negation = self.words.len() > 1 && !self.words[0].is_negation();
        (0..answer.len()).any(|start| {
            let negated = guard_negation
                && answer[start.saturating_sub(NEGATION_REACH)..start]
                    .iter()
                    .any(|word| NEGATIONS.contains(&word.as_str()));
            !negated && self.words[0].matches(&answer[start]) && self.matches_rest(answer, start, 1)
        })
    }

    fn matches_rest(&self, answer: &[String], previous: usize, next_word: usize) -> bool {
        let Some(expected) = self.words.get(next_word) else {
            return true;
        };
        let last = (previous + 1 + MAX_GAP).min(answer.len().saturating_sub(1));
        for position in previous + 1..=last {
            if expected.matches(&answer[position])
                && self.matches_rest(answer, position, next_word + 1)
            {
                return true;
            }
            if reverses_meaning(&answer[position]) {
                return false;
            }
        }
        false
    }
}

/// Returns whether a word negates or prevents what follows it.
fn reverses_meaning(word: &str) -> bool {
    NEGATIONS.contains(&word) || PREVENTING_STEMS.iter().any(|stem| word.starts_with(stem))
}

impl fmt::Display for Phrase {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.source)
    }
}

/// Returns the first hedge in an answer, given as words from [`normalize_words`], such as
/// `maybe` or `i think`.
pub(crate) fn find_hedge(words: &[String]) -> Option<String> {
    (0..words.len()).find_map(|start| {
        HEDGES
            .iter()
            .find(|hedge| {
                words[start..].len() >= hedge.len()
                    && hedge
                        .iter()
                        .zip(&words[start..])
                        .all(|(expected, word)| expected == word)
            })
            .map(|hedge| hedge.join(" "))
    })
}

/// Splits text into lowercase words for matching.
///
/// Punctuation, hyphens and underscores separate words, contractions are expanded
/// (`can't` and `can not` become `cannot`, `doesn't` becomes `does not`) and a possessive
/// `'s` is dropped.
pub(crate) fn normalize_words(text: &str) -> Vec<String> {
    let lowered = text
        .to_lowercase()
        .replace(['\u{2019}', '\u{2018}', '`'], "'");
    let mut words: Vec<String> = Vec::new();

    for raw in lowered.split(|c: char| !(c.is_alphanumeric() || c == '\'')) {
        let raw = raw.trim_matches('\'');
        if raw.is_empty() {
            continue;
        }
        match raw {
            "can't" | "cant" => words.push("cannot".to_owned()),
            "won't" => words.extend(["will".to_owned(), "not".to_owned()]),
            "shan't" => words.extend(["shall".to_owned(), "not".to_owned()]),
            _ => {
                if let Some(stem) = raw.strip_suffix("n't") {
                    words.push(stem.to_owned());
                    words.push("not".to_owned());
                } else {
                    let stem = raw.strip_suffix("'s").unwrap_or(raw);
                    words.push(stem.replace('\'', ""));
                }
            }
        }
    }

    let mut joined: Vec<String> = Vec::with_capacity(words.len());
    for word in words {
        if word == "not" && joined.last().is_some_and(|last| last == "can") {
            joined.pop();
            joined.push("cannot".to_owned());
        } else {
            joined.push(word);
        }
    }
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phrase(text: &str) -> Phrase {
        Phrase::parse(text).unwrap_or_else(|error| panic!("phrase {text:?}: {error}"))
    }

    fn occurs(phrase_text: &str, answer: &str) -> bool {
        phrase(phrase_text).matches(&normalize_words(answer))
    }

    #[test]
    fn normalize_expands_contractions() {
        assert_eq!(
            normalize_words("Tags can't be over-written!"),
            vec!["tags", "cannot", "be", "over", "written"]
        );
        assert_eq!(
            normalize_words("It can not move"),
            vec!["it", "cannot", "move"]
        );
        assert_eq!(
            normalize_words("It doesn’t block the image's push"),
            vec!["it", "does", "not", "block", "the", "image", "push"]
        );
        assert_eq!(
            normalize_words("TAG_INVALID, CVEs"),
            vec!["tag", "invalid", "cves"]
        );
    }

    #[test]
    fn phrase_matches_prefixes_and_gaps() {
        assert!(occurs("cannot overwr*", "a tag cannot be overwritten"));
        assert!(occurs("cannot overwr*", "A tag can't ever be OVERWRITTEN."));
        assert!(occurs(
            "cannot overwr*",
            "you cannot then later overwrite it"
        ));
        assert!(!occurs(
            "cannot overwr*",
            "cannot push it twice and then somebody else overwrites it"
        ));
        assert!(!occurs(
            "cannot overwr*",
            "overwriting is something you cannot do"
        ));
    }

    #[test]
    fn phrase_skips_negated_matches() {
        assert!(occurs("block* push*", "scanning blocks the push"));
        assert!(!occurs("block* push*", "it does not block the push"));
        assert!(!occurs("block* push*", "it never blocks pushes"));
        assert!(occurs("not overwr*", "tags are not overwritten"));
        assert!(!occurs("not overwr*", "it does not prevent overwriting"));
        assert!(!occurs("cannot mov*", "you cannot stop moving tags"));
        assert!(occurs("tag*", "no tag can be overwritten"));
        assert!(!occurs(
            "tag* permanent*",
            "tags change, nothing is permanent"
        ));
        assert!(!occurs("permanent* tag*", "none are permanent tags"));
        assert!(occurs("nothing overwr*", "nothing can overwrite it"));
    }

    #[test]
    fn hedges_are_found() {
        let cases = [
            ("maybe tags cannot move", Some("maybe")),
            ("I think tags cannot move", Some("i think")),
            ("I'm not sure, tags cannot move?", Some("not sure")),
            ("I don't know", Some("do not know")),
            ("tags can be moved or not", Some("or not")),
            ("Probably: tags are locked", Some("probably")),
            ("tags cannot move", None),
            ("a thinking tag", None),
            ("nothing is sure", None),
        ];
        for (answer, expected) in cases {
            assert_eq!(
                find_hedge(&normalize_words(answer)).as_deref(),
                expected,
                "answer {answer:?}"
            );
        }
    }

    #[test]
    fn affirmative_reverses_negated_pairs() {
        let affirmative = phrase("cannot overwr*")
            .affirmative()
            .expect("a negated two-word phrase");
        let sources: Vec<String> = affirmative.iter().map(ToString::to_string).collect();
        assert_eq!(sources, vec!["can overwr*", "may overwr*", "could overwr*"]);

        let words = normalize_words("but it can still be overwritten");
        assert!(affirmative.iter().any(|phrase| phrase.matches(&words)));
        let guarded = normalize_words("nobody can overwrite it");
        assert!(!affirmative.iter().any(|phrase| phrase.matches(&guarded)));

        assert_eq!(phrase("overwr*").affirmative(), None);
        assert_eq!(phrase("prevent* overwr*").affirmative(), None);
        assert_eq!(phrase("cannot push* same tag*").affirmative(), None);
    }

    #[test]
    fn phrase_parse_rejects_bad_input() {
        assert!(Phrase::parse("").is_err());
        assert!(Phrase::parse("  ").is_err());
        assert!(Phrase::parse("over*written").is_err());
        assert!(Phrase::parse("re-tag*").is_err());
        assert!(Phrase::parse("!!").is_err());
    }

    #[test]
    fn phrase_normalises_its_own_words() {
        assert!(occurs("can't overwr*", "it cannot be overwritten"));
        assert!(occurs("tag_invalid", "the registry answers TAG_INVALID"));
    }
}
