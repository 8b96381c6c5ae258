//! Repositories: create, describe, delete and change settings, and the tag mutability rule.

use super::resource_tags::{check_tag_count, validate_tags};
use super::{
    IMMUTABLE, IMMUTABLE_WITH_EXCLUSION, MUTABLE, MUTABLE_WITH_EXCLUSION, NewRepository, Registry,
    Repository,
};
use crate::error::CoreError;
use crate::names::validate_repository_name;
use crate::store::db::{self, RepositoryRow, Scope};

/// The maximum number of tag mutability exclusion filters on one repository (API model:
/// `ImageTagMutabilityExclusionFilters` has at most 5 members).
pub const MAX_EXCLUSION_FILTERS: usize = 5;

/// The maximum length of an exclusion filter, in characters (API model:
/// `ImageTagMutabilityExclusionFilterValue`).
const MAX_EXCLUSION_FILTER_LENGTH: usize = 128;

/// The maximum number of scopes (account and region) whose repository lists are kept in
/// memory; reaching it empties the cache.
pub(super) const REPOSITORY_LISTS_CAPACITY: usize = 64;

const MUTABILITY_VALUES: [&str; 4] = [
    MUTABLE,
    IMMUTABLE,
    IMMUTABLE_WITH_EXCLUSION,
    MUTABLE_WITH_EXCLUSION,
];

impl Registry {
    pub fn create_repository(
        &self,
        scope: &Scope,
        new: NewRepository,
    ) -> Result<Repository, CoreError> {
        validate_repository_name(&new.name)?;
        validate_mutability(&new.tag_mutability, &new.tag_mutability_exclusions)?;
        validate_tags(&new.tags)?;
        check_tag_count(&new.name, new.tags.len())?;
        let row = RepositoryRow {
            name: new.name,
            created_at: self.now_millis(),
            tag_mutability: new.tag_mutability,
            scan_on_push: new.scan_on_push,
            encryption_type: new.encryption_type,
            kms_key: new.kms_key,
            tag_mutability_exclusions: new.tag_mutability_exclusions,
        };
        self.db.transaction(|tx| {
            if db::repository(tx, scope, &row.name)?.is_some() {
                return Err(CoreError::RepositoryAlreadyExists {
                    name: row.name.clone(),
                    registry_id: scope.account.clone(),
                });
            }
            db::insert_repository(tx, scope, &row)?;
            for tag in &new.tags {
                db::set_resource_tag(tx, scope, &row.name, &tag.key, &tag.value)?;
            }
            Ok(())
        })?;
        Ok(self.repository_view(scope, row))
    }

    /// Lists repositories: all of them, or those named (every name must exist).
    pub fn describe_repositories(
        &self,
        scope: &Scope,
        names: Option<&[String]>,
    ) -> Result<Vec<Repository>, CoreError> {
        let Some(names) = names else {
            return self.all_repositories(scope);
        };
        let rows = self.db.transaction(|tx| {
            names
                .iter()
                .map(|name| self.require_repository(tx, scope, name))
                .collect::<Result<Vec<_>, _>>()
        })?;
        Ok(rows
            .into_iter()
            .map(|row| self.repository_view(scope, row))
            .collect())
    }

    /// Lists every repository of `scope`, from memory while the database is unchanged.
    fn all_repositories(&self, scope: &Scope) -> Result<Vec<Repository>, CoreError> {
        let generation = self.db.generation();
        if let Some(repositories) = self.repository_lists.get(generation, scope) {
            return Ok(repositories);
        }
        let rows = self.db.transaction(|tx| db::repositories(tx, scope))?;
        let repositories: Vec<Repository> = rows
            .into_iter()
            .map(|row| self.repository_view(scope, row))
            .collect();
        self.repository_lists
            .insert(generation, scope.clone(), &repositories);
        Ok(repositories)
    }

    /// Returns one repository, or RepositoryNotFound.
    pub fn repository(&self, scope: &Scope, name: &str) -> Result<Repository, CoreError> {
        let row = self
            .db
            .transaction(|tx| self.require_repository(tx, scope, name))?;
        Ok(self.repository_view(scope, row))
    }

    /// Deletes a repository with its resource tags and policy; one that contains images needs
    /// `force`, as in ECR.
    pub fn delete_repository(
        &self,
        scope: &Scope,
        name: &str,
        force: bool,
    ) -> Result<Repository, CoreError> {
        let row = self.db.transaction(|tx| {
            let row = self.require_repository(tx, scope, name)?;
            if !force && db::image_count(tx, scope, name)? > 0 {
                return Err(CoreError::RepositoryNotEmpty {
                    name: name.to_owned(),
                    registry_id: scope.account.clone(),
                });
            }
            db::delete_repository(tx, scope, name)?;
            Ok(row)
        })?;
        Ok(self.repository_view(scope, row))
    }

