//! The four checks of the push-to-ECR steps, and the sentences they write. The checks of the
//! drills are in `drills` and the check of the scanning step in `scanning`, which share these
//! helpers.
//!
//! Journal actions come from the mock's admin API: ECR API events carry the operation name
//! (`CreateRepository`, `GetAuthorizationToken`), registry events carry `Login`, `BlobUpload`
//! or `ManifestPut`.
//!
//! Events are matched to repositories by region and name, because the mock keeps one set of
//! repositories per region. An ECR API request acts in the region of its SigV4 credential
//! scope, and a registry request in the region its token was issued for.

mod drills;
mod scanning;

pub(super) use drills::{expired_token_renewed, immutable_tag_rejected, tag_limit_reached};
pub(super) use scanning::scan_findings_read;

use super::Finding;
use crate::evidence::{Evidence, ImageState, JournalEvent, Outcome, RepositoryState, Source};

/// The repository name the lab's instructions use; evidence prefers it when it exists.
const EXAMPLE_REPOSITORY: &str = "my-app";

/// How many events of one kind a failure lists, newest first, and how many names or tags one
/// sentence lists before it counts the rest.
const MAX_LISTED: usize = 3;

/// OCI error codes that mock-ecr returns only after it accepted a request's credentials,
/// because it checks the credentials before anything else. A rejected push with one of them
/// still shows that the client was logged in and named the repository.
///
/// NOTE: DENIED is left out although the mock also returns it for a valid token that would
/// add tag 1,001 to an image, because the same code means missing or expired credentials.
const AUTHENTICATED_ERROR_CODES: [&str; 11] = [
    "BLOB_UNKNOWN",
    "BLOB_UPLOAD_INVALID",
    "BLOB_UPLOAD_UNKNOWN",
    "DIGEST_INVALID",
    "MANIFEST_BLOB_UNKNOWN",
    "MANIFEST_INVALID",
    "MANIFEST_UNKNOWN",
    "NAME_UNKNOWN",
    "SIZE_INVALID",
    "TAG_INVALID",
    "UNSUPPORTED",
];

pub(super) fn repository_created(evidence: &Evidence) -> Finding {
    let created: Vec<&JournalEvent> = api_calls(evidence, "CreateRepository", Outcome::Ok)
        .filter(|event| event.repository.is_some())
        .collect();
    let confirmed: Vec<(&RepositoryState, &JournalEvent)> = evidence
        .repositories
        .iter()
        .filter_map(|repository| {
            created
                .iter()
                .rev()
                .find(|event| names_repository(event, repository))
                .map(|event| (repository, *event))
        })
        .collect();

    let chosen = confirmed
        .iter()
        .find(|(repository, _)| repository.name == EXAMPLE_REPOSITORY)
        .or(confirmed.first());
    if let Some((repository, event)) = chosen {
        let mut lines = vec![
            format!(
                "repository {} exists in {} with URI {} (tag mutability {}, scan on push {})",
                repository.name,
                repository.region,
                repository.uri,
                repository.tag_mutability,
                if repository.scan_on_push { "on" } else { "off" }
            ),
            format!(
                "{} created it with CreateRepository at {}",
                client(event),
                event.time
            ),
        ];
        if repository.name != EXAMPLE_REPOSITORY {
            lines.push(format!(
                "the instructions use {EXAMPLE_REPOSITORY}, but any repository name passes"
            ));
        }
        let others: Vec<String> = confirmed
            .iter()
            .filter(|(other, _)| !std::ptr::eq(*other, *repository))
            .map(|(other, _)| {
                if other.region == repository.region {
                    other.name.clone()
                } else {
                    format!("{} in {}", other.name, other.region)
                }
            })
            .collect();
        if !others.is_empty() {
            lines.push(format!("also created: {}", list_items(&others)));
        }
        return passed(lines);
    }

    let mut lines = Vec::new();
    for event in newest(created.iter().copied()) {
        lines.push(format!(
            "{} created repository {} in {} with CreateRepository at {}, but it no longer exists",
            client(event),
            event.repository.as_deref().unwrap_or_default(),
            event.region,
            event.time
        ));
    }
    for repository in evidence.repositories.iter().take(MAX_LISTED) {
        lines.push(format!(
            "repository {} exists in {}, but the journal has no successful CreateRepository for it",
            repository.name, repository.region
        ));
    }
    for event in newest(api_calls(evidence, "CreateRepository", Outcome::Error)) {
        lines.push(format!(
            "CreateRepository{} from {} failed at {}{}",
            repository_suffix(event),
            client(event),
            event.time,
            error_suffix(event)
        ));
    }
    if lines.is_empty() {
        lines.push(
            "the journal has no CreateRepository call and the registry has no repositories"
                .to_owned(),
        );
    }
    failed(lines)
}

