//! The checks of the drills: tag immutability, token expiry and the tags-per-image limit.
//!
//! Each check passes on the error that its drill makes the student read, as the mock journaled
//! it. The check also requires the requests that give the error its meaning: the earlier push
//! of the tag, or the login before the token expired and the push after the new login. A
//! failure names the step of the drill that is missing.

use super::{
    api_calls, client, error_suffix, failed, find_repository, group_digits, host, newest, passed,
    registry_events, request_name,
};
use crate::check::Finding;
use crate::evidence::{Evidence, ImageState, JournalEvent, Outcome, RepositoryState, Source};

/// The repository setting under which a pushed tag cannot be moved to another image.
const IMMUTABLE: &str = "IMMUTABLE";

/// Part of the message that ECR, and mock-ecr after it, returns with DENIED for a registry
/// request whose token has expired: "Your authorization token has expired. Reauthenticate and
/// try again."
const EXPIRED_TOKEN_TEXT: &str = "authorization token has expired";

/// Part of the message of ECR's rejection of tag 1,001 on one image, which names "the maximum
/// allowed number of tags per image".
const TAG_LIMIT_TEXT: &str = "tags per image";

/// The maximum number of tags on one image (Amazon ECR User Guide, "Pushing a Docker image").
const MAX_TAGS_PER_IMAGE: usize = 1_000;

/// The journal action of a move of the mock's clock (`POST /_ecrlab/clock/advance`), whose
/// `reference` is the duration, such as `13h`.
const CLOCK_ADVANCE_ACTION: &str = "ClockAdvance";

pub(in crate::check) fn immutable_tag_rejected(evidence: &Evidence) -> Finding {
    let rejections: Vec<&JournalEvent> = registry_events(evidence, &["ManifestPut"])
        .filter(|event| event.error_code.as_deref() == Some("TAG_INVALID"))
        .collect();
    for rejection in rejections.iter().rev() {
        let Some(repository) = repository_of(evidence, rejection) else {
            continue;
        };
        let Some(earlier) = earlier_tag_push(evidence, rejection) else {
            continue;
        };
        if repository.tag_mutability == IMMUTABLE {
            return passed(vec![
                format!(
                    "{} pushed {} ({}) at {}",
                    client(earlier),
                    pushed_name(earlier),
                    earlier.digest.as_deref().unwrap_or("digest unknown"),
                    earlier.time
                ),
                format!(
                    "{} pushed {} to the same tag at {}, and the registry rejected it{}, because repository {} in {} has tag mutability {IMMUTABLE}",
                    client(rejection),
                    other_content(rejection),
                    rejection.time,
                    error_suffix(rejection),
                    repository.name,
                    repository.region
                ),
            ]);
        }
    }

    let mut lines = Vec::new();
    for rejection in newest(rejections.iter().copied()) {
        lines.push(rejection_shortfall(evidence, rejection));
    }
    let mut api_rejections = api_calls(evidence, "PutImage", Outcome::Error)
        .filter(|event| event.error_code.as_deref() == Some("ImageTagAlreadyExistsException"));
    if let Some(event) = api_rejections.next_back() {
        lines.push(format!(
            "PutImage from {} was rejected at {}{}; that is the ECR API's form of the same rule, and this drill asks for a registry push (docker push) and its TAG_INVALID",
            client(event),
            event.time,
            error_suffix(event)
        ));
    }
    if lines.is_empty() {
        lines.push(next_immutability_step(evidence));
    }
    failed(lines)
}

/// Explains why a TAG_INVALID rejection does not complete the drill.
fn rejection_shortfall(evidence: &Evidence, rejection: &JournalEvent) -> String {
    let rejected = format!(
        "the registry rejected {} from {} at {}{}",
        pushed_name(rejection),
        client(rejection),
        rejection.time,
        error_suffix(rejection)
    );
    let Some(repository) = repository_of(evidence, rejection) else {
        return format!(
            "{rejected}, but repository {} no longer exists in {}; create it again with tag mutability {IMMUTABLE} and repeat the drill",
            rejection.repository.as_deref().unwrap_or_default(),
            rejection.region
        );
    };
    if earlier_tag_push(evidence, rejection).is_none() {
        return format!(
            "{rejected}, but no earlier push of that tag succeeded, so the tag was not invalid because it already named an image; push the tag once, then push another image to it"
        );
    }
    format!(
        "{rejected}, but repository {} now has tag mutability {}; set it back to {IMMUTABLE} with aws ecr put-image-tag-mutability and repeat the drill",
        repository.name, repository.tag_mutability
    )
}