    /// Sets the tag mutability and its exclusion filters, which replace the filters before.
    pub fn put_image_tag_mutability(
        &self,
        scope: &Scope,
        name: &str,
        tag_mutability: &str,
        exclusions: Vec<String>,
    ) -> Result<Repository, CoreError> {
        validate_mutability(tag_mutability, &exclusions)?;
        self.update_repository(scope, name, |row| {
            row.tag_mutability = tag_mutability.to_owned();
            row.tag_mutability_exclusions = exclusions;
        })
    }

    pub fn put_image_scanning_configuration(
        &self,
        scope: &Scope,
        name: &str,
        scan_on_push: bool,
    ) -> Result<Repository, CoreError> {
        self.update_repository(scope, name, |row| row.scan_on_push = scan_on_push)
    }

    fn update_repository(
        &self,
        scope: &Scope,
        name: &str,
        change: impl FnOnce(&mut RepositoryRow),
    ) -> Result<Repository, CoreError> {
        let row = self.db.transaction(|tx| {
            let mut row = self.require_repository(tx, scope, name)?;
            change(&mut row);
            db::update_repository_settings(tx, scope, &row)?;
            Ok(row)
        })?;
        Ok(self.repository_view(scope, row))
    }
}

/// Checks a tag mutability setting with its exclusion filters: the `*_WITH_EXCLUSION`
/// settings need 1 to 5 filters, and the others take none.
fn validate_mutability(value: &str, exclusions: &[String]) -> Result<(), CoreError> {
    if !MUTABILITY_VALUES.contains(&value) {
        return Err(CoreError::invalid(
            "imageTagMutability",
            format!(
                "Member must satisfy enum value set: [{}] (got '{value}')",
                MUTABILITY_VALUES.join(", ")
            ),
        ));
    }
    let with_exclusion = value == IMMUTABLE_WITH_EXCLUSION || value == MUTABLE_WITH_EXCLUSION;
    if with_exclusion && exclusions.is_empty() {
        return Err(CoreError::invalid(
            "imageTagMutabilityExclusionFilters",
            format!(
                "{value} needs 1 to {MAX_EXCLUSION_FILTERS} exclusion filters: add imageTagMutabilityExclusionFilters=[{{filterType=WILDCARD,filter=<pattern>}}]"
            ),
        ));
    }
    // NOTE: whether ECR rejects or ignores filters sent with MUTABLE or IMMUTABLE was not
    // confirmed; rejecting them keeps a student from believing they take effect.
    if !with_exclusion && !exclusions.is_empty() {
        return Err(CoreError::invalid(
            "imageTagMutabilityExclusionFilters",
            format!(
                "exclusion filters apply only to {IMMUTABLE_WITH_EXCLUSION} and {MUTABLE_WITH_EXCLUSION}, not to {value}: remove the filters or change the setting"
            ),
        ));
    }
    if exclusions.len() > MAX_EXCLUSION_FILTERS {
        return Err(CoreError::invalid(
            "imageTagMutabilityExclusionFilters",
            format!(
                "Member must have length less than or equal to {MAX_EXCLUSION_FILTERS} (got {} filters)",
                exclusions.len()
            ),
        ));
    }
    exclusions
        .iter()
        .try_for_each(|filter| validate_exclusion_filter(filter))
}

/// Checks one filter against the API model's pattern `^[0-9a-zA-Z._*-]{1,128}$`.
fn validate_exclusion_filter(filter: &str) -> Result<(), CoreError> {
    let length = filter.chars().count();
    let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '*' | '-');
    if (1..=MAX_EXCLUSION_FILTER_LENGTH).contains(&length) && filter.chars().all(allowed) {
        return Ok(());
    }
    Err(CoreError::invalid(
        "imageTagMutabilityExclusionFilters.filter",
        format!(
            "Member must satisfy regular expression pattern: ^[0-9a-zA-Z._*-]{{1,128}}$ (got '{filter}'): use 1 to 128 letters, digits, '.', '_', '-' and the wildcard '*'"
        ),
    ))
}

/// Returns whether `tag` may not be moved to another image under this tag mutability setting
/// and these exclusion filters. The API model describes the filters as the tags "excluded from
/// the image tag mutability setting", so a matching tag is mutable under
/// IMMUTABLE_WITH_EXCLUSION and immutable under MUTABLE_WITH_EXCLUSION.
pub fn tag_is_immutable(tag_mutability: &str, exclusions: &[String], tag: &str) -> bool {
    let excluded = || {
        exclusions
            .iter()
            .any(|filter| wildcard_matches(filter, tag))
    };
    match tag_mutability {
        IMMUTABLE => true,
        IMMUTABLE_WITH_EXCLUSION => !excluded(),
        MUTABLE_WITH_EXCLUSION => excluded(),
        _ => false,
    }
}

