//! Validation of repository names and tags, with ECR's constraints.

use crate::error::CoreError;

/// ECR's limits on repository names: 2 to 256 characters (Amazon ECR API Reference,
/// CreateRepository, `repositoryName`).
const REPOSITORY_NAME_LENGTH: std::ops::RangeInclusive<usize> = 2..=256;

/// The pattern of `RepositoryName` in the ECR API model (botocore's `ecr/2015-09-21`
/// service model), quoted in error messages.
const REPOSITORY_NAME_PATTERN: &str =
    r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*";

/// Checks a repository name against ECR's pattern: `/`-separated components of lowercase
/// letters and digits, joined inside a component by `.`, `_`, `__` or a run of `-`.
pub fn validate_repository_name(name: &str) -> Result<(), CoreError> {
    if !REPOSITORY_NAME_LENGTH.contains(&name.len()) {
        return Err(CoreError::invalid(
            "repositoryName",
            format!(
                "Member must have length between {} and {} (got {} characters in '{}')",
                REPOSITORY_NAME_LENGTH.start(),
                REPOSITORY_NAME_LENGTH.end(),
                name.len(),
                truncate(name)
            ),
        ));
    }
    if !name.split('/').all(is_valid_component) {
        return Err(CoreError::invalid(
            "repositoryName",
            format!(
                "must satisfy regular expression '{REPOSITORY_NAME_PATTERN}' (got '{}': use lowercase letters and digits, joined by '.', '_', '__', '-' or '/')",
                truncate(name)
            ),
        ));
    }
    Ok(())
}

/// Matches one component: `[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*`.
fn is_valid_component(component: &str) -> bool {
    let is_alphanumeric = |byte: &u8| byte.is_ascii_lowercase() || byte.is_ascii_digit();
    let bytes = component.as_bytes();
    let (Some(first), Some(last)) = (bytes.first(), bytes.last()) else {
        return false;
    };
    if !is_alphanumeric(first) || !is_alphanumeric(last) {
        return false;
    }
    // Between alphanumeric runs, each run of other bytes must be one allowed separator.
    bytes
        .split(is_alphanumeric)
        .filter(|separator| !separator.is_empty())
        .all(|separator| {
            matches!(separator, b"." | b"_" | b"__") || separator.iter().all(|&byte| byte == b'-')
        })
}

/// Checks an image tag against the OCI distribution specification's tag pattern,
/// `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
pub fn validate_tag(tag: &str) -> Result<(), CoreError> {
    let bytes = tag.as_bytes();
    let valid_first = bytes
        .first()
        .is_some_and(|&byte| byte.is_ascii_alphanumeric() || byte == b'_');
    let valid_rest = bytes[1.min(bytes.len())..]
        .iter()
        .all(|&byte| byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-'));
    if valid_first && valid_rest && bytes.len() <= 128 {
        return Ok(());
    }
    Err(CoreError::invalid(
        "imageTag",
        format!(
            "must satisfy regular expression '[a-zA-Z0-9_][a-zA-Z0-9._-]{{0,127}}' (got '{}')",
            truncate(tag)
        ),
    ))
}

/// Returns the account and region that an ECR-shaped registry host names, such as
/// `123456789012.dkr.ecr.us-east-1.amazonaws.com:5000`: `<account>.dkr.ecr.<region>.<suffix>`,
/// with `ecr-fips` for FIPS endpoints, or `<account>.dkr-ecr.<region>.<suffix>` for dual-stack
/// endpoints ("Amazon ECR endpoints and quotas"). A port is ignored. Other names, such as
/// `localhost:5000`, give `None`.
pub fn registry_of_host(host: &str) -> Option<(String, String)> {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|byte| byte.is_ascii_digit()) => name,
        _ => host,
    };
    let labels: Vec<&str> = name.split('.').collect();
    let (account, region, suffix) = match labels.as_slice() {
        [account, "dkr", "ecr" | "ecr-fips", region, suffix @ ..] => (account, region, suffix),
        [account, "dkr-ecr" | "dkr-ecr-fips", region, suffix @ ..] => (account, region, suffix),
        _ => return None,
    };
    let account_valid = account.len() == 12 && account.bytes().all(|byte| byte.is_ascii_digit());
    let region_valid = !region.is_empty()
        && region
            .bytes()
            .all(|byte| byte.is_ascii_lowercase() || byte.is_ascii_digit() || byte == b'-');
    let suffix_valid = !suffix.is_empty() && suffix.iter().all(|label| !label.is_empty());
    (account_valid && region_valid && suffix_valid)
        .then(|| ((*account).to_owned(), (*region).to_owned()))
}

fn truncate(text: &str) -> String {
    text.chars().take(300).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repository_names_follow_ecr_pattern() {
        let valid = [
            "my-app",
            "team/my-app",
            "a1",
            "a.b_c-d/e/f",
            "project-a/nginx-web-app",
            "my--app",
            "a__b",
            "a---b/c",
        ];
        for name in valid {
            assert!(
                validate_repository_name(name).is_ok(),
                "{name} should be valid"
            );
        }
        let invalid = [
            "a",
            "My-App",
            "-app",
            "app-",
            "a//b",
            "/app",
            "app/",
            "my app",
            "ab/..",
            "ab/../etc",
            "mü-app",
            "a_.b",
            "a___b",
            "a..b",
            "a-.b",
        ];
        for name in invalid {
            assert!(
                validate_repository_name(name).is_err(),
                "{name} should be invalid"
            );
        }
        assert!(validate_repository_name(&"a".repeat(257)).is_err());
        assert!(validate_repository_name(&"a".repeat(256)).is_ok());
    }

    #[test]
    fn invalid_name_message_names_value() {
        let message = validate_repository_name("My-App").unwrap_err().to_string();
        assert!(message.contains("'My-App'"), "{message}");
        assert!(message.contains("repositoryName"), "{message}");
    }

    #[test]
    fn tags_follow_oci_pattern() {
        for tag in ["latest", "v1.2.3", "_x", "A-b_c.d", &"t".repeat(128)] {
            assert!(validate_tag(tag).is_ok(), "{tag} should be valid");
        }
        for tag in ["", "-x", ".x", "a:b", "a/b", &"t".repeat(129)] {
            assert!(validate_tag(tag).is_err(), "{tag} should be invalid");
        }
    }

    #[test]
    fn ecr_shaped_hosts_name_their_registry() {
        let named = |account: &str, region: &str| Some((account.to_owned(), region.to_owned()));
        let cases = [
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com",
                named("123456789012", "us-east-1"),
            ),
            (
                "123456789012.dkr.ecr.eu-west-2.amazonaws.com:5000",
                named("123456789012", "eu-west-2"),
            ),
            (
                "210987654321.dkr.ecr-fips.us-gov-west-1.amazonaws.com",
                named("210987654321", "us-gov-west-1"),
            ),
            (
                "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
                named("123456789012", "cn-north-1"),
            ),
            (
                "123456789012.dkr-ecr.us-east-1.on.aws",
                named("123456789012", "us-east-1"),
            ),
            ("localhost:5000", None),
            ("127.0.0.1:5000", None),
            ("12345.dkr.ecr.us-east-1.amazonaws.com", None),
            ("123456789012.dkr.ecr.us-east-1", None),
            ("123456789012.dkr.ecr..amazonaws.com", None),
            ("123456789012.dkr.ecr.US-EAST-1.amazonaws.com", None),
        ];
        for (host, expected) in cases {
            assert_eq!(registry_of_host(host), expected, "{host}");
        }
    }
}
