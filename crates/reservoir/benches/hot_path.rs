//! The hot path of reservoir computing: driving a 200-unit echo-state network through the
//! NARMA10 series (state update) and fitting its ridge readout (dense faer solve).
//!
//! `cargo bench -p choicelab-reservoir --bench hot_path` (add `-- --quick` for a fast pass).

use std::hint::black_box;

use choicelab_core::rng;
use choicelab_reservoir::{collect_states, EsnParams, Narma, Ridge, Series};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};

fn hot_path(c: &mut Criterion) {
    let params = EsnParams {
        units: 200,
        spectral_radius: 0.9,
        ..EsnParams::default()
    };
    let mut esn = params.build().expect("valid network");
    let (u, y) = Narma::Reservoirpy.generate(2_000, &mut rng(0));
    let inputs = Series::scalar(u);
    let targets = Series::scalar(y[100..].to_vec());
    let mut group = c.benchmark_group("esn200_narma10");
    group.sample_size(20);
    group.throughput(Throughput::Elements(inputs.len() as u64));
    group.bench_function("state_update", |b| {
        b.iter(|| {
            use choicelab_reservoir::Reservoir;
            esn.reset();
            black_box(collect_states(&mut esn, &inputs, 100).expect("runs"))
        })
    });
    let states = collect_states(&mut esn, &inputs, 100).expect("runs");
    let ridge = Ridge::new(1e-6).expect("valid penalty");
    group.bench_function("readout_fit", |b| {
        b.iter(|| black_box(ridge.fit(&states, &targets).expect("fits")))
    });
    group.bench_function("build", |b| {
        b.iter(|| black_box(params.build().expect("builds")))
    });
    group.finish();
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
