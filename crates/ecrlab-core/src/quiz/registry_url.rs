//! Amazon ECR private registry URLs as students write them.
//!
//! The default private registry of an account is
//! `https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com`, and in the China Regions the DNS
//! suffix is `amazonaws.com.cn` (AWS ECR User Guide, "Amazon ECR private registry"; the
//! `aws-cn` partition's `dnsSuffix`). The account and the region may be concrete values or
//! placeholders such as `<aws_account_id>`, `{account}`, `${AWS_ACCOUNT_ID}` or `ACCOUNT_ID`.
//!
//! Other addresses are read as well, so that grading can say why they are wrong: a local
//! registry such as `localhost:5000` or `http://127.0.0.1:5000`, or a host without a scheme.

use super::AnswerError;

/// AWS Regions of the `aws`, `aws-us-gov` and `aws-cn` partitions, from the partition metadata
/// (format version 1.1) that aws-sdk-ecr 1.138 embeds.
/// NOTE: AWS adds Regions every year; a new Region grades as unknown until it is added here.
const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "cn-north-1",
    "cn-northwest-1",
];

/// Placeholder names for the account ID, compared after dropping `_`, `-` and case.
const ACCOUNT_PLACEHOLDERS: &[&str] = &[
    "account",
    "accountid",
    "accountnumber",
    "awsaccount",
    "awsaccountid",
    "awsaccountnumber",
    "youraccountid",
    "registryid",
];

/// Placeholder names for the Region, compared after dropping `_`, `-` and case.
const REGION_PLACEHOLDERS: &[&str] = &["region", "awsregion", "regioncode", "yourregion"];

/// A URL read from an answer: scheme, host, port and anything after the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AnsweredUrl {
    pub(crate) scheme: Option<String>,
    pub(crate) host: String,
    /// The port after the host, `None` when the answer gives none or gives 443, the default
    /// port of HTTPS.
    pub(crate) port: Option<String>,
    /// The path after the host without the trailing `/`, empty for a bare host.
    pub(crate) path: String,
    /// The host read as an ECR registry host, when it has that shape.
    pub(crate) registry: Option<RegistryHost>,
}