/// Says what the student does next when no push has been rejected with TAG_INVALID yet.
fn next_immutability_step(evidence: &Evidence) -> String {
    let immutable_pushes: Vec<&JournalEvent> = registry_events(evidence, &["ManifestPut"])
        .filter(|event| event.outcome == Outcome::Ok && is_tag_event(event))
        .filter(|event| {
            repository_of(evidence, event)
                .is_some_and(|repository| repository.tag_mutability == IMMUTABLE)
        })
        .collect();
    if let Some(push) = immutable_pushes.last() {
        let repeats = immutable_pushes
            .iter()
            .filter(|other| other.reference == push.reference && other.seq < push.seq)
            .count();
        let mut line = format!(
            "{} pushed {} at {}, and no push to that tag has been rejected yet; build a different image and push it to the same tag",
            client(push),
            pushed_name(push),
            push.time
        );
        if repeats > 0 {
            line.push_str(
                ", because pushing the same image again succeeds: the tag already names it",
            );
        }
        return line;
    }
    match evidence
        .repositories
        .iter()
        .find(|repository| repository.tag_mutability == IMMUTABLE)
    {
        Some(repository) => format!(
            "repository {} in {} has tag mutability {IMMUTABLE}, but no image has been pushed to it with a tag; push one, then push another image to the same tag",
            repository.name, repository.region
        ),
        None => format!(
            "no repository has tag mutability {IMMUTABLE}; create one with aws ecr create-repository --image-tag-mutability {IMMUTABLE}"
        ),
    }
}

/// Finds the newest successful push of the same tag to the same repository before `rejection`.
fn earlier_tag_push<'a>(
    evidence: &'a Evidence,
    rejection: &JournalEvent,
) -> Option<&'a JournalEvent> {
    if !is_tag_event(rejection) {
        return None;
    }
    registry_events(evidence, &["ManifestPut"]).rfind(|event| {
        event.outcome == Outcome::Ok
            && event.seq < rejection.seq
            && event.region == rejection.region
            && event.repository == rejection.repository
            && event.reference == rejection.reference
    })
}

/// Describes the content of a rejected push by its digest, when the journal has it.
fn other_content(rejection: &JournalEvent) -> String {
    match rejection.digest.as_deref() {
        Some(digest) => format!("another image ({digest})"),
        None => "another image".to_owned(),
    }
}

pub(in crate::check) fn expired_token_renewed(evidence: &Evidence) -> Finding {
    let logins: Vec<&JournalEvent> = registry_events(evidence, &["Login"])
        .filter(|event| event.outcome == Outcome::Ok)
        .collect();
    let Some(first_login) = logins.first().copied() else {
        return failed(vec![
            "no container client has logged in to the registry yet; start with aws ecr get-login-password | docker login --username AWS --password-stdin <registry>".to_owned(),
        ]);
    };
    let denials: Vec<&JournalEvent> = evidence
        .events
        .iter()
        .filter(|event| is_expired_token_denial(event) && event.seq > first_login.seq)
        .collect();
    let Some(first_denial) = denials.first().copied() else {
        let newest_login = logins.last().copied().unwrap_or(first_login);
        return failed(vec![waiting_for_expiry(evidence, newest_login)]);
    };

    // The newest denial's shortfall is the one reported when no denial was renewed.
    let mut shortfall = Shortfall::Token;
    for denial in &denials {
        match renewal_after(evidence, denial) {
            Ok(renewal) => {
                let login = logins
                    .iter()
                    .rev()
                    .find(|login| login.seq < denial.seq)
                    .copied()
                    .unwrap_or(first_login);
                return passed(renewal_lines(evidence, login, denial, &renewal));
            }
            Err(missing) => shortfall = missing,
        }
    }

    let denial = denials.last().copied().unwrap_or(first_denial);
    let next = match shortfall {
        Shortfall::Token => {
            "no new token has been issued since; run aws ecr get-login-password | docker login --username AWS --password-stdin <registry>".to_owned()
        }
        Shortfall::Login { token } => format!(
            "{} got a new token at {}, but no container client has logged in with it; pipe it into docker login --username AWS --password-stdin <registry>",
            client(token),
            token.time
        ),
        Shortfall::Push { login } => format!(
            "{} logged in again at {}, but no manifest push has succeeded since; push the image again",
            client(login),
            login.time
        ),
    };
    failed(vec![expired_denial_line(denial), next])
}

