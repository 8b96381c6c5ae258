//! Repository policies: stored and returned as ECR does, checked for shape, never enforced.

use serde_json::{Map, Value};

use super::Registry;
use crate::error::CoreError;
use crate::store::db::{self, Scope};

/// The maximum length of a policy text, in characters (API model: `RepositoryPolicyText`).
pub const MAX_POLICY_LENGTH: usize = 10_240;

/// The IAM policy language versions.
const POLICY_VERSIONS: [&str; 2] = ["2012-10-17", "2008-10-17"];

const STATEMENT_KEYS: [&str; 9] = [
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

const PRINCIPAL_KINDS: [&str; 4] = ["AWS", "Service", "Federated", "CanonicalUser"];

/// A repository's policy as the API returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepositoryPolicy {
    pub registry_id: String,
    pub repository: String,
    pub policy_text: String,
}

impl Registry {
    /// Validates and stores a repository policy, replacing the one before.
    ///
    /// NOTE: ECR's `force` skips its check that the policy would lock the caller out of
    /// SetRepositoryPolicy. The mock enforces no policy, so there is no lockout to check and
    /// `force` changes nothing.
    pub fn set_repository_policy(
        &self,
        scope: &Scope,
        repository: &str,
        policy_text: &str,
    ) -> Result<RepositoryPolicy, CoreError> {
        validate_policy(policy_text)?;
        self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            db::set_repository_policy(tx, scope, repository, policy_text)
        })?;
        Ok(self.policy_view(scope, repository, policy_text.to_owned()))
    }

    /// Returns a repository's policy, or RepositoryPolicyNotFound.
    pub fn repository_policy(
        &self,
        scope: &Scope,
        repository: &str,
    ) -> Result<RepositoryPolicy, CoreError> {
        let text = self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            self.require_policy(tx, scope, repository)
        })?;
        Ok(self.policy_view(scope, repository, text))
    }

    /// Deletes a repository's policy and returns it, or RepositoryPolicyNotFound.
    pub fn delete_repository_policy(
        &self,
        scope: &Scope,
        repository: &str,
    ) -> Result<RepositoryPolicy, CoreError> {
        let text = self.db.transaction(|tx| {
            self.require_repository(tx, scope, repository)?;
            let text = self.require_policy(tx, scope, repository)?;
            db::delete_repository_policy(tx, scope, repository)?;
            Ok(text)
        })?;
        Ok(self.policy_view(scope, repository, text))
    }

    fn require_policy(
        &self,
        conn: &rusqlite::Connection,
        scope: &Scope,
        repository: &str,
    ) -> Result<String, CoreError> {
        db::repository_policy(conn, scope, repository)?.ok_or_else(|| {
            CoreError::RepositoryPolicyNotFound {
                name: repository.to_owned(),
                registry_id: scope.account.clone(),
            }
        })
    }

    fn policy_view(&self, scope: &Scope, repository: &str, text: String) -> RepositoryPolicy {
        RepositoryPolicy {
            registry_id: scope.account.clone(),
            repository: repository.to_owned(),
            policy_text: text,
        }
    }
}

/// Checks that `text` is an IAM resource policy a repository can carry: a JSON object with a
/// `Version` and one or more statements, each with an `Effect`, a principal and ECR actions.
fn validate_policy(text: &str) -> Result<(), CoreError> {
    let length = text.chars().count();
    if length > MAX_POLICY_LENGTH {
        return Err(CoreError::invalid(
            "policyText",
            format!(
                "Member must have length less than or equal to {MAX_POLICY_LENGTH} (got {length} characters)"
            ),
        ));
    }
    check_policy(text).map_err(|reason| {
        CoreError::invalid(
            "policyText",
            format!("Invalid repository policy provided: {reason}"),
        )
    })
}

fn check_policy(text: &str) -> Result<(), String> {
    let policy: Value =
        serde_json::from_str(text).map_err(|error| format!("the text is not JSON ({error})"))?;
    let Value::Object(policy) = policy else {
        return Err("the policy must be a JSON object".into());
    };
    if let Some(key) = policy
        .keys()
        .find(|key| !["Version", "Statement", "Id"].contains(&key.as_str()))
    {
        return Err(format!(
            "unknown element '{key}': a policy contains only Version, Id and Statement"
        ));
    }

    match policy.get("Version") {
        Some(Value::String(version)) if POLICY_VERSIONS.contains(&version.as_str()) => {}
        Some(other) => {
            return Err(format!("Version is {other}: use \"2012-10-17\""));
        }
        None => return Err("Version is missing: add \"Version\": \"2012-10-17\"".into()),
    }

    let statements = match policy.get("Statement") {
        Some(Value::Array(statements)) if !statements.is_empty() => statements.iter().collect(),
        Some(statement @ Value::Object(_)) => vec![statement],
        Some(_) => {
            return Err("Statement must be an object or a non-empty array of objects".into());
        }
        None => return Err("Statement is missing".into()),
    };
    for (index, statement) in statements.into_iter().enumerate() {
        let Value::Object(statement) = statement else {
            return Err(format!("Statement[{index}] is not an object"));
        };
        check_statement(statement).map_err(|reason| format!("Statement[{index}]: {reason}"))?;
    }
    Ok(())
}

