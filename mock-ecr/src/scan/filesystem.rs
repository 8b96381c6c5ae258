use super::{Layer, ScanFailure};

pub(super) struct Files;

pub(super) fn collect_files<'a>(
    layers: impl IntoIterator<Item = Result<Layer<'a>, ScanFailure>>,
) -> Result<Files, ScanFailure> {
    let _ = layers.into_iter();
    todo!("interface only")
}
