//! `maxResults` and `nextToken` handling shared by the paginated operations.

use base64::Engine as _;
use serde_json::{Value, json};

use super::ApiError;

pub(super) fn max_results(value: Option<i64>) -> Result<Option<usize>, ApiError> {
    match value {
        None => Ok(None),
        Some(count @ 1..=1000) => Ok(Some(count as usize)),
        Some(other) => Err(ApiError::invalid(format!(
            "Invalid parameter at 'maxResults' failed to satisfy constraint: 'Member must have value between 1 and 1000' (got {other})"
        ))),
    }
}

/// Splits `items` into one page: a `nextToken` encodes the offset of the next item.
///
/// NOTE: the token is not bound to the request that produced it, so a token from one
/// repository's listing is accepted by another's (AWS rejects that).
pub(super) fn paginate<T>(
    mut items: Vec<T>,
    max_results: Option<usize>,
    next_token: Option<&str>,
) -> Result<(Vec<T>, Option<String>), ApiError> {
    let start = match next_token {
        None => 0,
        Some(token) => decode_token(token).ok_or_else(|| {
            ApiError::invalid(format!(
                "Invalid parameter at 'nextToken': '{token}' is not a token this mock issued; repeat the request without nextToken"
            ))
        })?,
    };
    if start > items.len() {
        return Err(ApiError::invalid(format!(
            "Invalid parameter at 'nextToken': '{}' points past the end of the results; repeat the request without nextToken",
            next_token.unwrap_or_default()
        )));
    }
    let page_size = max_results.unwrap_or(usize::MAX);
    let mut page: Vec<T> = items.drain(start..).collect();
    let next = if page.len() > page_size {
        page.truncate(page_size);
        Some(encode_token(start + page_size))
    } else {
        None
    };
    Ok((page, next))
}

pub(super) fn encode_token(offset: usize) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("ecrlab-page-v1:{offset}"))
}

pub(super) fn decode_token(token: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    text.strip_prefix("ecrlab-page-v1:")?.parse().ok()
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

    #[test]
    fn pagination_splits_and_resumes() {
        let items: Vec<u32> = (0..5).collect();
        let (first, next) = paginate(items.clone(), Some(2), None).unwrap();
        assert_eq!(first, vec![0, 1]);
        let next = next.expect("a second page");
        let (second, last) = paginate(items.clone(), Some(2), Some(&next)).unwrap();
        assert_eq!(second, vec![2, 3]);
        let (third, end) = paginate(items, Some(2), last.as_deref()).unwrap();
        assert_eq!(third, vec![4]);
        assert_eq!(end, None);
    }

    #[test]
    fn pagination_rejects_forged_token() {
        let error = paginate(vec![1, 2], Some(1), Some("forged")).unwrap_err();
        assert_eq!(error.kind, "InvalidParameterException");
        assert!(error.message.contains("'forged'"), "{}", error.message);
        let past_end = encode_token(9);
        assert!(paginate(vec![1, 2], Some(1), Some(&past_end)).is_err());
    }

    #[test]
    fn max_results_range_is_enforced() {
        assert!(max_results(Some(0)).is_err());
        assert!(max_results(Some(1001)).is_err());
        assert_eq!(max_results(Some(1000)).unwrap(), Some(1000));
    }
}
