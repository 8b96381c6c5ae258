use super::filesystem::Files;
use super::{Package, PackageFormat, ScanFailure};

pub(super) struct Installed {
    pub format: PackageFormat,
    pub packages: Vec<Package>,
}

pub(super) fn read_installed(
    files: &Files,
    warnings: &mut Vec<String>,
) -> Result<Installed, ScanFailure> {
    let _ = (files, warnings);
    todo!("interface only")
}
