//! Lifecycle policy text: parsing and ECR's validation rules.
//!
//! The rules follow the Amazon ECR User Guide, "Lifecycle policy properties": each rule has a
//! unique integer `rulePriority`, a `selection` and an `action` of type `expire`, and a rule
//! with `tagStatus` `any` must have the highest `rulePriority`.

use serde_json::{Map, Value};

use crate::error::CoreError;

/// The minimum length of a lifecycle policy text, in characters (API model:
/// `LifecyclePolicyText`).
pub const MIN_LIFECYCLE_POLICY_LENGTH: usize = 100;

/// The maximum length of a lifecycle policy text, in characters (API model:
/// `LifecyclePolicyText`).
pub const MAX_LIFECYCLE_POLICY_LENGTH: usize = 30_720;

/// The maximum number of `*` wildcards in one `tagPatternList` entry (Amazon ECR User Guide,
/// "Lifecycle policy properties").
pub const MAX_PATTERN_WILDCARDS: usize = 4;

const MILLIS_PER_DAY: i64 = 24 * 60 * 60 * 1000;

const RULE_KEYS: [&str; 4] = ["rulePriority", "description", "selection", "action"];
const SELECTION_KEYS: [&str; 6] = [
    "tagStatus",
    "tagPrefixList",
    "tagPatternList",
    "countType",
    "countUnit",
    "countNumber",
];

/// A validated lifecycle policy, its rules sorted by `rulePriority`, lowest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecyclePolicy {
    pub rules: Vec<Rule>,
}

/// One rule of a lifecycle policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub priority: i64,
    pub tags: TagSelection,
    pub count: CountLimit,
}

/// The images a rule selects by their tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagSelection {
    /// Tagged images that have, for every prefix, a tag starting with it.
    TaggedPrefixes(Vec<String>),
    /// Tagged images that have, for every wildcard pattern, a tag matching it.
    TaggedPatterns(Vec<String>),
    Untagged,
    Any,
}

/// When a selected image expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountLimit {
    /// `imageCountMoreThan`: all but the newest `n` selected images expire.
    ImageCountMoreThan(usize),
    /// `sinceImagePushed` with `countUnit` `days`: images pushed more than `n` days ago expire.
    SinceImagePushedDays(i64),
}

impl CountLimit {
    /// The age limit in milliseconds, for `sinceImagePushed`.
    pub fn age_millis(self) -> Option<i64> {
        match self {
            Self::ImageCountMoreThan(_) => None,
            Self::SinceImagePushedDays(days) => Some(days.saturating_mul(MILLIS_PER_DAY)),
        }
    }
}

/// Parses and validates a lifecycle policy text. Every failure is an
/// [`CoreError::InvalidParameter`] on `lifecyclePolicyText` that names the rule and field.
pub fn parse_lifecycle_policy(text: &str) -> Result<LifecyclePolicy, CoreError> {
    let length = text.chars().count();
    if !(MIN_LIFECYCLE_POLICY_LENGTH..=MAX_LIFECYCLE_POLICY_LENGTH).contains(&length) {
        return Err(CoreError::invalid(
            "lifecyclePolicyText",
            format!(
                "Member must have length between {MIN_LIFECYCLE_POLICY_LENGTH} and {MAX_LIFECYCLE_POLICY_LENGTH} (got {length} characters)"
            ),
        ));
    }
    parse_policy(text).map_err(|reason| {
        CoreError::invalid(
            "lifecyclePolicyText",
            format!("Lifecycle policy validation failure: {reason}"),
        )
    })
}

fn parse_policy(text: &str) -> Result<LifecyclePolicy, String> {
    let policy: Value =
        serde_json::from_str(text).map_err(|error| format!("the text is not JSON ({error})"))?;
    let Value::Object(policy) = policy else {
        return Err("the policy must be a JSON object with a \"rules\" array".into());
    };
    reject_unknown_keys(&policy, &["rules"], "the policy")?;
    let rules = match policy.get("rules") {
        Some(Value::Array(rules)) if !rules.is_empty() => rules,
        Some(_) => return Err("\"rules\" must be a non-empty array of rules".into()),
        None => return Err("\"rules\" is missing: a policy contains a \"rules\" array".into()),
    };

    let mut parsed = Vec::with_capacity(rules.len());
    for (index, rule) in rules.iter().enumerate() {
        parsed.push(parse_rule(index, rule)?);
    }
    parsed.sort_by_key(|rule| rule.priority);
    check_priorities(&parsed)?;
    Ok(LifecyclePolicy { rules: parsed })
}