/// Describes the whole drill: the login, the move of the clock, the denial and the renewal.
fn renewal_lines(
    evidence: &Evidence,
    login: &JournalEvent,
    denial: &JournalEvent,
    renewal: &Renewal,
) -> Vec<String> {
    let mut lines = vec![format!(
        "{} logged in to {} at {}",
        client(login),
        host(login),
        login.time
    )];
    lines.extend(clock_advance_between(evidence, login, denial));
    lines.extend([
        expired_denial_line(denial),
        format!(
            "{} got a new token with GetAuthorizationToken at {}",
            client(renewal.token),
            renewal.token.time
        ),
        format!(
            "{} logged in again to {} at {}",
            client(renewal.login),
            host(renewal.login),
            renewal.login.time
        ),
        format!(
            "{} then pushed {} at {}",
            client(renewal.push),
            pushed_name(renewal.push),
            renewal.push.time
        ),
    ]);
    lines
}

fn expired_denial_line(denial: &JournalEvent) -> String {
    format!(
        "the registry rejected {} from {} at {}{}",
        request_name(denial),
        client(denial),
        denial.time,
        error_suffix(denial)
    )
}

/// The requests that renew access after an expired token: a new token, a login with it and a
/// successful manifest push.
struct Renewal<'a> {
    token: &'a JournalEvent,
    login: &'a JournalEvent,
    push: &'a JournalEvent,
}

/// The first request of a [`Renewal`] that is missing, with the last one found.
enum Shortfall<'a> {
    /// No new token was issued after the denial.
    Token,
    /// No login followed the new token.
    Login { token: &'a JournalEvent },
    /// No manifest push succeeded after the new login.
    Push { login: &'a JournalEvent },
}

/// Follows a denial to the first new token after it, the first login after that token and the
/// first successful manifest push after that login.
fn renewal_after<'a>(
    evidence: &'a Evidence,
    denial: &JournalEvent,
) -> Result<Renewal<'a>, Shortfall<'a>> {
    let token = api_calls(evidence, "GetAuthorizationToken", Outcome::Ok)
        .find(|event| event.seq > denial.seq)
        .ok_or(Shortfall::Token)?;
    let login = registry_events(evidence, &["Login"])
        .find(|event| event.outcome == Outcome::Ok && event.seq > token.seq)
        .ok_or(Shortfall::Login { token })?;
    let push = registry_events(evidence, &["ManifestPut"])
        .find(|event| event.outcome == Outcome::Ok && event.seq > login.seq)
        .ok_or(Shortfall::Push { login })?;
    Ok(Renewal { token, login, push })
}

/// Returns whether the registry rejected an event's request because its token had expired.
fn is_expired_token_denial(event: &JournalEvent) -> bool {
    event.source == Source::Registry
        && event.outcome == Outcome::Error
        && event.error_code.as_deref() == Some("DENIED")
        && event
            .message
            .as_deref()
            .is_some_and(|message| message.contains(EXPIRED_TOKEN_TEXT))
}

/// Names the newest move of the mock's clock between a login and the denial that followed.
fn clock_advance_between(
    evidence: &Evidence,
    login: &JournalEvent,
    denial: &JournalEvent,
) -> Option<String> {
    let advance = evidence.events.iter().rev().find(|event| {
        event.action == CLOCK_ADVANCE_ACTION
            && event.outcome == Outcome::Ok
            && event.seq > login.seq
            && event.seq < denial.seq
    })?;
    Some(format!(
        "the mock's clock was moved forward {}, to {}",
        advance
            .reference
            .as_deref()
            .unwrap_or("by an unknown duration"),
        advance.time
    ))
}

/// Says what the student does next when no request has been rejected for an expired token.
fn waiting_for_expiry(evidence: &Evidence, login: &JournalEvent) -> String {
    let logged_in = format!(
        "{} logged in to {} at {}",
        client(login),
        host(login),
        login.time
    );
    let advance = evidence.events.iter().rev().find(|event| {
        event.action == CLOCK_ADVANCE_ACTION
            && event.outcome == Outcome::Ok
            && event.seq > login.seq
    });
    match advance {
        Some(advance) => format!(
            "{logged_in}, and the mock's clock was moved forward {} at {}, but no registry request has been rejected for an expired token since; tokens last 12 hours, so move the clock at least 12 hours past the login, then push without logging in again",
            advance
                .reference
                .as_deref()
                .unwrap_or("by an unknown duration"),
            advance.time
        ),
        None => format!(
            "{logged_in}, but no registry request has been rejected for an expired token yet; run ecrlab clock advance 13h, then push without logging in again"
        ),
    }
}

