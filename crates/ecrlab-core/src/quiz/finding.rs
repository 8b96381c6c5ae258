//! `finding` questions, whose correct answers are the findings of the images the student
//! pushed.
//!
//! A lab file states which field of a finding the answer gives (`finding_field`: the CVE id
//! `name`, or the `package_name` attribute) and the minimum severity that counts
//! (`min_severity`). The answer key is filled in from the evidence with
//! [`super::Question::with_evidence`]: the findings of every image that a container client
//! pushed and whose scan is `COMPLETE`. Until then, and while none of those findings has a
//! severity that counts, no answer can be correct. [`AnswerError::NoScanEvidence`] and
//! [`AnswerError::NoCompletedScan`] report that, and such an answer uses no try.

use std::fmt;

use super::AnswerError;
use crate::evidence::scans::pushed_images;
use crate::evidence::{Evidence, SEVERITIES, ScanFinding, severity_rank};

/// The severity that counts when a lab file sets no `min_severity`.
pub const DEFAULT_MIN_SEVERITY: &str = "HIGH";

/// The field of a finding that a `finding` question asks for, named as in ECR's
/// DescribeImageScanFindings output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindingField {
    /// `name`: the vulnerability's id, such as `CVE-2024-5535`.
    Name,
    /// The `package_name` attribute, such as `libssl3`.
    PackageName,
}

impl FindingField {
    pub const ALL: [FindingField; 2] = [FindingField::Name, FindingField::PackageName];

    /// Returns the name used in lab files.
    pub fn name(self) -> &'static str {
        match self {
            FindingField::Name => "name",
            FindingField::PackageName => "package_name",
        }
    }

    pub fn from_name(name: &str) -> Option<FindingField> {
        FindingField::ALL
            .into_iter()
            .find(|field| field.name() == name)
    }

    /// Returns this field of `finding`, `None` for a finding without a `package_name`.
    pub fn value(self, finding: &ScanFinding) -> Option<&str> {
        match self {
            FindingField::Name => Some(&finding.name),
            FindingField::PackageName => finding.package_name.as_deref(),
        }
    }

    /// Describes a value of this field for notes: "CVE-2024-5535" or "package libssl3".
    fn describe(self, value: &str) -> String {
        match self {
            FindingField::Name => value.to_owned(),
            FindingField::PackageName => format!("package {value}"),
        }
    }
}

impl fmt::Display for FindingField {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.name())
    }
}

/// The answer key of a `finding` question.
#[derive(Debug, Clone)]
pub(super) struct FindingKey {
    pub(super) field: FindingField,
    /// An ECR severity name; findings of this severity or a more severe one count.
    pub(super) min_severity: String,
    /// The findings of the pushed images, once read from the evidence.
    pub(super) images: Option<Vec<ImageFindings>>,
}

/// The findings of one pushed image whose scan is `COMPLETE`.
#[derive(Debug, Clone)]
pub(super) struct ImageFindings {
    /// The image as notes name it, such as `my-app:scan`.
    name: String,
    findings: Vec<ScanFinding>,
}

impl FindingKey {
    pub(super) fn new(field: FindingField, min_severity: &str) -> FindingKey {
        FindingKey {
            field,
            min_severity: min_severity.to_owned(),
            images: None,
        }
    }

    /// Returns a copy of the key with the findings of the images in `evidence` that a container
    /// client pushed and whose scan is `COMPLETE`, newest push first.
    pub(super) fn with_evidence(&self, evidence: &Evidence) -> FindingKey {
        let images = pushed_images(evidence)
            .into_iter()
            .rev()
            .filter(|pushed| pushed.is_complete())
            .map(|pushed| ImageFindings {
                name: image_name(&pushed.repository.name, &pushed.image.tags),
                findings: pushed
                    .image
                    .scan
                    .as_ref()
                    .map(|scan| scan.findings.clone())
                    .unwrap_or_default(),
            })
            .collect();
        FindingKey {
            images: Some(images),
            ..self.clone()
        }
    }

    /// Returns the images to grade against, or the reason answers cannot be graded now: the
    /// evidence was not read, or no pushed image has a finding that counts, so that no answer
    /// could be correct.
    fn images(&self) -> Result<&[ImageFindings], AnswerError> {
        let Some(images) = &self.images else {
            return Err(AnswerError::NoScanEvidence);
        };
        let floor = severity_rank(&self.min_severity);
        let answerable = images
            .iter()
            .flat_map(|image| &image.findings)
            .any(|finding| severity_rank(&finding.severity) >= floor);
        if !answerable {
            return Err(AnswerError::NoCompletedScan {
                severities: self.severity_range(),
            });
        }
        Ok(images)
    }

