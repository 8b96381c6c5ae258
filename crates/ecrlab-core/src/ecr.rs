//! ECR registry hosts and image references.
//!
//! An ECR private registry is `<aws_account_id>.dkr.ecr.<region>.amazonaws.com`, or
//! `...amazonaws.com.cn` in the China regions, and its `proxyEndpoint` is `https://` followed by
//! that host (AWS ECR User Guide, "Amazon ECR private registry"). The mock serves the same
//! registry API from a loopback host such as `localhost:5000`.
//!
//! An image reference is `<host>[:port]/<repository>[:tag][@sha256:<64 hex digits>]`, and the
//! repository may contain `/`. These parsers check structure only: the registry itself enforces
//! ECR's repository-name rules.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// A registry host or image reference that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("invalid registry host `{host}`: {problem}")]
    InvalidHost { host: String, problem: String },
    #[error("invalid image reference `{reference}`: {problem}")]
    InvalidReference { reference: String, problem: String },
}

const ECR_HOST_EXAMPLE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
const REFERENCE_EXAMPLE: &str = "localhost:5000/my-app:latest";

/// The host part of a registry address.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RegistryHost {
    /// The ECR private registry of one account in one region.
    Ecr { account_id: String, region: String },
    /// `localhost`, an address in 127.0.0.0/8 or `[::1]`. Docker reaches these over plain HTTP
    /// without configuration, because its default insecure-registry ranges are 127.0.0.0/8 and
    /// ::1/128 (Docker Engine API, `RegistryServiceConfig.InsecureRegistryCIDRs`).
    Loopback { host: String, port: Option<u16> },
    /// Any other host, reached over HTTPS.
    Other { host: String, port: Option<u16> },
}

impl RegistryHost {
    /// Builds the ECR private registry host of `account_id` in `region`.
    pub fn ecr(account_id: &str, region: &str) -> Result<Self, ParseError> {
        let host = format!(
            "{account_id}.dkr.ecr.{region}.{}",
            dns_suffix_for_region(region)
        );
        check_account_id(account_id).map_err(|problem| invalid_host(&host, problem))?;
        check_region(region).map_err(|problem| invalid_host(&host, problem))?;
        Ok(RegistryHost::Ecr {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
        })
    }

    /// Parses a host such as `123456789012.dkr.ecr.us-east-1.amazonaws.com` or `localhost:5000`.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        if text.is_empty() {
            return Err(invalid_host(
                text,
                format!(
                    "the host is empty; expected a host such as {ECR_HOST_EXAMPLE} or localhost:5000"
                ),
            ));
        }
        let (host, port) = split_port(text)?;
        let lowercase = host.to_ascii_lowercase();

        if lowercase.ends_with(".amazonaws.com") || lowercase.ends_with(".amazonaws.com.cn") {
            if port.is_some() {
                return Err(invalid_host(
                    text,
                    format!(
                        "an ECR registry host takes no port; remove it, as in {ECR_HOST_EXAMPLE}"
                    ),
                ));
            }
            return parse_ecr_host(text, &lowercase);
        }

        check_host_name(text, host)?;
        if is_loopback_host(host) {
            Ok(RegistryHost::Loopback {
                host: host.to_owned(),
                port,
            })
        } else {
            Ok(RegistryHost::Other {
                host: host.to_owned(),
                port,
            })
        }
    }

    /// Parses a `proxyEndpoint` such as `https://123456789012.dkr.ecr.us-east-1.amazonaws.com`,
    /// as GetAuthorizationToken returns it.
    pub fn from_proxy_endpoint(url: &str) -> Result<Self, ParseError> {
        let without_scheme = url
            .strip_prefix("https://")
            .or_else(|| url.strip_prefix("http://"))
            .ok_or_else(|| {
                invalid_host(
                    url,
                    "a proxy endpoint starts with https:// (or http:// for a local registry)",
                )
            })?;
        let host = without_scheme.strip_suffix('/').unwrap_or(without_scheme);
        if host.contains('/') {
            return Err(invalid_host(
                url,
                "a proxy endpoint names a host only; remove the path after it",
            ));
        }
        RegistryHost::parse(host)
    }

    /// Returns whether clients reach this host over plain HTTP.
    pub fn is_loopback(&self) -> bool {
        matches!(self, RegistryHost::Loopback { .. })
    }

    /// Returns `http` for a loopback host and `https` for any other.
    pub fn scheme(&self) -> &'static str {
        if self.is_loopback() { "http" } else { "https" }
    }

    /// Formats the registry's base URL, the form of `proxyEndpoint`: `https://<host>` on AWS.
    pub fn proxy_endpoint(&self) -> String {
        format!("{}://{self}", self.scheme())
    }
}

