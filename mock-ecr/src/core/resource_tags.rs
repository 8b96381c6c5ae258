//! Resource tags on repositories: TagResource, UntagResource, ListTagsForResource and the tags
//! of CreateRepository, addressed by the repository's ARN.

use std::collections::HashSet;

use super::Registry;
use crate::error::CoreError;
use crate::store::db::{self, Scope};

/// The maximum number of resource tags on one repository (API model, TooManyTagsException).
pub const MAX_RESOURCE_TAGS: usize = 50;

/// The maximum lengths of a tag key and value, in characters (API model,
/// InvalidTagParameterException).
const MAX_KEY_LENGTH: usize = 128;
const MAX_VALUE_LENGTH: usize = 256;

/// The key prefix that AWS reserves for its own tags.
const RESERVED_PREFIX: &str = "aws:";

/// One resource tag; ECR's wire form is `{"Key": ..., "Value": ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceTag {
    pub key: String,
    pub value: String,
}

impl Registry {
    /// Adds tags to the repository that `arn` names, replacing the values of keys it has.
    pub fn tag_resource(
        &self,
        scope: &Scope,
        arn: &str,
        tags: &[ResourceTag],
    ) -> Result<(), CoreError> {
        let name = repository_name_from_arn(scope, arn)?;
        validate_tags(tags)?;
        self.db.transaction(|tx| {
            self.require_repository(tx, scope, name)?;
            let mut keys: HashSet<String> = db::resource_tags(tx, scope, name)?
                .into_iter()
                .map(|(key, _)| key)
                .collect();
            keys.extend(tags.iter().map(|tag| tag.key.clone()));
            check_tag_count(name, keys.len())?;
            for tag in tags {
                db::set_resource_tag(tx, scope, name, &tag.key, &tag.value)?;
            }
            Ok(())
        })
    }

    /// Removes tags by key from the repository that `arn` names; a key it lacks is no error.
    pub fn untag_resource(
        &self,
        scope: &Scope,
        arn: &str,
        keys: &[String],
    ) -> Result<(), CoreError> {
        let name = repository_name_from_arn(scope, arn)?;
        for key in keys {
            validate_key("tagKeys", key)?;
        }
        self.db.transaction(|tx| {
            self.require_repository(tx, scope, name)?;
            for key in keys {
                db::delete_resource_tag(tx, scope, name, key)?;
            }
            Ok(())
        })
    }

    /// Lists the tags of the repository that `arn` names, sorted by key.
    pub fn list_tags_for_resource(
        &self,
        scope: &Scope,
        arn: &str,
    ) -> Result<Vec<ResourceTag>, CoreError> {
        let name = repository_name_from_arn(scope, arn)?;
        let tags = self.db.transaction(|tx| {
            self.require_repository(tx, scope, name)?;
            db::resource_tags(tx, scope, name)
        })?;
        Ok(tags
            .into_iter()
            .map(|(key, value)| ResourceTag { key, value })
            .collect())
    }
}

/// Reads the repository name from `arn:aws:ecr:<region>:<account>:repository/<name>`. An ARN of
/// another partition, service, region or account does not name a repository of this registry.
fn repository_name_from_arn<'a>(scope: &Scope, arn: &'a str) -> Result<&'a str, CoreError> {
    let invalid = |reason: String| {
        CoreError::invalid(
            "resourceArn",
            format!(
                "{reason} (got '{arn}'): use the repositoryArn that CreateRepository or DescribeRepositories returns"
            ),
        )
    };
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = parts.as_slice() else {
        return Err(invalid(
            "ARN must have the form arn:aws:ecr:<region>:<account>:repository/<name>".into(),
        ));
    };
    if *prefix != "arn" || *partition != "aws" || *service != "ecr" {
        return Err(invalid(
            "ARN must start with 'arn:aws:ecr:' to name an ECR repository".into(),
        ));
    }
    if *region != scope.region || *account != scope.account {
        return Err(invalid(format!(
            "ARN names region '{region}' and account '{account}', but this request is for region '{}' and account '{}'",
            scope.region, scope.account
        )));
    }
    match resource.strip_prefix("repository/") {
        Some(name) if !name.is_empty() => Ok(name),
        _ => Err(invalid("ARN resource must be 'repository/<name>'".into())),
    }
}

/// Checks that a repository would have at most [`MAX_RESOURCE_TAGS`] tags.
pub(super) fn check_tag_count(repository: &str, count: usize) -> Result<(), CoreError> {
    if count <= MAX_RESOURCE_TAGS {
        return Ok(());
    }
    Err(CoreError::TooManyTags {
        repository: repository.to_owned(),
        count,
        limit: MAX_RESOURCE_TAGS,
    })
}

/// Checks every key and value, and that no key appears twice in one request.
pub(super) fn validate_tags(tags: &[ResourceTag]) -> Result<(), CoreError> {
    let mut seen = HashSet::new();
    for tag in tags {
        validate_key("tags.Key", &tag.key)?;
        validate_value(&tag.key, &tag.value)?;
        if !seen.insert(tag.key.as_str()) {
            return Err(invalid_tag(
                "tags.Key",
                format!(
                    "the key '{}' appears more than once: give each key one value",
                    tag.key
                ),
            ));
        }
    }
    Ok(())
}

