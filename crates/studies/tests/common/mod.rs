//! What the study tests share: the data folder from the environment, running a study, and
//! reading its numbers.

// Each test binary uses only some of these.
#![allow(dead_code)]

use choicelab_agents::{find_model, SMOLLM2};
use choicelab_core::data::{DataDir, DataOrigin};
use choicelab_studies::{find, NoProgress, Report, RunOptions};

/// The data folder `CHOICELAB_DATA` names, or `None` with a note that `test` is skipped.
pub fn data_from_env(test: &str) -> Option<DataDir> {
    let Some(dir) = std::env::var_os("CHOICELAB_DATA") else {
        eprintln!("CHOICELAB_DATA unset: {test} is skipped");
        return None;
    };
    Some(DataDir::new(dir.into(), DataOrigin::Environment))
}

/// Runs `study` with `options`, panicking with the error if it fails.
pub fn run(study: &str, options: &RunOptions) -> Report {
    find(study)
        .and_then(|s| s.run(options, &mut NoProgress))
        .unwrap_or_else(|e| panic!("{study}: {e}"))
}

/// Runs `study` on a rayon pool of `threads` threads and returns its metrics.json.
pub fn metrics_at(study: &str, options: &RunOptions, threads: usize) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a pool");
    pool.install(|| run(study, options)).metrics_json()
}

/// The numeric metric `name` of `report`, panicking with what is there instead.
pub fn number(report: &Report, name: &str) -> f64 {
    report
        .number_of(name)
        .unwrap_or_else(|| panic!("{name}: {:?}", report.metrics.get(name)))
}

/// Whether SmolLM2 is in the models folder; when it is not, says the test is skipped, or
/// fails where `CHOICELAB_REQUIRE_MODELS` is set (CI sets it after fetching the model).
pub fn local_model_present() -> bool {
    if find_model(&SMOLLM2, None).is_some() {
        return true;
    }
    assert!(
        std::env::var_os("CHOICELAB_REQUIRE_MODELS").is_none(),
        "CHOICELAB_REQUIRE_MODELS is set but {} is not in the models folder",
        SMOLLM2.file
    );
    eprintln!(
        "skipped: {} not found (choicelab model fetch smollm2)",
        SMOLLM2.file
    );
    false
}
