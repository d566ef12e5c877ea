//! TD3+BC gradient steps with CORL's sizes (batch 256, 256×256 actor and critics).
//!
//! `cargo bench -p choicelab-nn --bench td3bc` (add `-- --quick` for a fast pass). Three
//! shapes: hopper (17 observation, 6 action dimensions) and Pendulum (3 and 1), and Pendulum
//! with the studies' 64×64 networks. One element of throughput is one gradient step (the
//! actor moves every second step, as in CORL).

use std::hint::black_box;
use std::time::Duration;

use choicelab_core::episodes::{TransitionActions, Transitions};
use choicelab_core::rng;
use choicelab_nn::{Td3BcLearner, Td3BcParams};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use rand::RngExt;

/// Seeded synthetic transitions of the given widths.
fn synthetic(n: usize, obs_dim: usize, action_dim: usize) -> Transitions {
    let mut r = rng(0);
    let mut u = |scale: f32| (r.random::<f32>() * 2.0 - 1.0) * scale;
    let observations = (0..n * obs_dim).map(|_| u(3.0)).collect();
    let next_observations = (0..n * obs_dim).map(|_| u(3.0)).collect();
    let values = (0..n * action_dim).map(|_| u(1.0)).collect();
    let rewards = (0..n).map(|_| u(1.0)).collect();
    Transitions::new(
        obs_dim,
        observations,
        TransitionActions::Continuous {
            dim: action_dim,
            values,
        },
        rewards,
        next_observations,
        (0..n).map(|i| i % 200 == 199).collect(),
        vec![false; n],
    )
    .expect("synthetic data are valid")
}

fn gradient_steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("td3bc");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(5));
    let shapes = [
        ("hopper-17x6", 17, 6, 256),
        ("pendulum-3x1", 3, 1, 256),
        ("pendulum-3x1-64x64", 3, 1, 64),
    ];
    for (name, obs_dim, action_dim, width) in shapes {
        let data = synthetic(20_000, obs_dim, action_dim);
        let params = Td3BcParams {
            hidden: vec![width, width],
            ..Td3BcParams::default()
        };
        let mut learner = Td3BcLearner::new(params, &data).expect("valid parameters");
        group.throughput(Throughput::Elements(2));
        group.bench_function(BenchmarkId::new("two_gradient_steps", name), |b| {
            b.iter(|| {
                black_box(learner.train_step().expect("step"));
                black_box(learner.train_step().expect("step"));
            })
        });
    }
    group.finish();
}

criterion_group!(benches, gradient_steps);
criterion_main!(benches);