    /// Returns the first of `findings` that counts for this key, most severe first as
    /// DescribeImageScanFindings sorts them, and its value of the key's field: an answer that
    /// grades as correct once the key reads the evidence that contains `findings`.
    pub(super) fn answer_from<'a>(&self, findings: &'a [ScanFinding]) -> Option<&'a str> {
        let floor = severity_rank(&self.min_severity);
        findings
            .iter()
            .filter(|finding| severity_rank(&finding.severity) >= floor)
            .find_map(|finding| self.field.value(finding))
    }

    /// Returns why answers cannot be graded now, or `None` when they can.
    pub(super) fn unavailable(&self) -> Option<AnswerError> {
        self.images().err()
    }

    fn values(&self) -> impl Iterator<Item = &str> {
        self.images
            .iter()
            .flatten()
            .flat_map(|image| &image.findings)
            .filter_map(|finding| self.field.value(finding))
    }

    /// Reads the one value of the key's field that `answer` gives. A CVE id is found by its
    /// form. A package name is found among the package names of the findings, or is the whole
    /// answer when it is one word.
    pub(super) fn read(&self, answer: &str) -> Result<String, AnswerError> {
        self.images()?;
        let mut found: Vec<String> = Vec::new();
        let words = answer_words(answer);
        for word in &words {
            let value = match self.field {
                FindingField::Name => cve_id(word),
                FindingField::PackageName => self
                    .values()
                    .find(|value| value.eq_ignore_ascii_case(word))
                    .map(str::to_owned),
            };
            if let Some(value) = value.filter(|value| !found.contains(value)) {
                found.push(value);
            }
        }
        match (found.len(), self.field) {
            (1, _) => Ok(found.remove(0)),
            (0, FindingField::PackageName) if words.len() == 1 => Ok(words[0].to_lowercase()),
            (0, field) => Err(AnswerError::NoFindingValue {
                answer: answer.to_owned(),
                field: field.name(),
            }),
            (_, field) => Err(AnswerError::SeveralFindingValues {
                answer: answer.to_owned(),
                field: field.name(),
                values: found,
            }),
        }
    }

    /// Grades a value that [`FindingKey::read`] returned: correct when a finding of a pushed
    /// image has it, at `min_severity` or above. Returns the notes for the student.
    pub(super) fn judge(&self, value: &str) -> (bool, Vec<String>) {
        let Ok(images) = self.images() else {
            return (false, Vec::new());
        };
        let floor = severity_rank(&self.min_severity);
        let matching: Vec<(&ImageFindings, &ScanFinding)> = images
            .iter()
            .flat_map(|image| image.findings.iter().map(move |finding| (image, finding)))
            .filter(|(_, finding)| {
                self.field
                    .value(finding)
                    .is_some_and(|named| named.eq_ignore_ascii_case(value))
            })
            .collect();
        if matching
            .iter()
            .any(|(_, finding)| severity_rank(&finding.severity) >= floor)
        {
            return (true, Vec::new());
        }

        let described = self.field.describe(value);
        let note = match matching.first() {
            Some((image, _)) => {
                let severities = severities_of(matching.iter().map(|(_, finding)| *finding));
                format!(
                    "{described} has findings of severity {severities} in {}, and the question asks for {}",
                    image.name,
                    self.severity_range()
                )
            }
            None => format!(
                "{described} is not the {} of any finding of {}",
                self.field,
                list_names(images)
            ),
        };
        (false, vec![note])
    }

    /// Returns the correct answers from the findings, such as `libssl3 (CRITICAL CVE-2024-5535
    /// in my-app:scan)`, or `None` while answers cannot be graded.
    pub(super) fn correct_answer(&self) -> Option<String> {
        let images = self.images().ok()?;
        let floor = severity_rank(&self.min_severity);
        let mut answers: Vec<String> = Vec::new();
        for image in images {
            for finding in &image.findings {
                if severity_rank(&finding.severity) < floor {
                    continue;
                }
                let Some(value) = self.field.value(finding) else {
                    continue;
                };
                let detail = match self.field {
                    FindingField::Name => finding
                        .package_name
                        .as_deref()
                        .map(|package| format!("{} in package {package}", finding.severity))
                        .unwrap_or_else(|| finding.severity.clone()),
                    FindingField::PackageName => format!("{} {}", finding.severity, finding.name),
                };
                answers.push(format!("{value} ({detail} in {})", image.name));
            }
        }
        Some(answers.join("; or "))
    }

    /// Names the severities that count: `HIGH or CRITICAL`, or `CRITICAL`.
    fn severity_range(&self) -> String {
        let floor = severity_rank(&self.min_severity);
        let counted: Vec<&str> = SEVERITIES
            .iter()
            .rev()
            .copied()
            .filter(|severity| severity_rank(severity) >= floor)
            .collect();
        counted.join(" or ")
    }
}

fn image_name(repository: &str, tags: &[String]) -> String {
    match tags.first() {
        Some(tag) => format!("{repository}:{tag}"),
        None => format!("an untagged image in {repository}"),
    }
}

fn list_names(images: &[ImageFindings]) -> String {
    let names: Vec<&str> = images.iter().map(|image| image.name.as_str()).collect();
    names.join(", ")
}

/// Lists the distinct severities of `findings`, most severe first: `MEDIUM or LOW`.
fn severities_of<'a>(findings: impl Iterator<Item = &'a ScanFinding>) -> String {
    let mut severities: Vec<&str> = findings.map(|finding| finding.severity.as_str()).collect();
    severities.sort_by_key(|severity| std::cmp::Reverse(severity_rank(severity)));
    severities.dedup();
    severities.join(" or ")
}

/// Splits an answer into words at whitespace and at punctuation that cannot be part of a
/// package name or a CVE id. Debian package names contain `+`, `-` and `.` (Debian Policy
/// 5.6.1), so those stay, except a `.` at the end of a word.
fn answer_words(answer: &str) -> Vec<&str> {
    answer
        .split(|c: char| c.is_whitespace() || ",;:!?\"'`()[]{}<>".contains(c))
        .map(|word| word.trim_end_matches('.'))
        .filter(|word| !word.is_empty())
        .collect()
}

/// Reads a CVE id in any case and returns it in upper case. The form is `CVE-YYYY-NNNN`, with
/// four or more digits in the last part (CVE ID syntax, cve.org).
fn cve_id(word: &str) -> Option<String> {
    let upper = word.to_ascii_uppercase();
    let rest = upper.strip_prefix("CVE-")?;
    let (year, number) = rest.split_once('-')?;
    let digits = |part: &str| part.bytes().all(|byte| byte.is_ascii_digit());
    (year.len() == 4 && digits(year) && number.len() >= 4 && digits(number)).then_some(upper)
}

#[cfg(test)]
mod tests;
