//! The intertemporal-choice study's quick form: planted discounting parameters recovered.

mod common;

use choicelab_studies::{Metric, RunOptions};

#[test]
fn recovers_planted_discounting_parameters() {
    let report = common::run("intertemporal-choice", &RunOptions::quick(&[]));
    let number = |name: &str| common::number(&report, name);
    for (key, planted) in [
        ("exponential.delta", 0.995),
        ("hyperbolic.k", 0.02),
        ("quasi_hyperbolic.beta", 0.8),
        ("quasi_hyperbolic.delta", 0.998),
    ] {
        assert_eq!(number(&format!("{key}.planted")), planted);
        assert!(
            (number(key) - planted).abs() < 4.0 * number(&format!("{key}.se")),
            "{key}"
        );
        assert!(number(&format!("{key}.error_slope")) < -0.3, "{key}");
    }
    assert_eq!(number("identification.correct"), 3.0);
    assert_eq!(
        report.metrics["verdict"],
        Metric::Text("reproduced".into()),
        "{:?}",
        report.notes
    );
}
