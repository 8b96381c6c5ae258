//! The demo's scanning step: make sure the repository scans on push, push the scan sample
//! image, wait for its scan as `aws ecr wait image-scan-complete` does, and read the findings.

use std::io::Write;
use std::time::Duration;

use aws_sdk_ecr::operation::describe_image_scan_findings::DescribeImageScanFindingsOutput;
use aws_sdk_ecr::types::{ImageIdentifier, ImageScanningConfiguration, ScanStatus};

use super::{DemoError, REPOSITORY, describe_existing_repository};
use crate::clients::{ClientError, collect_scan_findings};
use crate::evidence::ScanFinding;

/// The tag under which the demo pushes the scan sample image, as the lab's instructions do.
pub const SCAN_TAG: &str = "scan";

/// How often the demo polls the scan's status. The AWS CLI's waiter polls every 5 seconds, but
/// the mock scans a few-kilobyte image in milliseconds, so the demo polls more often.
const POLL_INTERVAL: Duration = Duration::from_millis(100);

/// How long the demo waits for the scan before it gives up.
const SCAN_TIMEOUT: Duration = Duration::from_secs(60);

/// Turns on scan on push when the repository has it off, as the lab's instructions do with
/// `aws ecr put-image-scanning-configuration`. The demo creates the repository with it on, so
/// this matters only for a repository that existed before the demo ran.
pub(super) async fn ensure_scan_on_push(
    ecr: &aws_sdk_ecr::Client,
    out: &mut impl Write,
) -> Result<(), DemoError> {
    let repository = describe_existing_repository(ecr).await?;
    let scan_on_push = repository
        .image_scanning_configuration()
        .is_some_and(|configuration| configuration.scan_on_push());
    if scan_on_push {
        writeln!(out, "  scan on push is on for {REPOSITORY}")?;
        return Ok(());
    }
    writeln!(
        out,
        "  $ aws ecr put-image-scanning-configuration --repository-name {REPOSITORY} \
         --image-scanning-configuration scanOnPush=true"
    )?;
    let scanning = ImageScanningConfiguration::builder()
        .scan_on_push(true)
        .build();
    ecr.put_image_scanning_configuration()
        .repository_name(REPOSITORY)
        .image_scanning_configuration(scanning)
        .send()
        .await
        .map_err(|error| ClientError::ecr("PutImageScanningConfiguration", error))?;
    Ok(())
}

/// Waits until the scan of the image `digest` is `COMPLETE`, then reads all its findings and
/// prints them. A scan that ends with another status, or runs longer than [`SCAN_TIMEOUT`],
/// is an error.
pub(super) async fn read_findings(
    ecr: &aws_sdk_ecr::Client,
    region: &str,
    digest: &str,
    out: &mut impl Write,
) -> Result<Vec<ScanFinding>, DemoError> {
    writeln!(
        out,
        "  $ aws ecr wait image-scan-complete --repository-name {REPOSITORY} --image-id imageTag={SCAN_TAG}"
    )?;
    let started = tokio::time::Instant::now();
    loop {
        let output = describe_first_page(ecr, digest).await?;
        let status = output
            .image_scan_status()
            .and_then(|status| status.status());
        match status {
            Some(ScanStatus::Complete) => break,
            Some(ScanStatus::InProgress | ScanStatus::Pending) | None => {}
            Some(other) => {
                let description = output
                    .image_scan_status()
                    .and_then(|status| status.description())
                    .unwrap_or("no description");
                return Err(DemoError::ScanFailed {
                    status: other.as_str().to_owned(),
                    description: description.to_owned(),
                });
            }
        }
        if started.elapsed() > SCAN_TIMEOUT {
            return Err(DemoError::ScanTimedOut {
                seconds: SCAN_TIMEOUT.as_secs(),
            });
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
    writeln!(out, "  the scan is COMPLETE")?;

    writeln!(
        out,
        "  $ aws ecr describe-image-scan-findings --repository-name {REPOSITORY} --image-id imageTag={SCAN_TAG}"
    )?;
    let findings = collect_scan_findings(ecr, region, REPOSITORY, digest)
        .await?
        .findings;
    for finding in &findings {
        writeln!(
            out,
            "  {:<9} {} in {} {}",
            finding.severity,
            finding.name,
            finding
                .package_name
                .as_deref()
                .unwrap_or("an unnamed package"),
            finding.package_version.as_deref().unwrap_or("")
        )?;
    }
    if findings.is_empty() {
        writeln!(out, "  no findings")?;
    }
    Ok(findings)
}

async fn describe_first_page(
    ecr: &aws_sdk_ecr::Client,
    digest: &str,
) -> Result<DescribeImageScanFindingsOutput, DemoError> {
    let image = ImageIdentifier::builder().image_digest(digest).build();
    let output = ecr
        .describe_image_scan_findings()
        .repository_name(REPOSITORY)
        .image_id(image)
        .send()
        .await
        .map_err(|error| ClientError::ecr("DescribeImageScanFindings", error))?;
    Ok(output)
}
