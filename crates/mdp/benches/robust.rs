//! Robust Bellman sweeps on a seeded random sparse MDP (S = 10,000, A = 4, K = 10): an L1
//! ball, a KL ball and a set of 5 models.
//!
//! `cargo bench -p choicelab-mdp --bench robust` (add `-- --quick` for a fast pass). Throughput
//! is reported in transition entries (S·A·K per sweep, per model for the set), so the numbers
//! compare with the nominal sweeps of the `bellman` bench.

use std::hint::black_box;
use std::time::Duration;

use choicelab_core::{random_sparse_mdp, TabularMdp};
use choicelab_mdp::bellman::bellman_sweep;
use choicelab_mdp::robust::robust_sweep;
use choicelab_mdp::Nature;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const STATES: usize = 10_000;
const ACTIONS: usize = 4;
const SUCCESSORS: usize = 10;
const GAMMA: f64 = 0.99;
const SEED: u64 = 0;
const MODELS: u64 = 5;

/// The MDP and values after a few nominal sweeps from zero, so the backups see realistic,
/// distinct values rather than all zeros.
fn setup() -> (TabularMdp, Vec<f64>) {
    let mdp = random_sparse_mdp(STATES, ACTIONS, SUCCESSORS, SEED).expect("valid parameters");
    let mut v = vec![0.0; STATES];
    let mut scratch = vec![0.0; STATES];
    let mut policy = vec![0; STATES];
    for _ in 0..5 {
        bellman_sweep(&mdp, GAMMA, &v, &mut scratch, &mut policy);
        std::mem::swap(&mut v, &mut scratch);
    }
    (mdp, v)
}

fn sweeps(c: &mut Criterion) {
    let (mdp, v) = setup();
    let entries = mdp.nnz() as u64;
    let models = (0..MODELS)
        .map(|seed| random_sparse_mdp(STATES, ACTIONS, SUCCESSORS, SEED + seed))
        .collect::<Result<Vec<_>, _>>()
        .expect("valid parameters");
    let natures = [
        ("l1", Nature::L1 { radius: 0.2 }, entries),
        ("kl", Nature::Kl { radius: 0.05 }, entries),
        ("models_5", Nature::Models(models), entries * MODELS),
    ];
    let mut group = c.benchmark_group("robust");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    let mut v_out = vec![0.0; STATES];
    let mut policy = vec![0; STATES];
    for (name, nature, work) in &natures {
        group.throughput(Throughput::Elements(*work));
        group.bench_function(BenchmarkId::new(*name, STATES), |b| {
            b.iter(|| {
                let change =
                    robust_sweep(&mdp, GAMMA, nature, black_box(&v), &mut v_out, &mut policy)
                        .expect("a valid nature");
                black_box(change.sup_norm())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, sweeps);
criterion_main!(benches);