pub(super) fn registry_login(evidence: &Evidence) -> Finding {
    let tokens: Vec<&JournalEvent> =
        api_calls(evidence, "GetAuthorizationToken", Outcome::Ok).collect();
    let Some(first_token) = tokens.first().copied() else {
        let mut lines = vec![
            "the journal has no successful GetAuthorizationToken call, which aws ecr get-login-password makes"
                .to_owned(),
        ];
        for event in newest(api_calls(evidence, "GetAuthorizationToken", Outcome::Error)) {
            lines.push(format!(
                "GetAuthorizationToken from {} failed at {}{}",
                client(event),
                event.time,
                error_suffix(event)
            ));
        }
        return failed(lines);
    };

    let token_line = |token: &JournalEvent| {
        format!(
            "{} got an authorization token for {} with GetAuthorizationToken at {}",
            client(token),
            token.region,
            token.time
        )
    };

    let login = registry_events(evidence, &["Login"]).rfind(|event| event.outcome == Outcome::Ok);
    if let Some(login) = login {
        // A login presents a token of its own region, so prefer the newest such token.
        let earlier = || tokens.iter().rev().filter(|token| token.seq < login.seq);
        let token = earlier()
            .find(|token| token.region == login.region)
            .or_else(|| earlier().next())
            .copied()
            .unwrap_or(first_token);
        return passed(vec![
            token_line(token),
            format!(
                "{} logged in to {} at {}",
                client(login),
                host(login),
                login.time
            ),
        ]);
    }

    let authenticated_push = registry_events(evidence, &["BlobUpload", "ManifestPut"])
        .rfind(|event| event.outcome == Outcome::Ok && event.seq > first_token.seq);
    if let Some(push) = authenticated_push {
        return passed(vec![
            token_line(first_token),
            format!(
                "{} sent {} to {}/{} at {} and the registry accepted its credentials, although no login was journaled",
                client(push),
                request_name(push),
                host(push),
                push.repository.as_deref().unwrap_or_default(),
                push.time
            ),
        ]);
    }

    let mut lines = vec![token_line(tokens.last().copied().unwrap_or(first_token))];
    let rejected = evidence.events.iter().filter(|event| {
        event.source == Source::Registry && event.error_code.as_deref() == Some("DENIED")
    });
    for event in newest(rejected) {
        lines.push(format!(
            "the registry at {} rejected {} from {} at {}{}; log in again if the password was mistyped or the token has expired",
            host(event),
            request_name(event),
            client(event),
            event.time,
            error_suffix(event)
        ));
    }
    if lines.len() == 1 {
        lines.push("no container client has logged in to the registry".to_owned());
    }
    failed(lines)
}

pub(super) fn image_tagged(evidence: &Evidence) -> Finding {
    let tagged: Vec<(&JournalEvent, &RepositoryState)> =
        registry_events(evidence, &["ManifestPut"])
            .filter(|event| event.reference.as_deref().is_some_and(is_tag))
            .filter(|event| is_authenticated(event))
            .filter_map(|event| {
                matching_repository(evidence, event).map(|repository| (event, repository))
            })
            .collect();
    let chosen = tagged
        .iter()
        .rev()
        .find(|(event, _)| event.outcome == Outcome::Ok)
        .or(tagged.last());
    if let Some((event, repository)) = chosen {
        let mut lines = vec![format!(
            "{} pushed {}/{}:{} at {}, naming repository {} in {} by the host name {} of its URI {}",
            client(event),
            host(event),
            repository.name,
            event.reference.as_deref().unwrap_or_default(),
            event.time,
            repository.name,
            repository.region,
            host_name(uri_host(&repository.uri)),
            repository.uri
        )];
        lines.extend(port_note(event, repository));
        if event.outcome == Outcome::Error {
            lines.push(format!(
                "that push failed{}; the push step checks whether the image arrived",
                error_suffix(event)
            ));
        }
        return passed(lines);
    }

    let uploaded = registry_events(evidence, &["BlobUpload"])
        .filter(|event| event.outcome == Outcome::Ok)
        .filter_map(|event| {
            matching_repository(evidence, event).map(|repository| (event, repository))
        })
        .next_back();
    if let Some((event, repository)) = uploaded {
        let mut lines = vec![format!(
            "{} uploaded a layer to {}/{} at {}, so the image was tagged with the repository URI {}; the tag itself arrives with the manifest, which has not been pushed yet",
            client(event),
            host(event),
            repository.name,
            event.time,
            repository.uri
        )];
        lines.extend(port_note(event, repository));
        return passed(lines);
    }

    // A push sends its layers, then its manifest, so the manifest PUTs explain the push. The
    // layer uploads are listed only when no manifest arrived, because each would repeat it.
    let mut lines = Vec::new();
    let manifests: Vec<&JournalEvent> = registry_events(evidence, &["ManifestPut"])
        .filter(|event| event.repository.is_some())
        .collect();
    let attempts = if manifests.is_empty() {
        registry_events(evidence, &["BlobUpload"])
            .filter(|event| event.repository.is_some())
            .collect()
    } else {
        manifests
    };
    for event in newest(attempts.into_iter()) {
        lines.push(mismatch_sentence(evidence, event));
    }
    if lines.is_empty() {
        lines.push(
            "the registry has received no image push; docker push sends one after docker tag names the image <registry>/<repository>:<tag>"
                .to_owned(),
        );
    }
    failed(lines)
}

