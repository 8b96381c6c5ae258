//! Reaching the mock by an ECR-shaped host name such as
//! `123456789012.dkr.ecr.us-east-1.amazonaws.com:5000`.
//!
//! mock-ecr takes the account and region from such a name, so a student can push to the same
//! image URI shape as on AWS. An `/etc/hosts` line makes the name resolve to this machine.
//! Docker then uses plain HTTP, because it compares the addresses the name resolves to with its
//! default insecure-registry ranges, 127.0.0.0/8 and ::1/128 (Docker Engine API,
//! `RegistryServiceConfig.InsecureRegistryCIDRs`). `tests/registry_interop.rs` pushes this way.

use std::net::IpAddr;

use crate::ecr::dns_suffix_for_region;

/// The outcome of resolving the registry host of repository URIs, with the fix it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostMapping {
    /// The host is ECR-shaped and resolves to this machine only.
    Mapped { name: String },
    /// The host is ECR-shaped and resolves elsewhere, such as to the real ECR.
    Elsewhere {
        name: String,
        addresses: Vec<IpAddr>,
    },
    /// The host is ECR-shaped and does not resolve.
    Unresolved { name: String, error: String },
    /// The host is a local name such as `localhost`; `suggested` is the ECR-shaped name of the
    /// mock's registry.
    Local { suggested: String },
}

impl HostMapping {
    /// Returns whether clients can reach the mock through this host as it is.
    pub fn is_usable(&self) -> bool {
        matches!(self, Self::Mapped { .. } | Self::Local { .. })
    }

    /// Formats one paragraph for a person: what was found and how to map the name to 127.0.0.1.
    pub fn advice(&self) -> String {
        match self {
            Self::Mapped { name } => format!(
                "{name} resolves to this machine, so docker, podman and skopeo reach the mock \
                 by ECR's own host name (podman and skopeo with --tls-verify=false)."
            ),
            Self::Elsewhere { name, addresses } => format!(
                "{name} resolves to {}, not to this machine, so pushes to it would leave the \
                 mock: add the line '127.0.0.1 {name}' to /etc/hosts (as root).",
                join(addresses)
            ),
            Self::Unresolved { name, error } => format!(
                "{name} does not resolve ({error}): add the line '127.0.0.1 {name}' to \
                 /etc/hosts (as root)."
            ),
            Self::Local { suggested } => format!(
                "To push to ECR's own host name instead, add the line '127.0.0.1 {suggested}' \
                 to /etc/hosts (as root) and start the mock with --public-host {suggested}; \
                 docker treats names that resolve to 127.0.0.1 as insecure registries, and \
                 podman and skopeo need --tls-verify=false."
            ),
        }
    }
}

fn join(addresses: &[IpAddr]) -> String {
    let texts: Vec<String> = addresses.iter().map(IpAddr::to_string).collect();
    texts.join(", ")
}

/// Returns the host name of a `host:port` or `[v6]:port` registry host.
fn host_name(registry_host: &str) -> &str {
    if let Some(rest) = registry_host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    registry_host
        .rsplit_once(':')
        .map_or(registry_host, |(name, _)| name)
}

/// Returns whether `name` has the shape `<12 digits>.dkr.ecr.<region>.<suffix>` (or `ecr-fips`).
pub fn is_ecr_shaped(name: &str) -> bool {
    let labels: Vec<&str> = name.split('.').collect();
    match labels.as_slice() {
        [account, "dkr", "ecr" | "ecr-fips", region, suffix @ ..] => {
            account.len() == 12
                && account.bytes().all(|byte| byte.is_ascii_digit())
                && !region.is_empty()
                && !suffix.is_empty()
        }
        _ => false,
    }
}

/// Resolves the mock's registry host (`registry_host`, as `ecrlab env` prints it) and reports
/// whether clients reach the mock through it.
pub async fn check_registry_host(
    registry_host: &str,
    account_id: &str,
    region: &str,
) -> HostMapping {
    let name = host_name(registry_host);
    if !is_ecr_shaped(name) {
        return HostMapping::Local {
            suggested: format!(
                "{account_id}.dkr.ecr.{region}.{}",
                dns_suffix_for_region(region)
            ),
        };
    }
    let resolved = tokio::net::lookup_host((name, 0))
        .await
        .map(|found| found.map(|address| address.ip()).collect::<Vec<IpAddr>>());
    let name = name.to_owned();
    match resolved {
        Ok(mut addresses) => {
            addresses.sort();
            addresses.dedup();
            if !addresses.is_empty() && addresses.iter().all(IpAddr::is_loopback) {
                HostMapping::Mapped { name }
            } else {
                HostMapping::Elsewhere { name, addresses }
            }
        }
        Err(error) => HostMapping::Unresolved {
            name,
            error: error.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_drop_ports() {
        assert_eq!(host_name("localhost:5000"), "localhost");
        assert_eq!(host_name("[::1]:5000"), "::1");
        assert_eq!(
            host_name("123456789012.dkr.ecr.us-east-1.amazonaws.com:5000"),
            "123456789012.dkr.ecr.us-east-1.amazonaws.com"
        );
        assert_eq!(host_name("example.test"), "example.test");
    }

    #[test]
    fn ecr_shape_needs_account_and_region() {
        assert!(is_ecr_shaped(
            "123456789012.dkr.ecr.us-east-1.amazonaws.com"
        ));
        assert!(is_ecr_shaped(
            "123456789012.dkr.ecr-fips.us-east-1.amazonaws.com"
        ));
        assert!(!is_ecr_shaped("localhost"));
        assert!(!is_ecr_shaped("1234.dkr.ecr.us-east-1.amazonaws.com"));
        assert!(!is_ecr_shaped("123456789012.dkr.ecr.us-east-1"));
    }

    #[tokio::test]
    async fn local_hosts_get_the_ecr_name_to_map() {
        let mapping = check_registry_host("localhost:5000", "123456789012", "eu-west-1").await;
        assert_eq!(
            mapping,
            HostMapping::Local {
                suggested: "123456789012.dkr.ecr.eu-west-1.amazonaws.com".to_owned()
            }
        );
        assert!(mapping.is_usable());
        let advice = mapping.advice();
        assert!(
            advice.contains("'127.0.0.1 123456789012.dkr.ecr.eu-west-1.amazonaws.com'")
                && advice.contains("--public-host 123456789012.dkr.ecr.eu-west-1.amazonaws.com"),
            "{advice}"
        );
    }

    #[tokio::test]
    async fn unmapped_ecr_name_gets_hosts_line() {
        // `.invalid` never resolves (RFC 6761), so this checks the unresolved case offline.
        let mapping =
            check_registry_host("123456789012.dkr.ecr.us-east-1.invalid:5000", "1", "x").await;
        assert!(!mapping.is_usable(), "{mapping:?}");
        let advice = mapping.advice();
        assert!(
            advice.contains("'127.0.0.1 123456789012.dkr.ecr.us-east-1.invalid'"),
            "{advice}"
        );
    }

    #[test]
    fn names_resolving_elsewhere_are_not_usable() {
        let mapping = HostMapping::Elsewhere {
            name: "123456789012.dkr.ecr.us-east-1.amazonaws.com".to_owned(),
            addresses: vec!["52.1.2.3".parse().unwrap()],
        };
        assert!(!mapping.is_usable());
        assert!(
            mapping.advice().contains("52.1.2.3"),
            "{}",
            mapping.advice()
        );
    }
}
