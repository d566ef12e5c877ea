//! The conjoint-adversarial study on a tiny configuration: the headline metrics exist, the
//! numbers do not depend on the thread count, and bad sizes are a clear error.

mod common;

use choicelab_studies::{find, Metric, NoProgress, RunOptions};

const TINY: [&str; 5] = [
    "sizes=[400, 1200]",
    "bootstrap=2",
    "folds=2",
    "lambdas=[0.03, 0.3]",
    "game_iterations=400",
];

fn metrics_at(threads: usize) -> String {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a pool");
    let report = pool.install(|| common::run("conjoint-adversarial", &RunOptions::quick(&TINY)));
    for key in [
        "single.vote_share",
        "adversarial.vote_share_a",
        "adversarial.exploitability",
    ] {
        assert!(
            matches!(report.metrics.get(key), Some(Metric::Number(x)) if x.is_finite()),
            "{key}"
        );
    }
    assert!(matches!(
        report.metrics.get("verdict"),
        Some(Metric::Text(_))
    ));
    report.metrics_json()
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    assert_eq!(metrics_at(1), metrics_at(2));
}

#[test]
fn decreasing_sizes_are_an_error() {
    let error = find("conjoint-adversarial")
        .unwrap()
        .run(&RunOptions::quick(&["sizes=[2000, 1000]"]), &mut NoProgress)
        .unwrap_err()
        .to_string();
    assert!(error.contains("sizes"), "{error}");
}
