//! Criterion benchmarks of dynamic discrete choice: NFXP and CCP/NPL on a simulated fleet the
//! size of Rust's group 4 (37 buses × 117 months, 90 states, β = 0.9999).

use choicelab_inverse::ddc::{simulate_fleet, Ccp, CostShape, Nfxp, ZurcherModel};
use criterion::{criterion_group, criterion_main, Criterion};

fn bench_ddc(c: &mut Criterion) {
    let model = ZurcherModel {
        n_states: 90,
        beta: 0.9999,
        increments: vec![0.3919, 0.5953, 0.0128],
        cost: CostShape::Linear,
        scale: 1e-3,
    };
    let panel = simulate_fleet(&model, 10.075, &[2.293], 37, 117, 1).expect("simulated fleet");
    let mut group = c.benchmark_group("ddc");
    group.bench_function("nfxp_37_buses_90_states_beta_9999", |b| {
        b.iter(|| Nfxp::default().fit(&panel).expect("fit"))
    });
    let npl = Ccp {
        npl_iterations: 20,
        ..Ccp::default()
    };
    group.bench_function("npl20_37_buses_90_states_beta_9999", |b| {
        b.iter(|| npl.fit(&panel).expect("fit"))
    });
    group.finish();
}

criterion_group!(benches, bench_ddc);
criterion_main!(benches);