pub(in crate::check) fn tag_limit_reached(evidence: &Evidence) -> Finding {
    let rejection = evidence
        .events
        .iter()
        .rev()
        .find(|event| is_tag_limit_rejection(event));
    if let Some(rejection) = rejection {
        let mut lines = vec![match rejection.source {
            Source::EcrApi => format!(
                "PutImage from {} for repository {} was rejected at {}{}",
                client(rejection),
                rejection.repository.as_deref().unwrap_or_default(),
                rejection.time,
                error_suffix(rejection)
            ),
            _ => format!(
                "the registry rejected the push of {} from {} at {}{}",
                pushed_name(rejection),
                client(rejection),
                rejection.time,
                error_suffix(rejection)
            ),
        }];
        let repository = repository_of(evidence, rejection);
        if let Some((repository, image)) =
            repository.and_then(|repository| image_with_max_tags(std::slice::from_ref(repository)))
        {
            lines.push(image_tag_count(repository, image));
        }
        return passed(lines);
    }

    let mut lines = Vec::new();
    match image_with_max_tags(&evidence.repositories) {
        Some((repository, image)) => {
            let count = image.tags.len();
            let mut line = image_tag_count(repository, image);
            if count < MAX_TAGS_PER_IMAGE {
                line.push_str(&format!(
                    "; add {} more, then one more push of a new tag is rejected",
                    group_digits((MAX_TAGS_PER_IMAGE - count) as u64)
                ));
            } else {
                line.push_str("; push it once more under a new tag to see the rejection");
            }
            lines.push(line);
        }
        None => lines.push(
            "no repository holds a tagged image yet; push one image, then add tags to it as the instructions show".to_owned(),
        ),
    }
    let other_failures = evidence.events.iter().filter(|event| {
        event.outcome == Outcome::Error
            && ((event.source == Source::Registry && event.action == "ManifestPut")
                || (event.source == Source::EcrApi && event.action == "PutImage"))
    });
    for event in newest(other_failures) {
        lines.push(format!(
            "{} for {} from {} failed at {}{}",
            request_name(event),
            event.repository.as_deref().unwrap_or_default(),
            client(event),
            event.time,
            error_suffix(event)
        ));
    }
    failed(lines)
}

/// Returns whether an event is the rejection of a tag over the tags-per-image limit.
fn is_tag_limit_rejection(event: &JournalEvent) -> bool {
    if event.outcome != Outcome::Error {
        return false;
    }
    let code = event.error_code.as_deref();
    match (event.source, event.action.as_str()) {
        (Source::EcrApi, "PutImage") => code == Some("LimitExceededException"),
        // DENIED also rejects missing or expired credentials, so the message decides.
        (Source::Registry, "ManifestPut") => {
            code == Some("DENIED")
                && event
                    .message
                    .as_deref()
                    .is_some_and(|message| message.contains(TAG_LIMIT_TEXT))
        }
        _ => false,
    }
}

/// Finds the image with the most tags, the first such in the evidence's order on a tie.
fn image_with_max_tags(
    repositories: &[RepositoryState],
) -> Option<(&RepositoryState, &ImageState)> {
    let mut best: Option<(&RepositoryState, &ImageState)> = None;
    for repository in repositories {
        for image in repository
            .images
            .iter()
            .filter(|image| !image.tags.is_empty())
        {
            if best.is_none_or(|(_, other)| image.tags.len() > other.tags.len()) {
                best = Some((repository, image));
            }
        }
    }
    best
}

fn image_tag_count(repository: &RepositoryState, image: &ImageState) -> String {
    let count = image.tags.len();
    let tags = if count == 1 { "tag" } else { "tags" };
    format!(
        "image {} in repository {} ({}) has {} {tags}",
        image.digest,
        repository.name,
        repository.region,
        group_digits(count as u64)
    )
}

/// Finds the repository an event names in the event's region.
fn repository_of<'a>(evidence: &'a Evidence, event: &JournalEvent) -> Option<&'a RepositoryState> {
    find_repository(evidence, &event.region, event.repository.as_deref()?)
}

fn is_tag_event(event: &JournalEvent) -> bool {
    event.reference.as_deref().is_some_and(super::is_tag)
}

/// Names a registry push as `host/repository:tag`, or `host/repository@digest`.
fn pushed_name(event: &JournalEvent) -> String {
    let name = event.repository.as_deref().unwrap_or_default();
    match event.reference.as_deref() {
        Some(reference) if super::is_tag(reference) => {
            format!("{}/{name}:{reference}", host(event))
        }
        Some(reference) => format!("{}/{name}@{reference}", host(event)),
        None => format!("{}/{name}", host(event)),
    }
}

#[cfg(test)]
mod tests;
