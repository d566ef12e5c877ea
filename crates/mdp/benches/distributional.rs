//! One stock-augmented distributional Bellman sweep at the size of the full `distributional-dp`
//! study's cliff (48 states, 4 actions, 141 atoms, 281 stocks), on a seeded random MDP with 4
//! successors per action and the CVaR utility.
//!
//! `cargo bench -p choicelab-mdp --bench distributional` (add `-- --quick` for a fast pass).
//! Throughput counts (state, stock, action, successor, atom) terms.

use std::time::Duration;

use choicelab_core::{random_sparse_mdp, TabularMdp};
use choicelab_mdp::distributional::{Atoms, Objective, StockAugmented, StockGrid};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const STATES: usize = 48;
const ACTIONS: usize = 4;
const SUCCESSORS: usize = 4;
const ATOMS: usize = 141;
const STOCKS: usize = 281;

/// The random MDP with rewards r(s,a) in [0, 1) on every successor, or rounded to the
/// integers −3..=3 (the study's lattice case, where a backup is a shift of whole atoms).
fn world(integer: bool) -> TabularMdp {
    let mdp = random_sparse_mdp(STATES, ACTIONS, SUCCESSORS, 0).expect("valid parameters");
    let mut entries = Vec::new();
    for s in 0..STATES {
        for a in 0..ACTIONS {
            let r = mdp.reward(s, a);
            let r = if integer { (r * 7.0).floor() - 3.0 } else { r };
            let (next, prob) = mdp.transitions(s, a);
            for (&n, &p) in next.iter().zip(prob) {
                entries.push((s, a, n as usize, p, r));
            }
        }
    }
    TabularMdp::from_entries(STATES, ACTIONS, &entries).expect("valid entries")
}

fn sweep(c: &mut Criterion) {
    let stock = StockGrid::new(-140.0, 140.0, 1.0).expect("valid grid");
    assert_eq!(stock.len(), STOCKS);
    let mut group = c.benchmark_group("distributional");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(
        (STATES * STOCKS * ACTIONS * SUCCESSORS * ATOMS) as u64,
    ));
    for (name, integer) in [("lattice", true), ("projected", false)] {
        let mdp = world(integer);
        let atoms = Atoms::new(-70.0, 70.0, ATOMS).expect("valid atoms");
        // One stage of backward induction is exactly one greedy sweep over every (state, stock).
        let planner = StockAugmented::new(
            1.0,
            Some(1),
            atoms,
            stock.clone(),
            Objective::Cvar { alpha: 0.1 },
        );
        group.bench_function(BenchmarkId::new("augmented_sweep", name), |b| {
            b.iter(|| planner.solve(&mdp).expect("solvable"))
        });
    }
    group.finish();
}

criterion_group!(benches, sweep);
criterion_main!(benches);
