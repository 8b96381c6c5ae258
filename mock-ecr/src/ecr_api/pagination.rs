//! `maxResults` and `nextToken` handling shared by the paginated operations.
//!
//! A `nextToken` carries the offset of the next item and an HMAC-SHA256 (RFC 2104) over that
//! offset and the request it continues: operation, account, region and every parameter that
//! selects the items. The key is [`Registry::page_token_key`], random per mock, so a token is
//! rejected when it is forged, edited, sent with another operation, repository or filter, or
//! sent to another mock.

use base64::Engine as _;
use serde_json::{Value, json};

use super::ApiError;
use crate::core::Registry;
use crate::store::db::Scope;

/// The largest `maxResults` of most operations (the API model's `MaxResults`, 1 to 1000).
pub(super) const MAX_RESULTS: i64 = 1000;

const TOKEN_PREFIX: &str = "ecrlab-page-v2";

/// Checks `maxResults` against the API model's `MaxResults` range, 1 to 1000.
pub(super) fn max_results(value: Option<i64>) -> Result<Option<usize>, ApiError> {
    max_results_up_to(value, MAX_RESULTS)
}

/// Checks `maxResults` against the range 1 to `limit` that the operation's model gives.
pub(super) fn max_results_up_to(value: Option<i64>, limit: i64) -> Result<Option<usize>, ApiError> {
    match value {
        None => Ok(None),
        Some(count) if (1..=limit).contains(&count) => Ok(Some(count as usize)),
        Some(other) => Err(ApiError::invalid(format!(
            "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and {limit}' (got {other})"
        ))),
    }
}

/// Pages through the results of one request: the operation and the parameters that select
/// the items, which every `nextToken` it issues or accepts is bound to.
pub(super) struct Pager<'a> {
    key: &'a [u8; 32],
    binding: String,
}

impl<'a> Pager<'a> {
    /// Starts a pager for `operation` in `scope`.
    pub(super) fn new(registry: &'a Registry, scope: &Scope, operation: &str) -> Self {
        Self {
            key: registry.page_token_key(),
            binding: format!("{operation}\n{}\n{}", scope.account, scope.region),
        }
    }

    /// Binds tokens to one more request parameter, such as the repository or a filter.
    pub(super) fn bind(mut self, name: &str, value: &str) -> Self {
        self.binding.push('\n');
        self.binding.push_str(name);
        self.binding.push('=');
        self.binding.push_str(&value.replace('\n', "\\n"));
        self
    }

    /// Splits `items` into the page that `next_token` starts, of at most `max_results` items,
    /// and returns it with the token of the next page when more items follow.
    pub(super) fn page<T>(
        &self,
        mut items: Vec<T>,
        max_results: Option<usize>,
        next_token: Option<&str>,
    ) -> Result<(Vec<T>, Option<String>), ApiError> {
        let start = match next_token {
            None => 0,
            Some(token) => self.decode(token)?,
        };
        if start > items.len() {
            return Err(ApiError::invalid(format!(
                "Invalid parameter at 'nextToken': '{}' points past the end of the results, which changed since it was issued; repeat the request without nextToken",
                next_token.unwrap_or_default()
            )));
        }

        let page_size = max_results.unwrap_or(usize::MAX);
        let mut page: Vec<T> = items.drain(start..).collect();
        let next = if page.len() > page_size {
            page.truncate(page_size);
            Some(self.encode(start + page_size))
        } else {
            None
        };
        Ok((page, next))
    }

    fn encode(&self, offset: usize) -> String {
        let mac = hex::encode(self.sign(offset));
        base64::engine::general_purpose::STANDARD.encode(format!("{TOKEN_PREFIX}:{offset}:{mac}"))
    }

