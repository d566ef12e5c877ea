//! The rtb study against the published campaign 2997 table (Cai et al.'s reference run).

use choicelab_core::data::{DataDir, DataOrigin};
use choicelab_studies::config::ConfigSources;
use choicelab_studies::{find, Metric, NoProgress, RunOptions};

#[test]
fn reproduces_the_published_2997_rows_exactly() {
    let Some(dir) = std::env::var_os("CHOICELAB_DATA") else {
        eprintln!("CHOICELAB_DATA unset: the rtb golden test is skipped");
        return;
    };
    let options = RunOptions {
        config: ConfigSources {
            quick: true,
            ..ConfigSources::default()
        },
        data: Some(DataDir::new(dir.into(), DataOrigin::Environment)),
    };
    let report = find("rtb").unwrap().run(&options, &mut NoProgress).unwrap();
    let number = |name: &str| match report.metrics.get(name) {
        Some(Metric::Number(x)) => *x,
        other => panic!("{name}: {other:?}"),
    };
    // ipinyou_N=1000_c0=0.03125_obj=clk_clkvp=1.txt, campaign 2997 (han-cai/rlb-dp).
    for (policy, clicks, impressions, cost) in [
        ("ssmdp", 80.0, 40395.0, 306637.0),
        ("mcpc", 48.0, 14752.0, 307751.0),
        ("linbid", 71.0, 32208.0, 203610.0),
        ("rlb", 78.0, 39680.0, 304375.0),
    ] {
        assert_eq!(
            number(&format!("c2997.{policy}.c32.clicks")),
            clicks,
            "{policy}"
        );
        assert_eq!(
            number(&format!("c2997.{policy}.c32.impressions")),
            impressions,
            "{policy}"
        );
        assert_eq!(
            number(&format!("c2997.{policy}.c32.cost")),
            cost,
            "{policy}"
        );
    }
    assert_eq!(number("c2997.c32.budget"), 1969.0);
    assert_eq!(number("c2997.c32.rows_exact"), 4.0);
}
