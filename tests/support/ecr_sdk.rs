//! aws-sdk-ecr calls that several integration tests make the same way. Each function panics
//! with the failed call's name and error, because a test cannot go on without its result.

use aws_sdk_ecr::types::ImageTagMutability;
use base64::Engine as _;

/// Creates repository `name` with CreateRepository.
///
/// `None` sends no `imageTagMutability`, so the repository gets ECR's default, `MUTABLE`.
pub async fn create_repository(
    ecr: &aws_sdk_ecr::Client,
    name: &str,
    mutability: Option<ImageTagMutability>,
) {
    ecr.create_repository()
        .repository_name(name)
        .set_image_tag_mutability(mutability)
        .send()
        .await
        .unwrap_or_else(|error| panic!("CreateRepository {name} failed: {error:?}"));
}

/// Calls GetAuthorizationToken and decodes the first `authorizationToken` into the user name
/// and password of a registry login. The token is base64 of `user:password` (AuthorizationData
/// in the Amazon ECR API Reference). Callers that depend on the user name check it themselves.
pub async fn registry_credentials(ecr: &aws_sdk_ecr::Client) -> (String, String) {
    let output = ecr
        .get_authorization_token()
        .send()
        .await
        .unwrap_or_else(|error| panic!("GetAuthorizationToken failed: {error:?}"));
    let token = output.authorization_data()[0]
        .authorization_token()
        .expect("the authorization data has an authorizationToken");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token)
        .expect("the authorizationToken is base64");
    let decoded = String::from_utf8(decoded).expect("the authorizationToken is UTF-8");
    let (user, password) = decoded
        .split_once(':')
        .expect("the authorizationToken has the form user:password");
    (user.to_owned(), password.to_owned())
}