impl fmt::Display for RegistryHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistryHost::Ecr { account_id, region } => write!(
                f,
                "{account_id}.dkr.ecr.{region}.{}",
                dns_suffix_for_region(region)
            ),
            RegistryHost::Loopback { host, port } | RegistryHost::Other { host, port } => {
                match port {
                    Some(port) => write!(f, "{host}:{port}"),
                    None => write!(f, "{host}"),
                }
            }
        }
    }
}

impl FromStr for RegistryHost {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        RegistryHost::parse(text)
    }
}

/// Returns the DNS suffix of AWS endpoints in `region`: `amazonaws.com.cn` for the China regions
/// (`cn-north-1`, `cn-northwest-1`) and `amazonaws.com` for the others.
// NOTE: only these two suffixes are modelled. Partitions with other domains (the ISO regions,
// the European Sovereign Cloud) and the FIPS (`dkr.ecr-fips`) and dual-stack registry hosts are
// rejected or misformatted.
pub fn dns_suffix_for_region(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    }
}

fn parse_ecr_host(text: &str, lowercase: &str) -> Result<RegistryHost, ParseError> {
    let expected_shape = || {
        invalid_host(
            text,
            format!(
                "an ECR registry host has the form <aws_account_id>.dkr.ecr.<region>.amazonaws.com \
                 (amazonaws.com.cn in China), for example {ECR_HOST_EXAMPLE}"
            ),
        )
    };
    let (prefix, suffix) = match lowercase.strip_suffix(".amazonaws.com.cn") {
        Some(prefix) => (prefix, "amazonaws.com.cn"),
        None => (
            lowercase
                .strip_suffix(".amazonaws.com")
                .ok_or_else(expected_shape)?,
            "amazonaws.com",
        ),
    };
    let labels: Vec<&str> = prefix.split('.').collect();
    let [account_id, "dkr", "ecr", region] = labels.as_slice() else {
        return Err(expected_shape());
    };

    check_account_id(account_id).map_err(|problem| invalid_host(text, problem))?;
    check_region(region).map_err(|problem| invalid_host(text, problem))?;
    let expected_suffix = dns_suffix_for_region(region);
    if suffix != expected_suffix {
        return Err(invalid_host(
            text,
            format!("region {region} uses the domain {expected_suffix}, not {suffix}"),
        ));
    }
    Ok(RegistryHost::Ecr {
        account_id: (*account_id).to_owned(),
        region: (*region).to_owned(),
    })
}

fn check_account_id(account_id: &str) -> Result<(), String> {
    if account_id.len() == 12 && account_id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "the account ID `{account_id}` is not 12 digits; copy it from the repository URI or \
             `aws sts get-caller-identity`"
        ))
    }
}

/// Checks the shape of a region name: lowercase words and a number joined by `-`, such as
/// `us-east-1`, `us-gov-west-1` or `cn-north-1`. Whether the region exists is not checked.
fn check_region(region: &str) -> Result<(), String> {
    let parts: Vec<&str> = region.split('-').collect();
    let shaped = match parts.split_last() {
        Some((number, words)) => {
            words.len() >= 2
                && words
                    .iter()
                    .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
                && !number.is_empty()
                && number.bytes().all(|b| b.is_ascii_digit())
        }
        None => false,
    };
    if shaped {
        Ok(())
    } else {
        Err(format!(
            "`{region}` is not a region name; use one such as us-east-1 or eu-west-2"
        ))
    }
}