/// Checks one key; `field` names the request member it came from in messages.
fn validate_key(field: &str, key: &str) -> Result<(), CoreError> {
    let length = key.chars().count();
    if !(1..=MAX_KEY_LENGTH).contains(&length) {
        return Err(invalid_tag(
            field,
            format!("the key '{key}' has {length} characters: use 1 to {MAX_KEY_LENGTH}"),
        ));
    }
    if let Some(c) = key.chars().find(|&c| !is_tag_character(c)) {
        return Err(invalid_tag(field, disallowed_character("key", key, c)));
    }
    if key
        .get(..RESERVED_PREFIX.len())
        .is_some_and(|prefix| prefix.eq_ignore_ascii_case(RESERVED_PREFIX))
    {
        return Err(invalid_tag(
            field,
            format!(
                "the key '{key}' starts with '{RESERVED_PREFIX}', which AWS reserves for its own tags: choose another key"
            ),
        ));
    }
    Ok(())
}

fn validate_value(key: &str, value: &str) -> Result<(), CoreError> {
    let length = value.chars().count();
    if length > MAX_VALUE_LENGTH {
        return Err(invalid_tag(
            "tags.Value",
            format!(
                "the value of key '{key}' has {length} characters: use at most {MAX_VALUE_LENGTH}"
            ),
        ));
    }
    if let Some(c) = value.chars().find(|&c| !is_tag_character(c)) {
        return Err(invalid_tag(
            "tags.Value",
            disallowed_character("value", value, c),
        ));
    }
    Ok(())
}

/// Returns whether a tag key or value may contain `c`: letters, numbers, spaces and `_ . : / = + - @`.
/// ECR's API model gives no pattern, so this follows the one that the ECS and IAM API models
/// give their tag shapes, `[\p{L}\p{Z}\p{N}_.:/=+\-@]*`.
fn is_tag_character(c: char) -> bool {
    c.is_alphanumeric()
        || (c.is_whitespace() && !c.is_control())
        || matches!(c, '_' | '.' | ':' | '/' | '=' | '+' | '-' | '@')
}

fn disallowed_character(part: &str, text: &str, c: char) -> String {
    format!("the {part} '{text}' contains '{c}': use letters, numbers, spaces and _ . : / = + - @")
}

fn invalid_tag(field: &str, reason: String) -> CoreError {
    CoreError::InvalidTagParameter {
        field: field.to_owned(),
        reason,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope() -> Scope {
        Scope {
            account: "123456789012".into(),
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn repository_arn_parsing() {
        let accepted = [
            (
                "arn:aws:ecr:us-east-1:123456789012:repository/my-app",
                "my-app",
            ),
            (
                "arn:aws:ecr:us-east-1:123456789012:repository/team/my-app",
                "team/my-app",
            ),
        ];
        for (arn, name) in accepted {
            assert_eq!(
                repository_name_from_arn(&scope(), arn).ok(),
                Some(name),
                "{arn}"
            );
        }

        let rejected = [
            ("my-app", "must have the form"),
            (
                "arn:aws:s3:us-east-1:123456789012:repository/my-app",
                "'arn:aws:ecr:'",
            ),
            (
                "arn:aws-cn:ecr:us-east-1:123456789012:repository/my-app",
                "'arn:aws:ecr:'",
            ),
            (
                "arn:aws:ecr:eu-west-1:123456789012:repository/my-app",
                "region 'eu-west-1'",
            ),
            (
                "arn:aws:ecr:us-east-1:210987654321:repository/my-app",
                "account '210987654321'",
            ),
            (
                "arn:aws:ecr:us-east-1:123456789012:image/my-app",
                "'repository/<name>'",
            ),
            (
                "arn:aws:ecr:us-east-1:123456789012:repository/",
                "'repository/<name>'",
            ),
        ];
        for (arn, expected) in rejected {
            let message = repository_name_from_arn(&scope(), arn)
                .expect_err(arn)
                .to_string();
            assert!(message.contains(expected), "{arn}: {message}");
            assert!(message.contains(arn), "{arn}: {message}");
        }
    }

    #[test]
    fn tag_validation() {
        let tag = |key: &str, value: &str| ResourceTag {
            key: key.to_owned(),
            value: value.to_owned(),
        };
        let accepted = [
            tag("team", "payments"),
            tag("cost-center", ""),
            tag("owner@example.com", "a b/c=d+e:f"),
            tag("Ünïcode", "値"),
            tag(&"k".repeat(128), &"v".repeat(256)),
        ];
        for accepted in accepted {
            assert!(
                validate_tags(std::slice::from_ref(&accepted)).is_ok(),
                "{accepted:?}"
            );
        }

        let rejected = [
            (vec![tag("", "x")], "0 characters"),
            (vec![tag(&"k".repeat(129), "x")], "129 characters"),
            (vec![tag("team", &"v".repeat(257))], "257 characters"),
            (vec![tag("aws:team", "x")], "reserves"),
            (vec![tag("AWS:team", "x")], "reserves"),
            (vec![tag("team!", "x")], "contains '!'"),
            (vec![tag("team", "x\ny")], "contains '\n'"),
            (vec![tag("team", "a"), tag("team", "b")], "more than once"),
        ];
        for (tags, expected) in rejected {
            let error = validate_tags(&tags).expect_err(expected);
            assert!(
                matches!(error, CoreError::InvalidTagParameter { .. }),
                "{error:?}"
            );
            let message = error.to_string();
            assert!(message.contains(expected), "{tags:?}: {message}");
        }
    }

    #[test]
    fn tag_count_limit() {
        assert!(check_tag_count("my-app", MAX_RESOURCE_TAGS).is_ok());
        let error = check_tag_count("my-app", MAX_RESOURCE_TAGS + 1).expect_err("51 tags");
        assert!(
            matches!(
                error,
                CoreError::TooManyTags {
                    count: 51,
                    limit: 50,
                    ..
                }
            ),
            "{error:?}"
        );
    }
}