/// Explains that a push reached another port than the one in the repository's URI, which
/// happens when the mock restarts on another port with the same data folder.
fn port_note(event: &JournalEvent, repository: &RepositoryState) -> Option<String> {
    let pushed_port = port(host(event))?;
    let uri_port = port(uri_host(&repository.uri))?;
    (pushed_port != uri_port).then(|| {
        format!(
            "the push went to port {pushed_port} and the URI now names port {uri_port}; ports are not compared, because every request in this mock's journal reached this mock"
        )
    })
}

pub(super) fn image_pushed(evidence: &Evidence) -> Finding {
    let pushes: Vec<&JournalEvent> = registry_events(evidence, &["ManifestPut"])
        .filter(|event| event.outcome == Outcome::Ok && event.digest.is_some())
        .collect();

    let mut confirmed: Vec<(&RepositoryState, &ImageState, &JournalEvent)> = Vec::new();
    for repository in &evidence.repositories {
        for image in repository
            .images
            .iter()
            .filter(|image| !image.tags.is_empty())
        {
            let push = pushes.iter().rev().find(|event| {
                names_repository(event, repository)
                    && event.digest.as_deref() == Some(image.digest.as_str())
            });
            if let Some(push) = push {
                confirmed.push((repository, image, *push));
            }
        }
    }
    let chosen = confirmed
        .iter()
        .filter(|(repository, _, _)| repository.name == EXAMPLE_REPOSITORY)
        .max_by_key(|(_, _, event)| event.seq)
        .or_else(|| confirmed.iter().max_by_key(|(_, _, event)| event.seq));
    if let Some((repository, image, event)) = chosen {
        return passed(vec![
            format!(
                "{} is in the registry with digest {} and size {}",
                tagged_name(&repository.name, &image.tags, event.reference.as_deref()),
                image.digest,
                format_size(image.size_bytes)
            ),
            format!(
                "{} pushed its manifest to {}/{}:{} at {}",
                client(event),
                host(event),
                repository.name,
                event.reference.as_deref().unwrap_or_default(),
                event.time
            ),
        ]);
    }

    failed(push_failure_lines(evidence, &pushes))
}

