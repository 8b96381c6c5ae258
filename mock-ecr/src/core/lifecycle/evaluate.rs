//! Evaluation of a lifecycle policy against a repository's images, without storage.
//!
//! The semantics follow the Amazon ECR User Guide, "How lifecycle policies work": rules are
//! applied from the lowest `rulePriority` up, an image is expired by exactly one or zero
//! rules, and an image that matches the tag selection of a rule cannot be expired by a rule
//! with a higher `rulePriority` number.

use std::collections::HashSet;

use super::policy::{CountLimit, LifecyclePolicy, Rule, TagSelection};
use crate::core::wildcard_matches;

/// An image as evaluation sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    pub digest: String,
    pub tags: Vec<String>,
    /// Push time in milliseconds since the Unix epoch.
    pub pushed_at: i64,
    /// Whether an image index or manifest list in the repository names this image.
    pub referenced_by_index: bool,
}

/// An image that a policy expires, with the rule that expires it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Expiration {
    pub digest: String,
    pub tags: Vec<String>,
    pub pushed_at: i64,
    pub rule_priority: i64,
}

/// Returns the images `policy` expires at `now` (milliseconds since the Unix epoch), ordered by
/// rule priority, then newest push first.
///
/// NOTE: images named by an image index are left out before any rule runs, so they neither
/// expire nor count towards `imageCountMoreThan`. ECR documents that it does not expire them;
/// whether it counts them is not documented.
pub fn evaluate(policy: &LifecyclePolicy, images: &[Candidate], now: i64) -> Vec<Expiration> {
    let mut claimed: HashSet<&str> = HashSet::new();
    let mut expired = Vec::new();
    for rule in &policy.rules {
        let mut selected: Vec<&Candidate> = images
            .iter()
            .filter(|image| !image.referenced_by_index)
            .filter(|image| !claimed.contains(image.digest.as_str()))
            .filter(|image| selects(&rule.tags, &image.tags))
            .collect();
        claimed.extend(selected.iter().map(|image| image.digest.as_str()));
        selected.sort_by(|a, b| {
            b.pushed_at
                .cmp(&a.pushed_at)
                .then_with(|| a.digest.cmp(&b.digest))
        });
        expired.extend(expire(rule, &selected, now));
    }
    expired
}

/// Applies a rule's count limit to its selected images, sorted newest first.
fn expire(rule: &Rule, selected: &[&Candidate], now: i64) -> Vec<Expiration> {
    let expiring: Vec<&Candidate> = match rule.count {
        CountLimit::ImageCountMoreThan(keep) => selected.iter().skip(keep).copied().collect(),
        CountLimit::SinceImagePushedDays(_) => {
            let age_limit = rule.count.age_millis().unwrap_or(i64::MAX);
            selected
                .iter()
                .filter(|image| now.saturating_sub(image.pushed_at) > age_limit)
                .copied()
                .collect()
        }
    };
    expiring
        .into_iter()
        .map(|image| Expiration {
            digest: image.digest.clone(),
            tags: image.tags.clone(),
            pushed_at: image.pushed_at,
            rule_priority: rule.priority,
        })
        .collect()
}

/// Whether a tag selection matches an image with `tags`. With several prefixes or patterns,
/// the image needs a matching tag for each of them (Amazon ECR User Guide, "Lifecycle policy
/// properties": only images with all specified tags are selected).
pub fn selects(selection: &TagSelection, tags: &[String]) -> bool {
    match selection {
        TagSelection::Any => true,
        TagSelection::Untagged => tags.is_empty(),
        TagSelection::TaggedPrefixes(prefixes) => {
            !tags.is_empty()
                && prefixes
                    .iter()
                    .all(|prefix| tags.iter().any(|tag| tag.starts_with(prefix.as_str())))
        }
        TagSelection::TaggedPatterns(patterns) => {
            !tags.is_empty()
                && patterns
                    .iter()
                    .all(|pattern| tags.iter().any(|tag| wildcard_matches(pattern, tag)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::policy::parse_lifecycle_policy;
    use super::*;

    const DAY: i64 = 24 * 60 * 60 * 1000;
    const NOW: i64 = 100 * DAY;

    fn image(digest: &str, tags: &[&str], age_days: i64) -> Candidate {
        Candidate {
            digest: digest.into(),
            tags: tags.iter().map(|tag| (*tag).to_owned()).collect(),
            pushed_at: NOW - age_days * DAY,
            referenced_by_index: false,
        }
    }

    fn policy(rules: &str) -> LifecyclePolicy {
        // Trailing spaces bring short test policies to ECR's minimum length of 100 characters.
        let text = format!(r#"{{"rules": [{rules}]}}{}"#, " ".repeat(100));
        parse_lifecycle_policy(&text).expect("valid policy")
    }

    fn expired_digests(policy: &LifecyclePolicy, images: &[Candidate]) -> Vec<String> {
        evaluate(policy, images, NOW)
            .into_iter()
            .map(|expiration| expiration.digest)
            .collect()
    }

    #[test]
    fn count_rule_keeps_newest() {
        let policy = policy(
            r#"{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":2},"action":{"type":"expire"}}"#,
        );
        let images = [
            image("a", &["v1"], 4),
            image("b", &[], 3),
            image("c", &["v3"], 2),
            image("d", &["v4"], 1),
        ];
        assert_eq!(expired_digests(&policy, &images), ["b", "a"]);
    }

    #[test]
    fn age_rule_expires_older_images() {
        let policy = policy(
            r#"{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}"#,
        );
        let images = [
            image("old", &[], 15),
            image("boundary", &[], 14),
            image("tagged-old", &["v1"], 30),
        ];
        assert_eq!(expired_digests(&policy, &images), ["old"]);
    }

    #[test]
    fn higher_priority_match_protects_image() {
        let policy = policy(
            r#"{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["prod"],"countType":"imageCountMoreThan","countNumber":5},"action":{"type":"expire"}},
               {"rulePriority":2,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}"#,
        );
        let images = [
            image("prod-old", &["prod-1"], 5),
            image("dev-old", &["dev-1"], 4),
            image("prod-new", &["prod-2"], 3),
            image("dev-new", &["dev-2"], 2),
        ];
        assert_eq!(expired_digests(&policy, &images), ["dev-old"]);
    }

    #[test]
    fn prefixes_and_patterns_need_every_entry() {
        let tags = |list: &[&str]| list.iter().map(|tag| (*tag).to_owned()).collect::<Vec<_>>();
        let prefixes = TagSelection::TaggedPrefixes(tags(&["alpha", "beta"]));
        assert!(selects(&prefixes, &tags(&["alpha-1", "beta-1"])));
        assert!(!selects(&prefixes, &tags(&["alpha-1"])));
        let patterns = TagSelection::TaggedPatterns(tags(&["prod*", "*-eu"]));
        assert!(selects(&patterns, &tags(&["prod-2", "release-eu"])));
        assert!(!selects(&patterns, &tags(&["prod-2"])));
        assert!(!selects(&TagSelection::Untagged, &tags(&["x"])));
        assert!(selects(&TagSelection::Any, &[]));
    }

    #[test]
    fn index_children_never_expire() {
        let policy = policy(
            r#"{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":1},"action":{"type":"expire"}}"#,
        );
        let mut child = image("child", &[], 10);
        child.referenced_by_index = true;
        let images = [
            child,
            image("loose-old", &[], 9),
            image("loose-new", &[], 1),
        ];
        assert_eq!(expired_digests(&policy, &images), ["loose-old"]);
    }
}
