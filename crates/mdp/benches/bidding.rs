//! The budget-constrained bidding value table V(n, b), N = 1,000, on a price law shaped like an
//! iPinYou campaign's (prices 0..=300), at the budgets of c₀ = 1/32 and 1/8 for a CPM near 63
//! (campaign 2997: B = 1,969 and 7,877). The full c₀ = 1/2 table (B = 31,508) is timed against
//! numpy by `bench/compare_rtb_dp.py`.
//!
//! `cargo bench -p choicelab-mdp --bench bidding` (add `-- --quick` for a fast pass).

use std::time::Duration;

use choicelab_mdp::bidding::{BidLandscape, BiddingDp};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};

fn table(c: &mut Criterion) {
    let counts: Vec<u64> = (0..=300u64)
        .map(|p| 1000 * p / (1 + (p as i64 - 60).unsigned_abs()) / 4 + (300 - p) / 10)
        .collect();
    let landscape = BidLandscape::from_counts(&counts, 1.0).expect("valid counts");
    let mut group = c.benchmark_group("bidding");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    for budget in [1969usize, 7877] {
        let dp = BiddingDp::clicks(1000, budget, 0.004436);
        group.bench_function(BenchmarkId::new("value_table", budget), |b| {
            b.iter(|| dp.solve(&landscape).expect("solvable"))
        });
    }
    group.finish();
}

criterion_group!(benches, table);
criterion_main!(benches);