fn push_failure_lines(evidence: &Evidence, pushes: &[&JournalEvent]) -> Vec<String> {
    let mut lines = Vec::new();
    let tagged_images = evidence.repositories.iter().flat_map(|repository| {
        repository
            .images
            .iter()
            .filter(|image| !image.tags.is_empty())
            .map(move |image| (repository, image))
    });
    for (repository, image) in tagged_images.take(MAX_LISTED) {
        lines.push(format!(
            "{} ({}) is in the registry, but the journal has no successful registry manifest PUT for it; images stored with the ECR API's PutImage do not count",
            tagged_name(&repository.name, &image.tags, None),
            image.digest
        ));
    }
    for event in newest(pushes.iter().copied()) {
        let pushed = format!(
            "{} pushed {}/{}:{} ({}) at {}",
            client(event),
            host(event),
            event.repository.as_deref().unwrap_or_default(),
            event.reference.as_deref().unwrap_or_default(),
            event.digest.as_deref().unwrap_or_default(),
            event.time
        );
        lines.push(match later_removal(evidence, event) {
            Some(removal) => format!(
                "{pushed}, but {} from {} at {} removed images from that repository afterwards; push the image again",
                request_name(removal),
                client(removal),
                removal.time
            ),
            None => format!("{pushed}, but no repository holds that image with a tag now"),
        });
    }
    let failures =
        registry_events(evidence, &["ManifestPut"]).filter(|event| event.outcome == Outcome::Error);
    for event in newest(failures) {
        lines.push(format!(
            "a push of {}/{}:{} from {} at {} failed{}{}",
            host(event),
            event.repository.as_deref().unwrap_or_default(),
            event.reference.as_deref().unwrap_or_default(),
            client(event),
            event.time,
            error_suffix(event),
            advice(event.error_code.as_deref())
        ));
    }
    if lines.is_empty() {
        lines.push(
            "no repository holds a tagged image, and no container client has pushed a manifest"
                .to_owned(),
        );
    }
    lines
}

/// Finds the newest successful request after `push` that removes images from the pushed
/// repository: an image or tag delete, a repository delete or a lifecycle expiry.
fn later_removal<'a>(evidence: &'a Evidence, push: &JournalEvent) -> Option<&'a JournalEvent> {
    const REMOVALS: [&str; 4] = [
        "BatchDeleteImage",
        "ManifestDelete",
        "DeleteRepository",
        "LifecycleExpire",
    ];
    evidence.events.iter().rev().find(|event| {
        event.seq > push.seq
            && event.outcome == Outcome::Ok
            && REMOVALS.contains(&event.action.as_str())
            && event.repository == push.repository
            && event.region == push.region
    })
}

/// Explains why a push attempt did not show a correctly tagged image.
fn mismatch_sentence(evidence: &Evidence, event: &JournalEvent) -> String {
    let name = event.repository.as_deref().unwrap_or_default();
    let target = match event.reference.as_deref() {
        Some(reference) if is_tag(reference) => format!("{}/{name}:{reference}", host(event)),
        _ => format!("{}/{name}", host(event)),
    };
    let pushed = format!("{} pushed {target} at {}", client(event), event.time);

    // A request rejected for its credentials carries the mock's default region instead of a
    // token's region, so its region does not show where the student works.
    if event.error_code.as_deref() == Some("DENIED") {
        return format!(
            "{pushed}, but the registry rejected it{}, so it does not show how the image was tagged; log in with a fresh token and push again",
            error_suffix(event)
        );
    }
    let Some(repository) = find_repository(evidence, &event.region, name) else {
        return missing_repository_sentence(evidence, event, &pushed);
    };
    match event.reference.as_deref() {
        Some(reference) if !is_tag(reference) => format!(
            "{pushed} by digest, without a tag; tag the image as {}:<tag>",
            repository.uri
        ),
        _ if !same_host_name(host(event), uri_host(&repository.uri)) => format!(
            "{pushed}, but the repository's URI is {}; tag the image with that host",
            repository.uri
        ),
        _ => format!(
            "{pushed}, but it failed{}, so it does not show that the registry accepted the credentials; push again",
            error_suffix(event)
        ),
    }
}

/// Explains a push to a repository that does not exist in the region of the push's token,
/// naming the regions where a repository of that name does exist.
fn missing_repository_sentence(evidence: &Evidence, event: &JournalEvent, pushed: &str) -> String {
    let name = event.repository.as_deref().unwrap_or_default();
    let elsewhere: Vec<String> = evidence
        .repositories
        .iter()
        .filter(|repository| repository.name == name)
        .map(|repository| repository.region.clone())
        .collect();
    if !elsewhere.is_empty() {
        return format!(
            "{pushed} with a token for {}, but repository {name} exists only in {}; a registry token opens the repositories of the region it was issued for, so run aws ecr get-login-password --region {} and log in again",
            event.region,
            list_items(&elsewhere),
            elsewhere[0]
        );
    }

    let in_region: Vec<String> = evidence
        .repositories
        .iter()
        .filter(|repository| repository.region == event.region)
        .map(|repository| repository.uri.clone())
        .collect();
    let existing = if in_region.is_empty() {
        format!("there are none in {} yet", event.region)
    } else {
        format!("existing repositories: {}", list_items(&in_region))
    };
    format!(
        "{pushed}, but no repository named {name} exists in {} ({existing})",
        event.region
    )
}

