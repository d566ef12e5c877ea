//! The dcppo study: the same numbers at any thread count, and a clear error for bad sizes.

use choicelab_studies::{find, ConfigSources, NoProgress, RunOptions};

fn options(overrides: &[&str]) -> RunOptions {
    RunOptions {
        config: ConfigSources {
            quick: true,
            overrides: overrides.iter().map(|s| s.to_string()).collect(),
            ..ConfigSources::default()
        },
        data: None,
    }
}

fn metrics_at(threads: usize) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a pool");
    let options = options(&["sizes=[30, 100]", "worlds=3"]);
    let report = pool
        .install(|| find("dcppo").unwrap().run(&options, &mut NoProgress))
        .expect("runs");
    report.metrics_json()
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    assert_eq!(metrics_at(1), metrics_at(3));
}

#[test]
fn empty_sizes_are_an_error() {
    let error = find("dcppo")
        .unwrap()
        .run(&options(&["sizes=[]"]), &mut NoProgress)
        .unwrap_err()
        .to_string();
    assert!(error.contains("sizes"), "{error}");
}
