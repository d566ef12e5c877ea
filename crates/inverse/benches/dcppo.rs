//! Criterion benchmarks of DCPPO's stages on the `dcppo` study's world
//! (`WorldDesign::default()`: 60 states, 6 actions, d = 30, H = 4) with 1,000 logged episodes.

use choicelab_inverse::dcppo::{
    estimate_q, pessimistic_plan, recover_reward, LinearDdcWorld, Pessimism, WorldDesign,
};
use criterion::{criterion_group, criterion_main, Criterion};

fn bench_dcppo(c: &mut Criterion) {
    let world = LinearDdcWorld::generate(&WorldDesign::default(), 0).expect("world");
    let episodes = world.simulate(1_000, 1);
    let features = &world.features;
    let q = estimate_q(features, &episodes, 1e-3).expect("stage 1");
    let weights = recover_reward(features, &episodes, &q, 1e-3).expect("stage 2");
    let pessimism = Pessimism {
        beta: 1.0,
        ridge: 1e-3,
    };
    let mut group = c.benchmark_group("dcppo");
    group.bench_function("stage1_logit_1000_episodes", |b| {
        b.iter(|| estimate_q(features, &episodes, 1e-3).expect("stage 1"))
    });
    group.bench_function("stage2_reward_1000_episodes", |b| {
        b.iter(|| recover_reward(features, &episodes, &q, 1e-3).expect("stage 2"))
    });
    group.bench_function("stage3_pevi_1000_episodes", |b| {
        b.iter(|| pessimistic_plan(features, &episodes, &weights, pessimism).expect("stage 3"))
    });
    group.finish();
}

criterion_group!(benches, bench_dcppo);
criterion_main!(benches);
