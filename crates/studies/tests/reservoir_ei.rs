//! The reservoir-ei study: the same numbers at any thread count, the required metrics, and
//! clear errors for bad configurations.

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
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .expect("a pool");
    let report = pool
        .install(|| {
            find("reservoir-ei")
                .unwrap()
                .run(&options(&TINY), &mut NoProgress)
        })
        .expect("runs");
    report.metrics_json()
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
            .run(&options(set), &mut NoProgress)
            .unwrap_err()
            .to_string()
    };
    assert!(run(&["target_means=[1.2]"]).contains("range (0, 1)"));
    assert!(run(&["units=100"]).contains("k_inhibitory"));
    assert!(run(&["balances=[]"]).contains("balances"));
}