    fn decode(&self, token: &str) -> Result<usize, ApiError> {
        let rejected = || {
            ApiError::invalid(format!(
                "Invalid parameter at 'nextToken': '{token}' was not issued for this request by this run of the mock (tokens do not outlive a restart); pass the nextToken of the previous page of the same operation with the same repository and filter, or repeat the request without nextToken"
            ))
        };
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(token)
            .map_err(|_| rejected())?;
        let text = String::from_utf8(bytes).map_err(|_| rejected())?;
        let mut parts = text.splitn(3, ':');
        let (Some(TOKEN_PREFIX), Some(offset), Some(mac)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(rejected());
        };
        let offset: usize = offset.parse().map_err(|_| rejected())?;
        let mac = hex::decode(mac).map_err(|_| rejected())?;
        if !crate::mac::constant_time_eq(&mac, &self.sign(offset)) {
            return Err(rejected());
        }
        Ok(offset)
    }

    fn sign(&self, offset: usize) -> [u8; 32] {
        crate::mac::hmac_sha256(self.key, format!("{}\n{offset}", self.binding).as_bytes())
    }
}

pub(super) fn with_next_token(mut output: Value, next: Option<String>) -> Value {
    if let Some(next) = next {
        output["nextToken"] = json!(next);
    }
    output
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [7; 32];

    fn pager(operation: &str, repository: &str) -> Pager<'static> {
        Pager {
            key: &KEY,
            binding: format!("{operation}\n123456789012\nus-east-1"),
        }
        .bind("repositoryName", repository)
    }

    #[test]
    fn pages_split_and_resume() {
        let items: Vec<u32> = (0..5).collect();
        let pager = pager("ListImages", "my-app");
        let (first, next) = pager.page(items.clone(), Some(2), None).unwrap();
        assert_eq!(first, vec![0, 1]);
        let next = next.expect("a second page");
        let (second, last) = pager.page(items.clone(), Some(2), Some(&next)).unwrap();
        assert_eq!(second, vec![2, 3]);
        let (third, end) = pager.page(items, Some(2), last.as_deref()).unwrap();
        assert_eq!(third, vec![4]);
        assert_eq!(end, None);
    }

    #[test]
    fn forged_token_is_rejected() {
        let error = pager("ListImages", "my-app")
            .page(vec![1, 2], Some(1), Some("forged"))
            .unwrap_err();
        assert_eq!(error.kind, "InvalidParameterException");
        assert!(error.message.contains("'forged'"), "{}", error.message);
    }

    #[test]
    fn token_of_another_listing_is_rejected() {
        let (_, token) = pager("ListImages", "my-app")
            .page(vec![1, 2, 3], Some(1), None)
            .unwrap();
        let token = token.expect("a second page");
        let other_repository =
            pager("ListImages", "other").page(vec![1, 2, 3], Some(1), Some(&token));
        assert!(other_repository.is_err());
        let other_operation =
            pager("DescribeImages", "my-app").page(vec![1, 2, 3], Some(1), Some(&token));
        assert!(other_operation.is_err());
    }

    #[test]
    fn edited_offset_is_rejected() {
        let pager = pager("ListImages", "my-app");
        let token = pager.encode(1);
        let text = String::from_utf8(
            base64::engine::general_purpose::STANDARD
                .decode(&token)
                .unwrap(),
        )
        .unwrap();
        let edited =
            base64::engine::general_purpose::STANDARD.encode(text.replacen(":1:", ":2:", 1));
        assert!(pager.page(vec![1, 2, 3], Some(1), Some(&edited)).is_err());
    }

    #[test]
    fn token_past_the_end_is_rejected() {
        let pager = pager("ListImages", "my-app");
        let token = pager.encode(9);
        let error = pager.page(vec![1, 2], Some(1), Some(&token)).unwrap_err();
        assert!(error.message.contains("past the end"), "{}", error.message);
    }

    #[test]
    fn max_results_range_is_enforced() {
        assert!(max_results(Some(0)).is_err());
        assert!(max_results(Some(1001)).is_err());
        assert_eq!(max_results(Some(1000)).unwrap(), Some(1000));
        assert!(max_results_up_to(Some(51), 50).is_err());
        assert_eq!(max_results_up_to(Some(50), 50).unwrap(), Some(50));
    }
}
