//! Tests of the pure engine and the CLI, with no AWS: the real corpus, the sample events, properties, the binary.

// Tests panic on purpose: an unwrap failing is a test failing.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
mod corpus;
mod events;
// The fuzz targets' properties: the same checks run here on generated inputs (see fuzz/src/lib.rs).
#[path = "../../fuzz/src/lib.rs"]
mod fuzz_checks;
mod generator;
mod layout;
mod paste_forms;
mod properties;
mod remediate_mocks;
mod routes;
mod snapshots;
// The benchmark's generator: its own tests (ground truth, realistic lines) run here, with the engine's.
#[allow(dead_code)]
#[path = "../../benches/support/synth.rs"]
mod synth;
mod template;

use std::path::{Path, PathBuf};

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}
