//! The rtb study against the published campaign 2997 table (Cai et al.'s reference run).

mod common;

use choicelab_studies::RunOptions;

#[test]
fn reproduces_the_published_2997_rows_exactly() {
    let Some(data) = common::data_from_env("the rtb golden test") else {
        return;
    };
    let report = common::run("rtb", &RunOptions::quick(&[]).with_data(data));
    let number = |name: &str| common::number(&report, name);
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