/// Splits `host[:port]` or `[ipv6][:port]`.
fn split_port(text: &str) -> Result<(&str, Option<u16>), ParseError> {
    let (host, port) = if text.starts_with('[') {
        let end = text.find(']').ok_or_else(|| {
            invalid_host(
                text,
                "an IPv6 address in brackets has no closing `]`; write it as [::1]:5000",
            )
        })?;
        let (host, rest) = text.split_at(end + 1);
        match rest {
            "" => (host, None),
            _ => match rest.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None => {
                    return Err(invalid_host(
                        text,
                        "only `:<port>` may follow the bracketed IPv6 address",
                    ));
                }
            },
        }
    } else {
        match text.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (text, None),
        }
    };

    let port = match port {
        None => None,
        Some(port) => Some(parse_port(text, port)?),
    };
    Ok((host, port))
}

fn parse_port(text: &str, port: &str) -> Result<u16, ParseError> {
    let parsed = if port.bytes().all(|b| b.is_ascii_digit()) {
        port.parse::<u16>().ok().filter(|p| *p != 0)
    } else {
        None
    };
    parsed.ok_or_else(|| {
        invalid_host(
            text,
            format!("the port `{port}` is not a number from 1 to 65535"),
        )
    })
}

/// Checks a DNS name, an IPv4 address or a bracketed IPv6 address.
fn check_host_name(text: &str, host: &str) -> Result<(), ParseError> {
    if let Some(inner) = host.strip_prefix('[') {
        let address = inner.strip_suffix(']').unwrap_or(inner);
        return match address.parse::<Ipv6Addr>() {
            Ok(_) => Ok(()),
            Err(_) => Err(invalid_host(
                text,
                format!("`{address}` is not an IPv6 address"),
            )),
        };
    }
    if host.is_empty() {
        return Err(invalid_host(text, "the host name before the port is empty"));
    }
    for label in host.split('.') {
        let valid = !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-');
        if !valid {
            return Err(invalid_host(
                text,
                format!(
                    "`{label}` is not a valid DNS label: use letters, digits and inner hyphens, \
                     separated by dots"
                ),
            ));
        }
    }
    Ok(())
}

fn is_loopback_host(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    if let Ok(address) = host.parse::<Ipv4Addr>() {
        return address.is_loopback();
    }
    host.strip_prefix('[')
        .and_then(|inner| inner.strip_suffix(']'))
        .and_then(|inner| inner.parse::<Ipv6Addr>().ok())
        .is_some_and(|address| address.is_loopback())
}

fn invalid_host(host: &str, problem: impl Into<String>) -> ParseError {
    ParseError::InvalidHost {
        host: host.to_owned(),
        problem: problem.into(),
    }
}

/// An image reference: `<registry>/<repository>[:tag][@digest]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ImageReference {
    pub registry: RegistryHost,
    /// The repository name, which may contain `/` (`team/my-app`).
    pub repository: String,
    pub tag: Option<String>,
    /// `sha256:` followed by 64 lowercase hexadecimal digits.
    pub digest: Option<String>,
}

impl ImageReference {
    /// Builds `<registry>/<repository>:<tag>`, checking the repository's and the tag's structure.
    pub fn with_tag(
        registry: RegistryHost,
        repository: &str,
        tag: &str,
    ) -> Result<Self, ParseError> {
        let reference = ImageReference {
            registry,
            repository: repository.to_owned(),
            tag: Some(tag.to_owned()),
            digest: None,
        };
        let text = reference.to_string();
        check_repository(&text, repository)?;
        check_tag(&text, tag)?;
        Ok(reference)
    }

