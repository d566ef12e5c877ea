//! The reservoir-ei study: the same numbers at any thread count, the required metrics, and
//! clear errors for bad configurations.

mod common;

use choicelab_studies::{find, NoProgress, RunOptions};

/// A tiny grid: two balances, one input scaling, one target mean, short series.
const TINY: [&str; 8] = [
    "seeds=1",
    "balances=[0.5, 1.5]",
    "target_means=[0.35]",
    "adaptation_steps=[200, 200]",
    "narma=[400, 200, 50]",
    "mackey_glass=[500, 5]",
    "anchor_seeds=0",
    "input_scalings=[0.3]",
];

fn metrics_at(threads: usize) -> String {
    common::metrics_at("reservoir-ei", &RunOptions::quick(&TINY), threads)
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let one = metrics_at(1);
    assert_eq!(one, metrics_at(3));
    let metrics: serde_json::Value = serde_json::from_str(&one).unwrap();
    for key in [
        "mc.global_best",
        "mc.adaptive",
        "mc.adaptive_hetero",
        "narma10.global_best_nrmse",
        "narma10.adaptive_nrmse",
        "mg.adaptive_nrmse",
        "mc.best_balance",
    ] {
        assert!(
            metrics[key].as_f64().is_some_and(f64::is_finite),
            "{key}: {}",
            metrics[key]
        );
    }
    assert!(metrics["verdict"].is_string());
}

#[test]
fn bad_configurations_are_errors() {
    let run = |set: &[&str]| {
        find("reservoir-ei")
            .unwrap()
            .run(&RunOptions::quick(set), &mut NoProgress)
            .unwrap_err()
            .to_string()
    };
    assert!(run(&["target_means=[1.2]"]).contains("range (0, 1)"));
    assert!(run(&["units=100"]).contains("k_inhibitory"));
    assert!(run(&["balances=[]"]).contains("balances"));
}
