//! Findings in the JSON shapes of the ECR API, shared by the server's
//! DescribeImageScanFindings and `ecrlab scan --format json`.

use serde_json::{Map, Value, json};

use super::{CvssVersion, Finding, Severity};

/// Returns a finding as ECR's `ImageScanFinding`. The attributes follow the order of ECR basic
/// scanning (ECR User Guide, "Retrieving the findings for basic scans"): `package_version`,
/// `package_name`, then the CVSS vector and score.
pub fn finding_json(finding: &Finding) -> Value {
    let mut attributes = vec![
        json!({ "key": "package_version", "value": finding.package_version }),
        json!({ "key": "package_name", "value": finding.package_name }),
    ];
    if let Some(cvss) = &finding.cvss {
        let prefix = match cvss.version {
            CvssVersion::V2 => "CVSS2",
            CvssVersion::V3 => "CVSS3",
        };
        attributes.push(json!({ "key": format!("{prefix}_VECTOR"), "value": cvss.vector }));
        attributes.push(json!({ "key": format!("{prefix}_SCORE"), "value": cvss.score }));
    }
    json!({
        "name": finding.name,
        "description": finding.description,
        "uri": finding.uri,
        "severity": finding.severity.as_str(),
        "attributes": attributes,
    })
}

/// Returns ECR's `findingSeverityCounts`: the number of findings of each severity, listing
/// only severities that have findings.
pub fn severity_counts_json(findings: &[Finding]) -> Value {
    let mut counts = Map::new();
    for severity in Severity::ALL {
        let count = findings
            .iter()
            .filter(|finding| finding.severity == severity)
            .count();
        if count > 0 {
            counts.insert(severity.as_str().to_owned(), json!(count));
        }
    }
    Value::Object(counts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::Cvss;

    fn finding(name: &str, severity: Severity, cvss: Option<Cvss>) -> Finding {
        Finding {
            name: name.to_owned(),
            description: "a flaw".to_owned(),
            uri: format!("https://security-tracker.debian.org/tracker/{name}"),
            severity,
            package_name: "libssl3".to_owned(),
            package_version: "3.0.11-1~deb12u2".to_owned(),
            cvss,
            fixed_version: None,
        }
    }

    #[test]
    fn finding_has_ecr_attributes() {
        let cvss = Cvss {
            version: CvssVersion::V2,
            score: "5.0".to_owned(),
            vector: "AV:N/AC:L/Au:N/C:N/I:N/A:P".to_owned(),
        };
        let json = finding_json(&finding("CVE-2099-0001", Severity::Medium, Some(cvss)));
        assert_eq!(json["name"], "CVE-2099-0001");
        assert_eq!(json["severity"], "MEDIUM");
        assert_eq!(
            json["attributes"],
            json!([
                { "key": "package_version", "value": "3.0.11-1~deb12u2" },
                { "key": "package_name", "value": "libssl3" },
                { "key": "CVSS2_VECTOR", "value": "AV:N/AC:L/Au:N/C:N/I:N/A:P" },
                { "key": "CVSS2_SCORE", "value": "5.0" },
            ])
        );
        let without = finding_json(&finding("CVE-2099-0002", Severity::Low, None));
        assert_eq!(without["attributes"].as_array().map(Vec::len), Some(2));
    }

    #[test]
    fn counts_list_present_severities() {
        let findings = [
            finding("CVE-2099-0001", Severity::High, None),
            finding("CVE-2099-0002", Severity::High, None),
            finding("CVE-2099-0003", Severity::Undefined, None),
        ];
        assert_eq!(
            severity_counts_json(&findings),
            json!({ "HIGH": 2, "UNDEFINED": 1 })
        );
        assert_eq!(severity_counts_json(&[]), json!({}));
    }
}