/// The parts of `<account>.dkr.ecr.<region>.amazonaws.com[.cn]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RegistryHost {
    pub(crate) account: Account,
    pub(crate) region: Region,
    pub(crate) china_suffix: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Account {
    Placeholder,
    Id(String),
    /// Neither a placeholder nor 12 digits.
    Invalid(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Region {
    Placeholder,
    Known(String),
    /// Neither a placeholder nor a Region in [`KNOWN_REGIONS`].
    Unknown(String),
}

impl RegistryHost {
    /// Explains what is wrong with the host on its own, before comparing it with the answer key.
    pub(crate) fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Account::Invalid(account) = &self.account {
            problems.push(format!(
                "`{account}` is not an AWS account ID, which has 12 digits (or write a placeholder such as <aws_account_id>)"
            ));
        }
        match &self.region {
            Region::Unknown(region) => problems.push(format!(
                "`{region}` is not an AWS Region (Regions look like us-east-1 or eu-west-2)"
            )),
            Region::Known(region) => {
                let china_region = region.starts_with("cn-");
                if china_region && !self.china_suffix {
                    problems.push(format!(
                        "the China Region {region} uses the DNS suffix amazonaws.com.cn, not amazonaws.com"
                    ));
                } else if !china_region && self.china_suffix {
                    problems.push(format!(
                        "amazonaws.com.cn is the DNS suffix of the China Regions only; {region} uses amazonaws.com"
                    ));
                }
            }
            Region::Placeholder => {}
        }
        problems
    }

    /// Whether this host, already free of [`RegistryHost::problems`], fits the answer key
    /// `expected`. A placeholder in the key accepts any valid value or placeholder; a concrete
    /// value in the key must be repeated exactly.
    pub(crate) fn fits(&self, expected: &RegistryHost) -> bool {
        let account_fits = match (&expected.account, &self.account) {
            (Account::Placeholder, Account::Placeholder | Account::Id(_)) => true,
            (Account::Id(key), Account::Id(answer)) => key == answer,
            _ => false,
        };
        let region_fits = match (&expected.region, &self.region) {
            (Region::Placeholder, Region::Placeholder | Region::Known(_)) => true,
            (Region::Known(key), Region::Known(answer)) => key == answer,
            _ => false,
        };
        account_fits && region_fits
    }
}

/// Reads the URL in an answer. The answer may be a sentence, as long as it contains exactly one
/// address: a word with a dot, a scheme (`http://`) or a port (`host:5000`) in it, or the word
/// `localhost`.
pub(crate) fn parse(answer: &str) -> Result<AnsweredUrl, AnswerError> {
    let collapsed = remove_spaces_in_brackets(answer.trim());
    let candidates: Vec<&str> = collapsed
        .split_whitespace()
        .map(|word| {
            word.trim_start_matches(['(', '"', '\'', '`'])
                .trim_end_matches(['.', ',', ';', ':', ')', '"', '\'', '`', '!', '?'])
        })
        .filter(|word| looks_like_address(word))
        .collect();

    let mut unique: Vec<&str> = Vec::new();
    for candidate in candidates {
        if !unique.contains(&candidate) {
            unique.push(candidate);
        }
    }
    match unique.as_slice() {
        [] => Err(AnswerError::NoUrl {
            answer: answer.to_owned(),
        }),
        [url] => Ok(parse_url(url)),
        several => Err(AnswerError::SeveralUrls {
            answer: answer.to_owned(),
            urls: several.iter().map(|url| (*url).to_owned()).collect(),
        }),
    }
}

/// Returns whether a word of an answer names a host: it contains a dot or a scheme, is
/// `localhost`, or ends its host with a port (`localhost:5000`, `registry:5000/my-app`).
fn looks_like_address(word: &str) -> bool {
    if word.contains('.') || word.contains("://") || word.eq_ignore_ascii_case("localhost") {
        return true;
    }
    let authority = word.split('/').next().unwrap_or(word);
    matches!(split_port(authority), (host, Some(_)) if !host.is_empty())
}

/// Splits `host:port` when the part after the last colon is a port number. An authority with
/// more colons (an IPv6 address) stays whole.
fn split_port(authority: &str) -> (&str, Option<&str>) {
    match authority.rsplit_once(':') {
        Some((host, port))
            if !port.is_empty()
                && port.chars().all(|c| c.is_ascii_digit())
                && !host.contains(':') =>
        {
            (host, Some(port))
        }
        _ => (authority, None),
    }
}

fn parse_url(url: &str) -> AnsweredUrl {
    let lowered = url.to_lowercase();
    let (scheme, rest) = match lowered.split_once("://") {
        Some((scheme, rest)) => (Some(scheme.to_owned()), rest.to_owned()),
        None => (None, lowered),
    };
    let (authority, path) = match rest.split_once('/') {
        Some((authority, path)) => (authority.to_owned(), path.trim_end_matches('/').to_owned()),
        None => (rest, String::new()),
    };
    let (host, port) = split_port(&authority);
    let host = host.trim_end_matches('.').to_owned();
    // Port 443 is the default for https, and a URL that states the default port is equivalent
    // to one without it (RFC 3986, section 6.2.3), so `host:443` names the same registry.
    let port = port.filter(|port| *port != "443").map(str::to_owned);
    let registry = parse_registry_host(&host);
    AnsweredUrl {
        scheme,
        host,
        port,
        path,
        registry,
    }
}

fn parse_registry_host(host: &str) -> Option<RegistryHost> {
    let labels: Vec<&str> = host.split('.').collect();
    let (account, region, china_suffix) = match labels.as_slice() {
        [account, "dkr", "ecr", region, "amazonaws", "com"] => (*account, *region, false),
        [account, "dkr", "ecr", region, "amazonaws", "com", "cn"] => (*account, *region, true),
        _ => return None,
    };
    Some(RegistryHost {
        account: read_account(account),
        region: read_region(region),
        china_suffix,
    })
}

fn read_account(label: &str) -> Account {
    if label.len() == 12 && label.chars().all(|c| c.is_ascii_digit()) {
        return Account::Id(label.to_owned());
    }
    match placeholder_name(label) {
        Some(name) if ACCOUNT_PLACEHOLDERS.contains(&name.as_str()) => Account::Placeholder,
        _ => Account::Invalid(label.to_owned()),
    }
}

fn read_region(label: &str) -> Region {
    if KNOWN_REGIONS.contains(&label) {
        return Region::Known(label.to_owned());
    }
    match placeholder_name(label) {
        Some(name) if REGION_PLACEHOLDERS.contains(&name.as_str()) => Region::Placeholder,
        _ => Region::Unknown(label.to_owned()),
    }
}

/// Strips placeholder brackets (`<x>`, `{x}`, `${x}`, `$x`, `[x]`) and returns the name inside
/// without `_`, `-` and spaces. Bare names (`account_id`) count as well.
fn placeholder_name(label: &str) -> Option<String> {
    let unprefixed = label.strip_prefix('$').unwrap_or(label);
    let inner = [('<', '>'), ('{', '}'), ('[', ']')]
        .iter()
        .find_map(|(open, close)| {
            unprefixed
                .strip_prefix(*open)
                .and_then(|rest| rest.strip_suffix(*close))
        })
        .unwrap_or(unprefixed);
    let name: String = inner
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | ' '))
        .collect();
    if name.chars().all(|c| c.is_ascii_alphabetic()) && !name.is_empty() {
        Some(name)
    } else {
        None
    }
}