fn check_statement(statement: &Map<String, Value>) -> Result<(), String> {
    if let Some(key) = statement
        .keys()
        .find(|key| !STATEMENT_KEYS.contains(&key.as_str()))
    {
        return Err(format!(
            "unknown element '{key}': use {}",
            STATEMENT_KEYS.join(", ")
        ));
    }
    if let Some(sid) = statement.get("Sid") {
        if !sid.is_string() {
            return Err(format!("Sid is {sid}, not a string"));
        }
    }
    match statement.get("Effect").and_then(Value::as_str) {
        Some("Allow" | "Deny") => {}
        _ => return Err("Effect must be \"Allow\" or \"Deny\"".into()),
    }

    let principal = exactly_one(statement, "Principal", "NotPrincipal")?;
    check_principal(principal)?;
    let actions = exactly_one(statement, "Action", "NotAction")?;
    check_actions(actions)?;

    if let Some(condition) = statement.get("Condition") {
        if !condition.is_object() {
            return Err("Condition must be an object of operators".into());
        }
    }
    Ok(())
}

/// Returns the value of `key` or of `not_key`, whichever the statement has; it needs one.
fn exactly_one<'a>(
    statement: &'a Map<String, Value>,
    key: &str,
    not_key: &str,
) -> Result<&'a Value, String> {
    match (statement.get(key), statement.get(not_key)) {
        (Some(value), None) | (None, Some(value)) => Ok(value),
        (Some(_), Some(_)) => Err(format!("use either {key} or {not_key}, not both")),
        (None, None) => Err(format!(
            "{key} is missing: a repository policy names who it applies to and which ecr: actions"
        )),
    }
}

/// Checks a principal, which is `"*"` or an object such as
/// `{"AWS": ["arn:aws:iam::123456789012:root"]}`.
fn check_principal(principal: &Value) -> Result<(), String> {
    match principal {
        Value::String(text) if text == "*" => Ok(()),
        Value::Object(kinds) if !kinds.is_empty() => {
            for (kind, value) in kinds {
                if !PRINCIPAL_KINDS.contains(&kind.as_str()) {
                    return Err(format!(
                        "Principal type '{kind}' is unknown: use {}",
                        PRINCIPAL_KINDS.join(", ")
                    ));
                }
                strings(value).ok_or_else(|| {
                    format!("Principal {kind} must be a string or a non-empty array of strings")
                })?;
            }
            Ok(())
        }
        other => Err(format!(
            "Principal is {other}: use \"*\" or an object such as {{\"AWS\": \"arn:aws:iam::123456789012:root\"}}"
        )),
    }
}

/// Checks actions, which are `"*"` or ECR actions such as `ecr:BatchGetImage`, with `*`
/// wildcards allowed.
fn check_actions(actions: &Value) -> Result<(), String> {
    let actions =
        strings(actions).ok_or("Action must be a string or a non-empty array of strings")?;
    for action in actions {
        let ecr = action
            .get(..4)
            .is_some_and(|prefix| prefix.eq_ignore_ascii_case("ecr:"));
        if action != "*" && !(ecr && action.len() > 4) {
            return Err(format!(
                "action '{action}' is not an ECR action: a repository policy grants only actions such as ecr:BatchGetImage"
            ));
        }
    }
    Ok(())
}

/// Reads a string, or a non-empty array of strings, as a list.
fn strings(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::String(text) => Some(vec![text.as_str()]),
        Value::Array(items) if !items.is_empty() => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PULL_POLICY: &str = r#"{
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowPull",
            "Effect": "Allow",
            "Principal": {"AWS": ["arn:aws:iam::210987654321:root"]},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]
        }]
    }"#;

    #[test]
    fn valid_policies_are_accepted() {
        let accepted = [
            PULL_POLICY,
            r#"{"Version":"2008-10-17","Statement":{"Effect":"Deny","Principal":"*","Action":"ecr:*"}}"#,
            r#"{"Version":"2012-10-17","Id":"p","Statement":[{"Effect":"Allow","NotPrincipal":{"Service":"codebuild.amazonaws.com"},"NotAction":"ecr:Delete*","Condition":{"StringEquals":{"aws:SourceAccount":"123456789012"}}}]}"#,
        ];
        for policy in accepted {
            assert!(validate_policy(policy).is_ok(), "{policy}");
        }
    }

    #[test]
    fn invalid_policies_name_the_problem() {
        let long = format!(
            "{{\"Version\":\"2012-10-17\",\"Id\":\"{}\"}}",
            "x".repeat(10_240)
        );
        let cases = [
            ("not json", "not JSON"),
            ("[1]", "JSON object"),
            (r#"{"Statement":[]}"#, "Version is missing"),
            (
                r#"{"Version":"2020-01-01","Statement":[]}"#,
                "Version is \"2020-01-01\"",
            ),
            (r#"{"Version":"2012-10-17"}"#, "Statement is missing"),
            (
                r#"{"Version":"2012-10-17","Statement":[]}"#,
                "non-empty array",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[1]}"#,
                "Statement[0] is not an object",
            ),
            (
                r#"{"Version":"2012-10-17","Statment":[]}"#,
                "unknown element 'Statment'",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Permit","Principal":"*","Action":"ecr:*"}]}"#,
                "Effect must be",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"ecr:*"}]}"#,
                "Principal is missing",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"everyone","Action":"ecr:*"}]}"#,
                "Principal is \"everyone\"",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"User":"x"},"Action":"ecr:*"}]}"#,
                "Principal type 'User'",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":[]},"Action":"ecr:*"}]}"#,
                "Principal AWS must be",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*"}]}"#,
                "Action is missing",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}"#,
                "'s3:GetObject' is not an ECR action",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","NotAction":"ecr:Get*"}]}"#,
                "not both",
            ),
            (
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"ecr:*","Condition":"yes"}]}"#,
                "Condition must be",
            ),
            (&long, "less than or equal to 10240"),
        ];
        for (policy, expected) in cases {
            let message = validate_policy(policy).expect_err(expected).to_string();
            assert!(message.contains(expected), "{expected}: {message}");
            assert!(message.contains("'policyText'"), "{message}");
        }
    }
}
