//! Replays the fuzz inputs kept in the repository through the checks of the fuzz targets, on
//! stable Rust: the hand-picked seeds in `fuzz/seeds/<target>/` and every input that once broke
//! a check, in `fuzz/regressions/<target>/`. The checks live in `fuzz/src/lib.rs`, which this
//! test includes, so a target and its regression test cannot drift apart.

#[path = "../../fuzz/src/lib.rs"]
mod harness;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

/// Runs `check` on every input of `target` and fails with the files whose check panicked.
fn replay(target: &str, check: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut files: Vec<PathBuf> = Vec::new();
    for folder in ["seeds", "regressions"] {
        let folder = fuzz.join(folder).join(target);
        let entries = std::fs::read_dir(&folder)
            .unwrap_or_else(|error| panic!("failed to list {}: {error}", folder.display()));
        for entry in entries {
            let path = entry.expect("a folder entry").path();
            if path.is_file() && path.file_name().is_some_and(|name| name != ".gitkeep") {
                files.push(path);
            }
        }
    }
    files.sort();
    assert!(
        !files.is_empty(),
        "no inputs for {target} in fuzz/seeds or fuzz/regressions"
    );

    let mut failures = Vec::new();
    for path in &files {
        let input = std::fs::read(path).expect("a readable input file");
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| check(&input))) {
            let reason = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|text| (*text).to_owned()))
                .unwrap_or_default();
            failures.push(format!("{}: {reason}", path.display()));
        }
    }
    assert!(
        failures.is_empty(),
        "failed inputs:\n{}",
        failures.join("\n")
    );
}

#[test]
fn manifest_inputs_pass_checks() {
    replay("manifest", harness::check_manifest);
}

#[test]
fn router_inputs_pass_checks() {
    replay("router", harness::check_router);
}

#[test]
fn authorization_inputs_pass_checks() {
    replay("authorization", harness::check_authorization);
}

#[test]
fn digest_and_name_inputs_pass_checks() {
    replay("digest_names", harness::check_digest_and_names);
}

/// The seeds must reach deep states, or the fuzzer starts from the shallow ones: each request
/// of the push seed must succeed, including the chunked upload that uses `$location` and
/// `$upload_id`.
#[test]
fn push_seed_reaches_every_step() {
    let seed =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/router/registry-push-and-pull");
    let statuses: Vec<u16> = harness::send_requests(&std::fs::read(seed).expect("the push seed"))
        .into_iter()
        .map(|status| status.as_u16())
        .collect();
    // CreateRepository, monolithic upload, upload start, chunk, upload end, manifest push,
    // converted pull, ranged blob read, tag page, empty config upload, referrer push.
    assert_eq!(
        statuses,
        [200, 201, 202, 202, 201, 201, 200, 206, 200, 201, 201]
    );
}

/// The ECR API seed must pass its signature check and reach the layer upload operations.
#[test]
fn ecr_api_seed_reaches_every_step() {
    let seed = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/seeds/router/ecr-api-layers-and-images");
    let statuses: Vec<u16> =
        harness::send_requests(&std::fs::read(seed).expect("the ECR API seed"))
            .into_iter()
            .map(|status| status.as_u16())
            .collect();
    assert_eq!(statuses, [200; 10]);
}