/// Removes spaces inside `<...>`, `{...}` and `[...]`, so `<account id>` stays one word.
fn remove_spaces_in_brackets(text: &str) -> String {
    let mut depth = 0usize;
    let mut output = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' | '{' | '[' => depth += 1,
            '>' | '}' | ']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        if depth > 0 && c == ' ' {
            continue;
        }
        output.push(c);
    }
    output
}

/// How an answered URL fits the answer key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlFit {
    Exact,
    /// The registry host fits, but the scheme, port or path around it is wrong.
    HostOnly,
    Wrong,
}

/// Compares an answered URL with the answer key and returns how it fits, with notes that say
/// what does not fit.
pub(crate) fn judge(accepted: &[RegistryHost], url: &AnsweredUrl) -> (UrlFit, Vec<String>) {
    let mut notes = Vec::new();
    if let Some(scheme) = url.scheme.as_deref().filter(|scheme| *scheme != "https") {
        notes.push(format!(
            "ECR registries are reached over HTTPS, so the URL starts with https://, not {scheme}://"
        ));
    }
    if let Some(port) = &url.port {
        notes.push(format!(
            "ECR registries use 443, the default port of HTTPS, so the URL has no port; remove `:{port}`"
        ));
    }
    if !url.path.is_empty() {
        notes.push(format!(
            "`/{}` names a repository; the registry URL ends after the host name",
            url.path
        ));
    }
    let Some(host) = &url.registry else {
        notes.push(format!(
            "`{}` is not a private registry host; those have the form <aws_account_id>.dkr.ecr.<region>.amazonaws.com",
            url.host
        ));
        return (UrlFit::Wrong, notes);
    };

    let problems = host.problems();
    let fits = problems.is_empty() && accepted.iter().any(|key| host.fits(key));
    let fit = match (fits, notes.is_empty()) {
        (true, true) => UrlFit::Exact,
        (true, false) => UrlFit::HostOnly,
        (false, _) => UrlFit::Wrong,
    };
    notes.extend(problems);
    if !fits && notes.is_empty() {
        notes.push("the account ID or Region differs from the expected one".to_owned());
    }
    (fit, notes)
}

/// The host, and optionally the port, of a misconception's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HostPattern {
    host: String,
    port: Option<String>,
}

