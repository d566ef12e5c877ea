//! The swissmetro study against Biogeme's published estimates.

mod common;

use choicelab_studies::{Metric, RunOptions};

#[test]
fn reproduces_biogeme_example_01() {
    let Some(data) = common::data_from_env("the swissmetro golden test") else {
        return;
    };
    let report = common::run("swissmetro", &RunOptions::default().with_data(data));
    let number = |name: &str| common::number(&report, name);
    assert_eq!(number("n_obs"), 6768.0);
    assert!((number("loglik") + 5331.252).abs() < 1e-3);
    for (name, golden) in [
        ("asc_car", -0.154633),
        ("asc_train", -0.701188),
        ("b_time", -1.27786),
        ("b_cost", -1.08379),
    ] {
        assert!((number(name) - golden).abs() < 5e-6, "{name}");
        assert!(number(&format!("{name}.se")) > 0.0);
    }
    assert_eq!(report.metrics["verdict"], Metric::Text("reproduced".into()));
}