/// Checks that priorities are unique and that a rule with `tagStatus` `any` comes last.
fn check_priorities(rules: &[Rule]) -> Result<(), String> {
    for pair in rules.windows(2) {
        if pair[0].priority == pair[1].priority {
            return Err(format!(
                "rulePriority {} is used by more than one rule: give each rule a unique rulePriority",
                pair[0].priority
            ));
        }
    }
    let any_rules: Vec<i64> = rules
        .iter()
        .filter(|rule| rule.tags == TagSelection::Any)
        .map(|rule| rule.priority)
        .collect();
    if any_rules.len() > 1 {
        return Err(format!(
            "rules {any_rules:?} all have tagStatus \"any\": a policy has at most one such rule"
        ));
    }
    let highest = rules.last().map(|rule| rule.priority);
    if let Some(&priority) = any_rules.first() {
        if Some(priority) != highest {
            return Err(format!(
                "rule {priority}: a rule with tagStatus \"any\" must have the highest rulePriority (the highest is {})",
                highest.unwrap_or(priority)
            ));
        }
    }
    Ok(())
}

fn parse_rule(index: usize, rule: &Value) -> Result<Rule, String> {
    let Value::Object(rule) = rule else {
        return Err(format!("rules[{index}] is not an object"));
    };
    let priority = match rule.get("rulePriority") {
        Some(value) => match value.as_i64() {
            Some(priority) if priority >= 1 => priority,
            _ => {
                return Err(format!(
                    "rules[{index}]: rulePriority is {value}: use an integer of 1 or more"
                ));
            }
        },
        None => return Err(format!("rules[{index}]: rulePriority is missing")),
    };
    let label = format!("rule {priority}");
    reject_unknown_keys(rule, &RULE_KEYS, &label)?;
    if let Some(description) = rule.get("description") {
        if !description.is_string() {
            return Err(format!(
                "{label}: description is {description}, not a string"
            ));
        }
    }
    parse_action(rule.get("action"), &label)?;
    let Some(Value::Object(selection)) = rule.get("selection") else {
        return Err(format!("{label}: selection is missing or not an object"));
    };
    reject_unknown_keys(selection, &SELECTION_KEYS, &format!("{label} selection"))?;
    let tags = parse_tag_selection(selection, &label)?;
    let count = parse_count(selection, &label)?;
    Ok(Rule {
        priority,
        tags,
        count,
    })
}

/// Checks `action`, which must be `{"type": "expire"}`.
///
/// NOTE: ECR also accepts `"type": "transition"` to the archive storage class; the mock has
/// no storage classes, so it rejects that action instead of ignoring it.
fn parse_action(action: Option<&Value>, label: &str) -> Result<(), String> {
    let Some(Value::Object(action)) = action else {
        return Err(format!(
            "{label}: action is missing or not an object: use {{\"type\": \"expire\"}}"
        ));
    };
    reject_unknown_keys(action, &["type"], &format!("{label} action"))?;
    match action.get("type") {
        Some(Value::String(kind)) if kind == "expire" => Ok(()),
        Some(Value::String(kind)) if kind == "transition" => Err(format!(
            "{label}: action.type \"transition\" is not supported by mock-ecr: use \"expire\""
        )),
        Some(other) => Err(format!("{label}: action.type is {other}: use \"expire\"")),
        None => Err(format!("{label}: action.type is missing: use \"expire\"")),
    }
}