/// Returns whether an event names `repository`: the same region and the same name.
fn names_repository(event: &JournalEvent, repository: &RepositoryState) -> bool {
    event.region == repository.region
        && event.repository.as_deref() == Some(repository.name.as_str())
}

fn find_repository<'a>(
    evidence: &'a Evidence,
    region: &str,
    name: &str,
) -> Option<&'a RepositoryState> {
    evidence
        .repositories
        .iter()
        .find(|repository| repository.region == region && repository.name == name)
}

/// Finds the repository an event names, when it exists in the event's region and the host name
/// of the event's `Host` header matches the host name of the repository's URI.
///
/// Ports are not compared: an event in the mock's journal reached the mock whatever port it
/// used, and a mock restarted on another port rebuilds its URIs with the new port.
fn matching_repository<'a>(
    evidence: &'a Evidence,
    event: &JournalEvent,
) -> Option<&'a RepositoryState> {
    let event_host = event.host.as_deref()?;
    let repository = find_repository(evidence, &event.region, event.repository.as_deref()?)?;
    same_host_name(event_host, uri_host(&repository.uri)).then_some(repository)
}

/// Returns whether a registry request got past authentication: it succeeded, or it failed
/// with an error that only an authenticated request can get.
fn is_authenticated(event: &JournalEvent) -> bool {
    match event.outcome {
        Outcome::Ok => true,
        Outcome::Error => event
            .error_code
            .as_deref()
            .is_some_and(|code| AUTHENTICATED_ERROR_CODES.contains(&code)),
    }
}

fn api_calls<'a>(
    evidence: &'a Evidence,
    operation: &'a str,
    outcome: Outcome,
) -> impl DoubleEndedIterator<Item = &'a JournalEvent> {
    evidence.events.iter().filter(move |event| {
        event.source == Source::EcrApi && event.action == operation && event.outcome == outcome
    })
}

fn registry_events<'a>(
    evidence: &'a Evidence,
    actions: &'a [&'a str],
) -> impl DoubleEndedIterator<Item = &'a JournalEvent> {
    evidence.events.iter().filter(move |event| {
        event.source == Source::Registry && actions.contains(&event.action.as_str())
    })
}

/// Returns the last [`MAX_LISTED`] events, newest first.
fn newest<'a>(events: impl DoubleEndedIterator<Item = &'a JournalEvent>) -> Vec<&'a JournalEvent> {
    events.rev().take(MAX_LISTED).collect()
}

/// Returns whether a reference is a tag rather than a digest such as `sha256:...`. Tags
/// cannot contain `:`, so any reference with one is a digest.
fn is_tag(reference: &str) -> bool {
    !reference.contains(':')
}

/// Returns the host part of a repository URI: `localhost:5000` for `localhost:5000/team/my-app`.
fn uri_host(uri: &str) -> &str {
    uri.split_once('/').map_or(uri, |(host, _)| host)
}

/// Splits a `Host` header value into its host name and port: `localhost:5000` into `localhost`
/// and `5000`, `[::1]:5000` into `[::1]` and `5000`.
fn split_host(host: &str) -> (&str, Option<&str>) {
    let name_end = if host.starts_with('[') {
        host.find(']').map_or(host.len(), |end| end + 1)
    } else {
        host.find(':').unwrap_or(host.len())
    };
    let (name, rest) = host.split_at(name_end);
    (name, rest.strip_prefix(':'))
}

fn host_name(host: &str) -> &str {
    split_host(host).0
}

fn port(host: &str) -> Option<&str> {
    split_host(host).1
}

/// Compares the host names of two `host[:port]` values, ignoring ASCII case and the ports.
pub(super) fn same_host_name(left: &str, right: &str) -> bool {
    host_name(left).eq_ignore_ascii_case(host_name(right))
}

fn host(event: &JournalEvent) -> &str {
    event.host.as_deref().unwrap_or("an unknown host")
}

