//! Repositories: create, describe, delete and change settings.

use super::{IMMUTABLE, MUTABLE, NewRepository, Registry, Repository};
use crate::error::CoreError;
use crate::names::validate_repository_name;
use crate::store::db::{self, RepositoryRow, Scope};

impl Registry {
    pub fn create_repository(
        &self,
        scope: &Scope,
        new: NewRepository,
    ) -> Result<Repository, CoreError> {
        validate_repository_name(&new.name)?;
        validate_mutability(&new.tag_mutability)?;
        let row = RepositoryRow {
            name: new.name,
            created_at: self.now_millis(),
            tag_mutability: new.tag_mutability,
            scan_on_push: new.scan_on_push,
            encryption_type: new.encryption_type,
            kms_key: new.kms_key,
        };
        self.db.transaction(|tx| {
            if db::repository(tx, scope, &row.name)?.is_some() {
                return Err(CoreError::RepositoryAlreadyExists {
                    name: row.name.clone(),
                    registry_id: scope.account.clone(),
                });
            }
            db::insert_repository(tx, scope, &row)
        })?;
        Ok(self.repository_view(scope, row))
    }

    /// Lists repositories: all of them, or those named (every name must exist).
    pub fn describe_repositories(
        &self,
        scope: &Scope,
        names: Option<&[String]>,
    ) -> Result<Vec<Repository>, CoreError> {
        let rows = self.db.transaction(|tx| match names {
            None => db::repositories(tx, scope),
            Some(names) => names
                .iter()
                .map(|name| self.require_repository(tx, scope, name))
                .collect(),
        })?;
        Ok(rows
            .into_iter()
            .map(|row| self.repository_view(scope, row))
            .collect())
    }

    /// Returns one repository, or RepositoryNotFound.
    pub fn repository(&self, scope: &Scope, name: &str) -> Result<Repository, CoreError> {
        let row = self
            .db
            .transaction(|tx| self.require_repository(tx, scope, name))?;
        Ok(self.repository_view(scope, row))
    }

    /// Deletes a repository; one that holds images needs `force`, as in ECR.
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

    pub fn put_image_tag_mutability(
        &self,
        scope: &Scope,
        name: &str,
        tag_mutability: &str,
    ) -> Result<Repository, CoreError> {
        validate_mutability(tag_mutability)?;
        self.update_repository(scope, name, |row| {
            row.tag_mutability = tag_mutability.to_owned()
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

fn validate_mutability(value: &str) -> Result<(), CoreError> {
    if value == MUTABLE || value == IMMUTABLE {
        return Ok(());
    }
    Err(CoreError::invalid(
        "imageTagMutability",
        format!("Member must satisfy enum value set: [MUTABLE, IMMUTABLE] (got '{value}')"),
    ))
}