fn parse_tag_selection(
    selection: &Map<String, Value>,
    label: &str,
) -> Result<TagSelection, String> {
    let prefixes = string_list(selection, "tagPrefixList", label)?;
    let patterns = string_list(selection, "tagPatternList", label)?;
    let status = match selection.get("tagStatus") {
        Some(Value::String(status)) => status.as_str(),
        Some(other) => {
            return Err(format!(
                "{label}: selection.tagStatus is {other}: use \"tagged\", \"untagged\" or \"any\""
            ));
        }
        None => return Err(format!("{label}: selection.tagStatus is missing")),
    };
    match (status, prefixes, patterns) {
        ("tagged", Some(_), Some(_)) => Err(format!(
            "{label}: use either selection.tagPrefixList or selection.tagPatternList, not both"
        )),
        ("tagged", Some(prefixes), None) => Ok(TagSelection::TaggedPrefixes(prefixes)),
        ("tagged", None, Some(patterns)) => {
            check_patterns(&patterns, label)?;
            Ok(TagSelection::TaggedPatterns(patterns))
        }
        ("tagged", None, None) => Err(format!(
            "{label}: tagStatus \"tagged\" requires selection.tagPrefixList or selection.tagPatternList"
        )),
        ("untagged" | "any", Some(_), _) => Err(format!(
            "{label}: selection.tagPrefixList is allowed only with tagStatus \"tagged\""
        )),
        ("untagged" | "any", _, Some(_)) => Err(format!(
            "{label}: selection.tagPatternList is allowed only with tagStatus \"tagged\""
        )),
        ("untagged", None, None) => Ok(TagSelection::Untagged),
        ("any", None, None) => Ok(TagSelection::Any),
        (other, _, _) => Err(format!(
            "{label}: selection.tagStatus \"{other}\" is invalid: use \"tagged\", \"untagged\" or \"any\""
        )),
    }
}

fn check_patterns(patterns: &[String], label: &str) -> Result<(), String> {
    for pattern in patterns {
        let wildcards = pattern.matches('*').count();
        if wildcards > MAX_PATTERN_WILDCARDS {
            return Err(format!(
                "{label}: selection.tagPatternList entry \"{pattern}\" has {wildcards} wildcards, over the maximum of {MAX_PATTERN_WILDCARDS}"
            ));
        }
    }
    Ok(())
}

/// Reads an optional non-empty list of non-empty strings.
fn string_list(
    selection: &Map<String, Value>,
    key: &str,
    label: &str,
) -> Result<Option<Vec<String>>, String> {
    let Some(value) = selection.get(key) else {
        return Ok(None);
    };
    let invalid =
        || format!("{label}: selection.{key} must be a non-empty array of non-empty strings");
    let Value::Array(items) = value else {
        return Err(invalid());
    };
    if items.is_empty() {
        return Err(invalid());
    }
    items
        .iter()
        .map(|item| match item {
            Value::String(text) if !text.is_empty() => Ok(text.clone()),
            _ => Err(invalid()),
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

fn parse_count(selection: &Map<String, Value>, label: &str) -> Result<CountLimit, String> {
    let number = match selection.get("countNumber") {
        Some(value) => match value.as_i64() {
            Some(number) if number >= 1 => number,
            _ => {
                return Err(format!(
                    "{label}: selection.countNumber is {value}: use an integer of 1 or more"
                ));
            }
        },
        None => return Err(format!("{label}: selection.countNumber is missing")),
    };
    let unit = selection.get("countUnit");
    match selection.get("countType").and_then(Value::as_str) {
        Some("imageCountMoreThan") => {
            if unit.is_some() {
                return Err(format!(
                    "{label}: selection.countUnit is allowed only with countType \"sinceImagePushed\""
                ));
            }
            let count = usize::try_from(number).unwrap_or(usize::MAX);
            Ok(CountLimit::ImageCountMoreThan(count))
        }
        Some("sinceImagePushed") => match unit {
            Some(Value::String(unit)) if unit == "days" => {
                Ok(CountLimit::SinceImagePushedDays(number))
            }
            Some(other) => Err(format!(
                "{label}: selection.countUnit is {other}: use \"days\""
            )),
            None => Err(format!(
                "{label}: countType \"sinceImagePushed\" requires selection.countUnit \"days\""
            )),
        },
        Some(other @ ("sinceImagePulled" | "sinceImageTransitioned")) => Err(format!(
            "{label}: selection.countType \"{other}\" is not supported by mock-ecr: use \"imageCountMoreThan\" or \"sinceImagePushed\""
        )),
        _ => Err(format!(
            "{label}: selection.countType is {}: use \"imageCountMoreThan\" or \"sinceImagePushed\"",
            selection
                .get("countType")
                .map_or_else(|| "missing".to_owned(), Value::to_string)
        )),
    }
}

fn reject_unknown_keys(
    object: &Map<String, Value>,
    allowed: &[&str],
    label: &str,
) -> Result<(), String> {
    match object.keys().find(|key| !allowed.contains(&key.as_str())) {
        Some(key) => Err(format!(
            "{label}: unknown property \"{key}\": use {}",
            allowed.join(", ")
        )),
        None => Ok(()),
    }
}
