//! Steps per second of the classic-control worlds.
//!
//! `cargo bench -p choicelab-envs --bench classic_control` (add `-- --quick` for a fast pass).
//! Each iteration runs 1,000 steps of one world behind its `TimeLimit` (as `make` builds it)
//! with actions drawn beforehand from its action space, resetting when an episode ends;
//! throughput is in steps.

use std::hint::black_box;
use std::time::Duration;

use choicelab_core::env::{Action, Env};
use choicelab_envs::classic_control::{make, WORLDS};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

const STEPS: usize = 1_000;
const SEED: u64 = 0;

fn steps(c: &mut Criterion) {
    let mut group = c.benchmark_group("classic_control");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .throughput(Throughput::Elements(STEPS as u64));
    for (world, _) in WORLDS {
        let mut env = make(world).expect("a registered world");
        let mut rng = choicelab_core::rng(SEED);
        let actions: Vec<Action> = (0..STEPS)
            .map(|_| env.action_space().sample(&mut rng))
            .collect();
        env.reset(Some(SEED));
        group.bench_function(BenchmarkId::new("step", world), |b| {
            b.iter(|| {
                let mut total = 0.0;
                for action in &actions {
                    let step = env.step(black_box(action)).expect("a valid action");
                    total += step.reward;
                    if step.done() {
                        env.reset(None);
                    }
                }
                black_box(total)
            })
        });
    }
    group.finish();
}

criterion_group!(benches, steps);
criterion_main!(benches);
