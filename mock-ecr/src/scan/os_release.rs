use super::filesystem::Files;
use super::{OperatingSystem, PackageFormat, ScanFailure};

pub(super) fn detect(
    files: &Files,
    format: PackageFormat,
    warnings: &mut Vec<String>,
) -> Result<OperatingSystem, ScanFailure> {
    let _ = (files, format, warnings);
    todo!("interface only")
}