    /// Parses a reference such as `123456789012.dkr.ecr.us-east-1.amazonaws.com/team/app:v1`.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        if text.is_empty() {
            return Err(invalid_reference(
                text,
                format!(
                    "the reference is empty; expected <registry>/<repository>[:tag], for example {REFERENCE_EXAMPLE}"
                ),
            ));
        }
        if text.chars().any(char::is_whitespace) {
            return Err(invalid_reference(
                text,
                "the reference contains whitespace; remove it",
            ));
        }

        let (name_and_tag, digest) = match text.split_once('@') {
            Some((rest, digest)) => {
                check_digest(text, digest)?;
                (rest, Some(digest.to_owned()))
            }
            None => (text, None),
        };

        let Some((host, path)) = name_and_tag.split_once('/') else {
            return Err(invalid_reference(
                text,
                format!(
                    "the reference names no registry host; expected <registry>/<repository>[:tag], for example {REFERENCE_EXAMPLE}"
                ),
            ));
        };
        if !looks_like_host(host) {
            return Err(invalid_reference(
                text,
                format!(
                    "`{host}` is not a registry host (it has no `.` or `:` and is not localhost), so \
                     docker would send this image to Docker Hub; start the reference with your \
                     registry, for example {ECR_HOST_EXAMPLE}/{name_and_tag}"
                ),
            ));
        }
        let registry = RegistryHost::parse(host)
            .map_err(|error| invalid_reference(text, error.to_string()))?;

        let last_segment_start = path.rfind('/').map_or(0, |i| i + 1);
        let (repository, tag) = match path[last_segment_start..].find(':') {
            Some(colon) => {
                let colon = last_segment_start + colon;
                (&path[..colon], Some(&path[colon + 1..]))
            }
            None => (path, None),
        };
        check_repository(text, repository)?;
        if let Some(tag) = tag {
            check_tag(text, tag)?;
        }

        Ok(ImageReference {
            registry,
            repository: repository.to_owned(),
            tag: tag.map(str::to_owned),
            digest,
        })
    }

    /// Formats `<registry>/<repository>`, the form of `repositoryUri` in the ECR API.
    pub fn repository_uri(&self) -> String {
        format!("{}/{}", self.registry, self.repository)
    }
}

impl fmt::Display for ImageReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.registry, self.repository)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

impl FromStr for ImageReference {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        ImageReference::parse(text)
    }
}

/// Applies Docker's rule for the first component of a reference: it names a registry host only
/// if it contains `.` or `:` or is `localhost`.
fn looks_like_host(component: &str) -> bool {
    component.contains('.')
        || component.contains(':')
        || component.starts_with('[')
        || component.eq_ignore_ascii_case("localhost")
}

fn check_repository(text: &str, repository: &str) -> Result<(), ParseError> {
    if repository.is_empty() {
        return Err(invalid_reference(
            text,
            "the repository name after the registry host is empty",
        ));
    }
    if repository.split('/').any(str::is_empty) {
        return Err(invalid_reference(
            text,
            format!(
                "the repository `{repository}` has an empty path component; remove the extra `/`"
            ),
        ));
    }
    Ok(())
}

/// Checks a tag against the OCI distribution spec's grammar: `[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}`.
fn check_tag(text: &str, tag: &str) -> Result<(), ParseError> {
    let mut bytes = tag.bytes();
    let first_valid = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_');
    let rest_valid = bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if first_valid && rest_valid && tag.len() <= 128 {
        return Ok(());
    }
    Err(invalid_reference(
        text,
        format!(
            "the tag `{tag}` is invalid: a tag is 1 to 128 letters, digits, `_`, `.` or `-`, and \
             does not start with `.` or `-`"
        ),
    ))
}

fn check_digest(text: &str, digest: &str) -> Result<(), ParseError> {
    let Some(hex) = digest.strip_prefix("sha256:") else {
        return Err(invalid_reference(
            text,
            format!("the digest `{digest}` does not start with `sha256:`, the algorithm ECR uses"),
        ));
    };
    let lowercase_hex = hex
        .bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if hex.len() == 64 && lowercase_hex {
        return Ok(());
    }
    Err(invalid_reference(
        text,
        format!(
            "the digest `{digest}` must be `sha256:` followed by 64 lowercase hexadecimal digits \
             (it has {} characters after `sha256:`)",
            hex.len()
        ),
    ))
}

