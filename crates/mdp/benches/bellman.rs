//! Bellman sweeps on seeded random sparse MDPs (A = 4 actions, K = 10 successors).
//!
//! `cargo bench -p choicelab-mdp --bench bellman` (add `-- --quick` for a fast pass). Throughput
//! is reported in transition entries (S·A·K per sweep), so the numbers compare across sizes.

use std::hint::black_box;
use std::time::Duration;

use choicelab_core::{random_sparse_mdp, TabularMdp};
use choicelab_mdp::bellman::{bellman_sweep, gauss_seidel_sweep};
use choicelab_mdp::{Silent, SoftValueIteration, Stopping};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const ACTIONS: usize = 4;
const SUCCESSORS: usize = 10;
const GAMMA: f64 = 0.99;
const SEED: u64 = 0;
const SIZES: [usize; 2] = [10_000, 100_000];
/// Sweeps done by one soft value-iteration run.
const SOFT_SWEEPS: usize = 3;

/// The MDP of size `states` and values after a few sweeps from zero, so the backups see
/// realistic, distinct values rather than all zeros.
fn setup(states: usize) -> (TabularMdp, Vec<f64>) {
    let mdp = random_sparse_mdp(states, ACTIONS, SUCCESSORS, SEED).expect("valid parameters");
    let mut v = vec![0.0; states];
    let mut scratch = vec![0.0; states];
    let mut policy = vec![0; states];
    for _ in 0..5 {
        bellman_sweep(&mdp, GAMMA, &v, &mut scratch, &mut policy);
        std::mem::swap(&mut v, &mut scratch);
    }
    (mdp, v)
}

fn sweeps(c: &mut Criterion) {
    let mut group = c.benchmark_group("bellman");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    for states in SIZES {
        let (mdp, v) = setup(states);
        let entries = mdp.nnz() as u64;
        let mut v_out = vec![0.0; states];
        let mut policy = vec![0; states];

        group.throughput(Throughput::Elements(entries));
        group.bench_function(BenchmarkId::new("jacobi", states), |b| {
            b.iter(|| {
                let change = bellman_sweep(&mdp, GAMMA, black_box(&v), &mut v_out, &mut policy);
                black_box(change.sup_norm())
            })
        });

        // In place: each iteration continues from the previous one's values, which costs the
        // same as starting over.
        let mut v_gs = v.clone();
        group.bench_function(BenchmarkId::new("gauss_seidel", states), |b| {
            b.iter(|| {
                let change = gauss_seidel_sweep(&mdp, GAMMA, black_box(&mut v_gs), &mut policy);
                black_box(change.sup_norm())
            })
        });

        // A run cut off after SOFT_SWEEPS sweeps: it ends in NotConverged, before the final
        // Q-values and choice probabilities, so it times the sweeps alone (and two allocations).
        let soft = SoftValueIteration::new(GAMMA, 1.0);
        let stopping = Stopping {
            max_iterations: SOFT_SWEEPS,
            time_limit: None,
        };
        assert!(
            soft.solve_with(&mdp, &stopping, &mut Silent).is_err(),
            "soft value iteration converged in {SOFT_SWEEPS} sweeps; the bench would time more"
        );
        group.throughput(Throughput::Elements(entries * SOFT_SWEEPS as u64));
        group.bench_function(
            BenchmarkId::new(format!("soft_{SOFT_SWEEPS}_sweeps"), states),
            |b| {
                b.iter(|| {
                    let result = soft.solve_with(&mdp, &stopping, &mut Silent);
                    black_box(result.is_err())
                })
            },
        );
    }
    group.finish();
}

criterion_group!(benches, sweeps);
criterion_main!(benches);