impl HostPattern {
    /// Reads a misconception's answer as a pattern.
    pub(crate) fn parse(answer: &str) -> Result<HostPattern, AnswerError> {
        let url = parse(answer)?;
        Ok(HostPattern {
            host: url.host,
            port: url.port,
        })
    }

    /// Returns whether an answered URL matches: its host fits the pattern's host, and its port
    /// equals the pattern's port when the pattern has one.
    pub(crate) fn matches(&self, url: &AnsweredUrl) -> bool {
        host_fits_pattern(&url.host, &self.host)
            && self
                .port
                .as_ref()
                .is_none_or(|port| url.port.as_ref() == Some(port))
    }
}

/// Returns whether an answered host matches a misconception's host. A label of the pattern written
/// as a placeholder (`<region>`) matches any label.
fn host_fits_pattern(host: &str, pattern: &str) -> bool {
    let labels: Vec<&str> = host.split('.').collect();
    let pattern_labels: Vec<&str> = pattern.split('.').collect();
    labels.len() == pattern_labels.len()
        && labels
            .iter()
            .zip(&pattern_labels)
            .all(|(label, expected)| label == expected || is_placeholder_label(expected))
}

fn is_placeholder_label(label: &str) -> bool {
    let unprefixed = label.strip_prefix('$').unwrap_or(label);
    [('<', '>'), ('{', '}'), ('[', ']')]
        .iter()
        .any(|(open, close)| unprefixed.starts_with(*open) && unprefixed.ends_with(*close))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(answer: &str) -> RegistryHost {
        let url = parse(answer).unwrap_or_else(|error| panic!("{answer:?}: {error}"));
        url.registry
            .unwrap_or_else(|| panic!("{answer:?} did not read as a registry host"))
    }

    #[test]
    fn placeholders_read_as_placeholders() {
        let cases = [
            "https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com",
            "https://<account-id>.dkr.ecr.<region>.amazonaws.com",
            "https://{account}.dkr.ecr.{region}.amazonaws.com",
            "https://ACCOUNT_ID.dkr.ecr.REGION.amazonaws.com",
            "https://${AWS_ACCOUNT_ID}.dkr.ecr.${AWS_REGION}.amazonaws.com",
            "<account id>.dkr.ecr.<region>.amazonaws.com",
            "aws_account_id.dkr.ecr.region.amazonaws.com",
        ];
        for answer in cases {
            let host = registry(answer);
            assert_eq!(host.account, Account::Placeholder, "answer {answer:?}");
            assert_eq!(host.region, Region::Placeholder, "answer {answer:?}");
            assert!(!host.china_suffix, "answer {answer:?}");
        }
    }

    #[test]
    fn concrete_values_are_checked() {
        let host = registry("123456789012.dkr.ecr.us-east-1.amazonaws.com");
        assert_eq!(host.account, Account::Id("123456789012".to_owned()));
        assert_eq!(host.region, Region::Known("us-east-1".to_owned()));
        assert!(host.problems().is_empty());

        let host = registry("12345.dkr.ecr.us-east-1.amazonaws.com");
        assert_eq!(host.account, Account::Invalid("12345".to_owned()));
        assert_eq!(host.problems().len(), 1);

        let host = registry("123456789012.dkr.ecr.us-middle-9.amazonaws.com");
        assert_eq!(host.region, Region::Unknown("us-middle-9".to_owned()));
        assert_eq!(host.problems().len(), 1);
    }

    #[test]
    fn china_suffix_must_match_region() {
        let host = registry("https://123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn");
        assert!(host.china_suffix);
        assert!(host.problems().is_empty());

        assert_eq!(
            registry("123456789012.dkr.ecr.cn-north-1.amazonaws.com")
                .problems()
                .len(),
            1
        );
        assert_eq!(
            registry("123456789012.dkr.ecr.us-east-1.amazonaws.com.cn")
                .problems()
                .len(),
            1
        );
        assert!(
            registry("<account>.dkr.ecr.<region>.amazonaws.com.cn")
                .problems()
                .is_empty()
        );
    }

    #[test]
    fn url_parts_are_separated() {
        let url = parse("It is HTTPS://123456789012.dkr.ecr.us-east-1.amazonaws.com/my-app/.")
            .expect("answer contains one URL");
        assert_eq!(url.scheme.as_deref(), Some("https"));
        assert_eq!(url.host, "123456789012.dkr.ecr.us-east-1.amazonaws.com");
        assert_eq!(url.path, "my-app");

        let url = parse("123456789012.dkr.ecr.us-east-1.amazonaws.com:443").expect("one URL");
        assert!(url.registry.is_some());
        assert_eq!(url.scheme, None);
        assert_eq!(url.port, None);

        let url = parse("123456789012.dkr.ecr.us-east-1.amazonaws.com:5000").expect("one URL");
        assert!(url.registry.is_some());
        assert_eq!(url.port.as_deref(), Some("5000"));
    }

    #[test]
    fn other_hosts_are_not_registries() {
        let url = parse("https://api.ecr.us-east-1.amazonaws.com").expect("one URL");
        assert_eq!(url.registry, None);
        let url = parse("https://public.ecr.aws").expect("one URL");
        assert_eq!(url.registry, None);
    }

    #[test]
    fn local_addresses_are_read() {
        let cases = [
            ("localhost:5000", None, "localhost", Some("5000")),
            (
                "http://localhost:5000",
                Some("http"),
                "localhost",
                Some("5000"),
            ),
            (
                "It is localhost:5000/my-app.",
                None,
                "localhost",
                Some("5000"),
            ),
            ("localhost", None, "localhost", None),
            (
                "http://127.0.0.1:5000/",
                Some("http"),
                "127.0.0.1",
                Some("5000"),
            ),
            ("registry:5000", None, "registry", Some("5000")),
        ];
        for (answer, scheme, host, port) in cases {
            let url = parse(answer).unwrap_or_else(|error| panic!("{answer:?}: {error}"));
            assert_eq!(url.scheme.as_deref(), scheme, "answer {answer:?}");
            assert_eq!(url.host, host, "answer {answer:?}");
            assert_eq!(url.port.as_deref(), port, "answer {answer:?}");
            assert_eq!(url.registry, None, "answer {answer:?}");
        }
    }

    #[test]
    fn host_pattern_port_is_optional() {
        let any_port = HostPattern::parse("localhost").expect("one address");
        let port_5000 = HostPattern::parse("localhost:5000").expect("one address");
        let url = |answer: &str| parse(answer).expect("one address");

        assert!(any_port.matches(&url("localhost:5000")));
        assert!(any_port.matches(&url("http://localhost:5001")));
        assert!(any_port.matches(&url("localhost")));
        assert!(port_5000.matches(&url("http://localhost:5000/")));
        assert!(!port_5000.matches(&url("localhost:5001")));
        assert!(!port_5000.matches(&url("localhost")));
        assert!(!any_port.matches(&url("127.0.0.1:5000")));
    }

    #[test]
    fn answers_without_one_url_are_errors() {
        assert!(matches!(
            parse("I do not know"),
            Err(AnswerError::NoUrl { .. })
        ));
        assert!(matches!(
            parse("a.example.com or b.example.com"),
            Err(AnswerError::SeveralUrls { .. })
        ));
    }

    #[test]
    fn fits_compares_with_answer_key() {
        let key = registry("https://<aws_account_id>.dkr.ecr.<region>.amazonaws.com");
        assert!(registry("{account}.dkr.ecr.{region}.amazonaws.com").fits(&key));
        assert!(registry("123456789012.dkr.ecr.eu-west-1.amazonaws.com").fits(&key));
        assert!(registry("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn").fits(&key));

        let concrete = registry("123456789012.dkr.ecr.us-east-1.amazonaws.com");
        assert!(registry("123456789012.dkr.ecr.us-east-1.amazonaws.com").fits(&concrete));
        assert!(!registry("210987654321.dkr.ecr.us-east-1.amazonaws.com").fits(&concrete));
        assert!(!registry("<account>.dkr.ecr.us-east-1.amazonaws.com").fits(&concrete));
    }
}