fn invalid_reference(reference: &str, problem: impl Into<String>) -> ParseError {
    ParseError::InvalidReference {
        reference: reference.to_owned(),
        problem: problem.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn ecr(account_id: &str, region: &str) -> RegistryHost {
        RegistryHost::Ecr {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
        }
    }

    fn loopback(host: &str, port: Option<u16>) -> RegistryHost {
        RegistryHost::Loopback {
            host: host.to_owned(),
            port,
        }
    }

    fn other(host: &str, port: Option<u16>) -> RegistryHost {
        RegistryHost::Other {
            host: host.to_owned(),
            port,
        }
    }

    #[test]
    fn registry_host_parses_valid_hosts() {
        let cases = [
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com",
                ecr("123456789012", "us-east-1"),
            ),
            (
                "210987654321.dkr.ecr.us-gov-west-1.amazonaws.com",
                ecr("210987654321", "us-gov-west-1"),
            ),
            (
                "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
                ecr("123456789012", "cn-north-1"),
            ),
            (
                "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn",
                ecr("123456789012", "cn-northwest-1"),
            ),
            ("localhost:5000", loopback("localhost", Some(5000))),
            ("localhost", loopback("localhost", None)),
            ("127.0.0.1:5000", loopback("127.0.0.1", Some(5000))),
            ("127.1.2.3:80", loopback("127.1.2.3", Some(80))),
            ("[::1]:5000", loopback("[::1]", Some(5000))),
            ("registry.example.com", other("registry.example.com", None)),
            ("10.0.0.5:5000", other("10.0.0.5", Some(5000))),
            ("[2001:db8::1]:443", other("[2001:db8::1]", Some(443))),
        ];
        for (text, expected) in cases {
            let parsed = RegistryHost::parse(text);
            assert_eq!(parsed, Ok(expected), "parsing {text}");
        }
    }

    #[test]
    fn registry_host_parses_uppercase_ecr_host() {
        let parsed = RegistryHost::parse("123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM");
        assert_eq!(parsed, Ok(ecr("123456789012", "us-east-1")));
    }

    #[test]
    fn registry_host_formats_round_trip() {
        let hosts = [
            "123456789012.dkr.ecr.us-east-1.amazonaws.com",
            "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
            "localhost:5000",
            "127.0.0.1:5000",
            "[::1]:5000",
            "registry.example.com:8443",
        ];
        for text in hosts {
            let host = RegistryHost::parse(text).unwrap();
            assert_eq!(host.to_string(), text);
        }
    }

    #[test]
    fn registry_host_rejects_invalid_hosts() {
        let cases = [
            ("", "empty"),
            (
                "12345678901.dkr.ecr.us-east-1.amazonaws.com",
                "not 12 digits",
            ),
            (
                "1234567890123.dkr.ecr.us-east-1.amazonaws.com",
                "not 12 digits",
            ),
            (
                "12345678901a.dkr.ecr.us-east-1.amazonaws.com",
                "not 12 digits",
            ),
            (
                "123456789012.dkr.ecr.useast1.amazonaws.com",
                "not a region name",
            ),
            (
                "123456789012.dkr.ecr.us-east.amazonaws.com",
                "not a region name",
            ),
            (
                "123456789012.dkr.ecr.us-1.amazonaws.com",
                "not a region name",
            ),
            ("123456789012.ecr.us-east-1.amazonaws.com", "has the form"),
            (
                "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com",
                "has the form",
            ),
            ("ecr.us-east-1.amazonaws.com", "has the form"),
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com:443",
                "takes no port",
            ),
            (
                "123456789012.dkr.ecr.cn-north-1.amazonaws.com",
                "uses the domain amazonaws.com.cn",
            ),
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com.cn",
                "uses the domain amazonaws.com",
            ),
            ("localhost:", "not a number"),
            ("localhost:0", "not a number"),
            ("localhost:65536", "not a number"),
            ("localhost:50a", "not a number"),
            (":5000", "empty"),
            ("bad_host.example.com", "not a valid DNS label"),
            ("-bad.example.com", "not a valid DNS label"),
            ("registry..example.com", "not a valid DNS label"),
            ("[::1", "closing"),
            ("[::1]5000", "only `:<port>`"),
            ("[not-ipv6]:5000", "not an IPv6 address"),
        ];
        for (text, problem) in cases {
            let error = RegistryHost::parse(text).expect_err(text).to_string();
            assert!(
                error.contains(&format!("`{text}`")),
                "error for {text} does not name the value: {error}"
            );
            assert!(
                error.contains(problem),
                "error for {text} does not say `{problem}`: {error}"
            );
        }
    }

    #[test]
    fn registry_host_builds_ecr_host() {
        let host = RegistryHost::ecr("123456789012", "eu-west-2").unwrap();
        assert_eq!(
            host.to_string(),
            "123456789012.dkr.ecr.eu-west-2.amazonaws.com"
        );
        let china = RegistryHost::ecr("123456789012", "cn-northwest-1").unwrap();
        assert_eq!(
            china.to_string(),
            "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn"
        );
        let error = RegistryHost::ecr("1234", "us-east-1").unwrap_err();
        assert!(error.to_string().contains("`1234` is not 12 digits"));
        let error = RegistryHost::ecr("123456789012", "Virginia").unwrap_err();
        assert!(
            error
                .to_string()
                .contains("`Virginia` is not a region name")
        );
    }

    #[test]
    fn registry_host_formats_proxy_endpoint() {
        let cases = [
            (
                "123456789012.dkr.ecr.us-east-1.amazonaws.com",
                "https://123456789012.dkr.ecr.us-east-1.amazonaws.com",
            ),
            (
                "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
                "https://123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn",
            ),
            ("localhost:5000", "http://localhost:5000"),
            ("127.0.0.1:5000", "http://127.0.0.1:5000"),
            ("registry.example.com", "https://registry.example.com"),
        ];
        for (host, endpoint) in cases {
            let parsed = RegistryHost::parse(host).unwrap();
            assert_eq!(
                parsed.proxy_endpoint(),
                endpoint,
                "proxy endpoint of {host}"
            );
            assert_eq!(
                RegistryHost::from_proxy_endpoint(endpoint),
                Ok(parsed),
                "parsing {endpoint}"
            );
        }
    }

    #[test]
    fn proxy_endpoint_rejects_missing_scheme_and_path() {
        let cases = [
            ("localhost:5000", "starts with https://"),
            ("ftp://localhost:5000", "starts with https://"),
            ("http://localhost:5000/v2/", "remove the path"),
        ];
        for (text, problem) in cases {
            let error = RegistryHost::from_proxy_endpoint(text)
                .expect_err(text)
                .to_string();
            assert!(error.contains(problem), "error for {text}: {error}");
        }
        let trailing_slash = RegistryHost::from_proxy_endpoint("http://localhost:5000/");
        assert_eq!(trailing_slash, Ok(loopback("localhost", Some(5000))));
    }

    #[test]
    fn image_reference_parses_valid_references() {
        let aws = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        // (reference, registry, repository, tag, digest)
        type Case<'a> = (
            String,
            RegistryHost,
            &'a str,
            Option<&'a str>,
            Option<&'a str>,
        );
        let cases: Vec<Case> = vec![
            (
                format!("{aws}/my-app:latest"),
                ecr("123456789012", "us-east-1"),
                "my-app",
                Some("latest"),
                None,
            ),
            (
                format!("{aws}/team/project/my-app:v1.2.3"),
                ecr("123456789012", "us-east-1"),
                "team/project/my-app",
                Some("v1.2.3"),
                None,
            ),
            (
                format!("{aws}/my-app"),
                ecr("123456789012", "us-east-1"),
                "my-app",
                None,
                None,
            ),
            (
                format!("{aws}/my-app@{DIGEST}"),
                ecr("123456789012", "us-east-1"),
                "my-app",
                None,
                Some(DIGEST),
            ),
            (
                format!("{aws}/my-app:latest@{DIGEST}"),
                ecr("123456789012", "us-east-1"),
                "my-app",
                Some("latest"),
                Some(DIGEST),
            ),
            (
                "localhost:5000/my-app:latest".to_owned(),
                loopback("localhost", Some(5000)),
                "my-app",
                Some("latest"),
                None,
            ),
            (
                "127.0.0.1:5000/team/my-app".to_owned(),
                loopback("127.0.0.1", Some(5000)),
                "team/my-app",
                None,
                None,
            ),
            (
                "[::1]:5000/my-app:_build.7-x".to_owned(),
                loopback("[::1]", Some(5000)),
                "my-app",
                Some("_build.7-x"),
                None,
            ),
            (
                "localhost/my-app:1".to_owned(),
                loopback("localhost", None),
                "my-app",
                Some("1"),
                None,
            ),
        ];
        for (text, registry, repository, tag, digest) in cases {
            let parsed = ImageReference::parse(&text).unwrap_or_else(|e| panic!("{e}"));
            let expected = ImageReference {
                registry,
                repository: repository.to_owned(),
                tag: tag.map(str::to_owned),
                digest: digest.map(str::to_owned),
            };
            assert_eq!(parsed, expected, "parsing {text}");
            assert_eq!(parsed.to_string(), text, "formatting {text}");
        }
    }

    #[test]
    fn image_reference_rejects_invalid_references() {
        let long_tag = format!("localhost:5000/my-app:{}", "a".repeat(129));
        let cases = [
            ("", "empty"),
            ("my-app:latest", "names no registry host"),
            ("my-org/my-app:latest", "`my-org` is not a registry host"),
            (
                "localhost:5000/",
                "repository name after the registry host is empty",
            ),
            (
                "localhost:5000/:latest",
                "repository name after the registry host is empty",
            ),
            ("localhost:5000/team//my-app", "empty path component"),
            ("localhost:5000/my-app/", "empty path component"),
            ("localhost:5000/my-app:", "the tag `` is invalid"),
            (
                "localhost:5000/my-app:.hidden",
                "the tag `.hidden` is invalid",
            ),
            ("localhost:5000/my-app:a+b", "the tag `a+b` is invalid"),
            (long_tag.as_str(), "is invalid"),
            (
                "localhost:5000/my-app@md5:abc",
                "does not start with `sha256:`",
            ),
            ("localhost:5000/my-app@sha256:abc", "has 3 characters after"),
            (
                "localhost:5000/my-app@sha256:0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef",
                "64 lowercase hexadecimal digits",
            ),
            ("localhost:5000/my app", "whitespace"),
            ("localhost:99999/my-app", "`99999` is not a number"),
            (
                "123456789012.dkr.ecr.mars.amazonaws.com/my-app",
                "`mars` is not a region name",
            ),
        ];
        for (text, problem) in cases {
            let error = ImageReference::parse(text).expect_err(text).to_string();
            assert!(
                error.starts_with(&format!("invalid image reference `{text}`")),
                "error for {text} does not name the value: {error}"
            );
            assert!(
                error.contains(problem),
                "error for {text} does not say `{problem}`: {error}"
            );
        }
    }

    #[test]
    fn image_reference_with_tag_checks_parts() {
        let host = RegistryHost::parse("localhost:5000").unwrap();
        let reference = ImageReference::with_tag(host.clone(), "team/my-app", "latest").unwrap();
        assert_eq!(reference.to_string(), "localhost:5000/team/my-app:latest");
        assert_eq!(reference.repository_uri(), "localhost:5000/team/my-app");

        let bad_tag = ImageReference::with_tag(host.clone(), "my-app", "-x").unwrap_err();
        assert!(bad_tag.to_string().contains("the tag `-x` is invalid"));
        let bad_repository = ImageReference::with_tag(host, "", "latest").unwrap_err();
        assert!(bad_repository.to_string().contains("repository name"));
    }
}
