//! The swissmetro study against Biogeme's published estimates.

use choicelab_core::data::{DataDir, DataOrigin};
use choicelab_studies::{find, Metric, NoProgress, RunOptions};

#[test]
fn reproduces_biogeme_example_01() {
    let Some(dir) = std::env::var_os("CHOICELAB_DATA") else {
        eprintln!("CHOICELAB_DATA unset: the swissmetro golden test is skipped");
        return;
    };
    let options = RunOptions {
        data: Some(DataDir::new(dir.into(), DataOrigin::Environment)),
        ..RunOptions::default()
    };
    let report = find("swissmetro")
        .unwrap()
        .run(&options, &mut NoProgress)
        .unwrap();
    let number = |name: &str| match report.metrics.get(name) {
        Some(Metric::Number(x)) => *x,
        other => panic!("{name}: {other:?}"),
    };
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