/// Names the request of a journal event in plain words, with its article: "a login" or
/// "a manifest push" for the registry's actions, "a PutImage call" for an ECR API operation.
pub(super) fn request_name(event: &JournalEvent) -> String {
    let phrase = match (event.source, event.action.as_str()) {
        (Source::Registry, "Login") => "a login",
        (Source::Registry, "BlobUpload") => "a layer upload",
        (Source::Registry, "ManifestPut") => "a manifest push",
        (Source::Registry, "ManifestDelete") => "a manifest delete",
        // The mock journals a rejected request that has no action of its own, such as a
        // layer or manifest read, as `Access`.
        (Source::Registry, _) => "a registry request",
        (Source::EcrApi, operation) => return format!("a {operation} call"),
        (Source::Lifecycle, _) => "a lifecycle policy expiry",
        (Source::Scanner, "ImageScanStarted") => "an image scan start",
        (Source::Scanner, _) => "an image scan",
        (Source::Other, _) => "a request",
    };
    phrase.to_owned()
}

/// Names the client of an event by the first product token of its `User-Agent`, such as
/// `docker/27.3.1` or `aws-cli/2.17.0`.
fn client(event: &JournalEvent) -> String {
    let Some(token) = event
        .user_agent
        .as_deref()
        .and_then(|agent| agent.split_whitespace().next())
    else {
        return "a client without a User-Agent header".to_owned();
    };
    // podman, skopeo and buildah send the User-Agent of the containers/image library.
    if token.starts_with("containers/") {
        format!("{token} (podman, skopeo or buildah)")
    } else {
        token.to_owned()
    }
}

/// Lists items separated by commas, up to [`MAX_LISTED`] of them, then counts the rest:
/// `v1, v2, latest and 997 more`.
pub(super) fn list_items(items: &[String]) -> String {
    let shown = items[..items.len().min(MAX_LISTED)].join(", ");
    match items.len().checked_sub(MAX_LISTED) {
        Some(rest) if rest > 0 => format!("{shown} and {} more", group_digits(rest as u64)),
        _ => shown,
    }
}

/// Names a tagged image as `my-app:v1`, with `preferred` as the tag when the image has it, and
/// lists its other tags after it.
pub(super) fn tagged_name(name: &str, tags: &[String], preferred: Option<&str>) -> String {
    let first = preferred
        .filter(|tag| tags.iter().any(|other| other == tag))
        .or(tags.first().map(String::as_str))
        .unwrap_or_default();
    let others: Vec<String> = tags.iter().filter(|tag| *tag != first).cloned().collect();
    if others.is_empty() {
        format!("{name}:{first}")
    } else {
        format!("{name}:{first} (also tagged {})", list_items(&others))
    }
}

fn repository_suffix(event: &JournalEvent) -> String {
    event
        .repository
        .as_deref()
        .map(|name| format!(" for {name}"))
        .unwrap_or_default()
}

fn error_suffix(event: &JournalEvent) -> String {
    match (event.error_code.as_deref(), event.message.as_deref()) {
        (Some(code), Some(message)) => format!(" with {code} ({message})"),
        (Some(code), None) => format!(" with {code}"),
        (None, Some(message)) => format!(" ({message})"),
        (None, None) => String::new(),
    }
}

/// Returns advice for a failed manifest push, chosen by its OCI or ECR error code.
fn advice(code: Option<&str>) -> &'static str {
    match code {
        Some("TAG_INVALID") => {
            ": the repository has immutable tags and this tag already names another image, so push under a new tag"
        }
        Some("MANIFEST_BLOB_UNKNOWN") => {
            ": the manifest names a layer the registry does not have, so run the push again"
        }
        Some("DENIED") => ": the registry rejected the credentials, so log in again",
        Some("NAME_UNKNOWN") => ": the repository does not exist, so create it first",
        _ => "",
    }
}

/// Formats a size in bytes as `2.8 MB (2,795,610 bytes)`, with decimal megabytes as
/// `docker images` shows them.
pub(super) fn format_size(bytes: i64) -> String {
    let grouped = group_digits(bytes.unsigned_abs());
    let sign = if bytes < 0 { "-" } else { "" };
    if bytes.unsigned_abs() < 1_000_000 {
        return format!("{sign}{grouped} bytes");
    }
    let megabytes = bytes as f64 / 1_000_000.0;
    format!("{megabytes:.1} MB ({sign}{grouped} bytes)")
}

/// Formats a number with commas between groups of three digits: `2,795,610`.
fn group_digits(number: u64) -> String {
    let digits = number.to_string();
    let mut grouped = String::new();
    for (position, digit) in digits.chars().enumerate() {
        if position > 0 && (digits.len() - position) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

fn passed(evidence: Vec<String>) -> Finding {
    Finding {
        passed: true,
        evidence,
    }
}

fn failed(evidence: Vec<String>) -> Finding {
    Finding {
        passed: false,
        evidence,
    }
}
