//! aws-sdk-ecr calls of the scanning step, which several integration tests make the same way.
//! Each function panics with the failed call's name and error, because a test cannot go on
//! without its result.

use std::time::Duration;

use aws_sdk_ecr::types::{
    ImageIdentifier, ImageScanFinding, ImageScanningConfiguration, ScanStatus,
};

/// Turns on scan on push for repository `name` with PutImageScanningConfiguration.
pub async fn turn_on_scan_on_push(ecr: &aws_sdk_ecr::Client, name: &str) {
    let scanning = ImageScanningConfiguration::builder()
        .scan_on_push(true)
        .build();
    ecr.put_image_scanning_configuration()
        .repository_name(name)
        .image_scanning_configuration(scanning)
        .send()
        .await
        .unwrap_or_else(|error| panic!("PutImageScanningConfiguration {name} failed: {error:?}"));
}

/// Waits until the scan of `<name>:<tag>` is COMPLETE, as `aws ecr wait image-scan-complete`
/// does, then reads its findings with DescribeImageScanFindings and returns the first page.
/// Panics after 30 seconds, or when the scan ends with another status.
pub async fn wait_for_scan_findings(
    ecr: &aws_sdk_ecr::Client,
    name: &str,
    tag: &str,
) -> Vec<ImageScanFinding> {
    let started = std::time::Instant::now();
    loop {
        let output = ecr
            .describe_image_scan_findings()
            .repository_name(name)
            .image_id(ImageIdentifier::builder().image_tag(tag).build())
            .send()
            .await
            .unwrap_or_else(|error| {
                panic!("DescribeImageScanFindings {name}:{tag} failed: {error:?}")
            });
        let status = output
            .image_scan_status()
            .and_then(|status| status.status());
        match status {
            Some(ScanStatus::Complete) => {
                return output
                    .image_scan_findings()
                    .map(|findings| findings.findings().to_vec())
                    .unwrap_or_default();
            }
            Some(ScanStatus::InProgress) => {}
            other => panic!("the scan of {name}:{tag} ended with {other:?}: {output:?}"),
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the scan of {name}:{tag} is not COMPLETE after 30 seconds"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
