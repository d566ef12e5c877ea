//! The simulator's inner loop: DynLin-UCB (λ = 1) on the synthetic dynamical linear bandit
//! (σ = 0.01), one trial of 100,000 steps; throughput in steps.
//!
//! `cargo bench -p choicelab-bandit --bench inner_loop` (add `-- --quick` for a fast pass).

use std::hint::black_box;

use choicelab_bandit::{DynLinUcb, LinUcb, Simulation};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

#[path = "../tests/common/mod.rs"]
mod common;

const STEPS: u64 = 100_000;

fn inner_loop(c: &mut Criterion) {
    let arms = common::arms();
    let system = common::Diagonal::synthetic(0.01);
    let h = system.gain();
    let values: Vec<f64> = arms
        .iter()
        .map(|u| u.iter().zip(&h).map(|(u, h)| u * h).sum())
        .collect();
    let bounds = system.bounds();
    let simulation = Simulation::new(STEPS, 1, 1).expect("valid simulation");
    let mut group = c.benchmark_group("inner_loop");
    group.throughput(Throughput::Elements(STEPS));
    group.sample_size(10);
    group.bench_function("dynlin_ucb", |b| {
        b.iter(|| {
            let curve = simulation
                .run(
                    &arms,
                    &values,
                    || common::Diagonal::synthetic(0.01),
                    || DynLinUcb::new(&arms, &bounds, 1.0, (STEPS as f64).ln()).expect("valid"),
                )
                .expect("runs");
            black_box(curve.final_mean())
        })
    });
    group.bench_function("linucb", |b| {
        b.iter(|| {
            let curve = simulation
                .run(
                    &arms,
                    &values,
                    || common::Diagonal::synthetic(0.01),
                    || LinUcb::reference(&arms, 1.0, STEPS, 0.5, 0.01, 1.5).expect("valid"),
                )
                .expect("runs");
            black_box(curve.final_mean())
        })
    });
    group.finish();
}

criterion_group!(benches, inner_loop);
criterion_main!(benches);