/// Matches `text` against a wildcard `pattern` in which `*` stands for any run of characters,
/// the empty run included, and every other character stands for itself (case-sensitive).
pub fn wildcard_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    let (mut p, mut t) = (0, 0);
    // The last `*` seen and the text position it was tried at, to backtrack to when a literal
    // fails: the star then absorbs one more character.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == '*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star_p, star_t)) = star {
            p = star_p + 1;
            t = star_t + 1;
            star = Some((star_p, star_t + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_matching() {
        let cases = [
            ("latest", "latest", true),
            ("latest", "latest2", false),
            ("latest", "Latest", false),
            ("*", "anything", true),
            ("*", "", true),
            ("dev-*", "dev-", true),
            ("dev-*", "dev-123", true),
            ("dev-*", "prod-123", false),
            ("*-dev", "feature-dev", true),
            ("*-dev", "feature-dev2", false),
            ("v*.*", "v1.2", true),
            ("v*.*", "v12", false),
            ("*rc*", "1.0-rc1", true),
            ("*rc*", "1.0", false),
            ("a*b*c", "abc", true),
            ("a*b*c", "aXbYbZc", true),
            ("a*b*c", "aXbYbZ", false),
            ("**", "x", true),
            ("a*a", "a", false),
            ("a*a", "aa", true),
            ("release.1", "release-1", false),
        ];
        for (pattern, text, expected) in cases {
            assert_eq!(
                wildcard_matches(pattern, text),
                expected,
                "pattern '{pattern}' on '{text}'"
            );
        }
    }

    #[test]
    fn tag_mutability_rule() {
        let filters = vec!["dev-*".to_owned(), "latest".to_owned()];
        let cases = [
            (MUTABLE, "v1", false),
            (MUTABLE, "dev-1", false),
            (IMMUTABLE, "v1", true),
            (IMMUTABLE, "latest", true),
            (IMMUTABLE_WITH_EXCLUSION, "v1", true),
            (IMMUTABLE_WITH_EXCLUSION, "dev-1", false),
            (IMMUTABLE_WITH_EXCLUSION, "latest", false),
            (MUTABLE_WITH_EXCLUSION, "v1", false),
            (MUTABLE_WITH_EXCLUSION, "dev-1", true),
            (MUTABLE_WITH_EXCLUSION, "latest", true),
        ];
        for (mutability, tag, expected) in cases {
            let exclusions: &[String] = if mutability.ends_with("_WITH_EXCLUSION") {
                &filters
            } else {
                &[]
            };
            assert_eq!(
                tag_is_immutable(mutability, exclusions, tag),
                expected,
                "{mutability} with filters {exclusions:?} on tag '{tag}'"
            );
        }
    }

    #[test]
    fn mutability_settings_are_validated() {
        let one = vec!["dev-*".to_owned()];
        let six: Vec<String> = (0..6).map(|i| format!("f{i}")).collect();
        let accepted: [(&str, &[String]); 4] = [
            (MUTABLE, &[]),
            (IMMUTABLE, &[]),
            (IMMUTABLE_WITH_EXCLUSION, &one),
            (MUTABLE_WITH_EXCLUSION, &one),
        ];
        for (value, filters) in accepted {
            assert!(validate_mutability(value, filters).is_ok(), "{value}");
        }

        let bad_filter = vec!["dev/*".to_owned()];
        let long_filter = vec!["a".repeat(129)];
        let empty_filter = vec![String::new()];
        let rejected: [(&str, &[String], &str); 7] = [
            ("SOMETIMES", &[], "enum value set"),
            (IMMUTABLE_WITH_EXCLUSION, &[], "needs 1 to 5"),
            (IMMUTABLE, &one, "apply only to"),
            (MUTABLE_WITH_EXCLUSION, &six, "less than or equal to 5"),
            (MUTABLE_WITH_EXCLUSION, &bad_filter, "'dev/*'"),
            (MUTABLE_WITH_EXCLUSION, &long_filter, "pattern"),
            (MUTABLE_WITH_EXCLUSION, &empty_filter, "pattern"),
        ];
        for (value, filters, expected) in rejected {
            let message = validate_mutability(value, filters)
                .expect_err(value)
                .to_string();
            assert!(message.contains(expected), "{value} {filters:?}: {message}");
        }
    }
}
