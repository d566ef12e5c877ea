//! Criterion benchmarks of the utility fits' hot paths: Bradley–Terry by Newton-CG and by dense
//! Newton, and the Thurstonian L-BFGS fit.

use choicelab_choice::{BradleyTerry, Solver, Thurstonian};
use choicelab_core::{Comparisons, Items, Outcome};
use criterion::{criterion_group, criterion_main, Criterion};
use rand::RngExt;

/// Seeded comparisons among `n` items with planted utilities.
fn comparisons(n: u32, m: usize, soft: bool) -> Comparisons {
    let mut rng = choicelab_core::rng(2024);
    let mut uniform = || rng.random::<f64>();
    let theta: Vec<f64> = (0..n).map(|_| 4.0 * uniform() - 2.0).collect();
    let mut data = Comparisons::new(Items::numbered(n as usize));
    for _ in 0..m {
        let a = (uniform() * f64::from(n)) as u32 % n;
        let b = (a + 1 + (uniform() * f64::from(n - 1)) as u32 % (n - 1)) % n;
        let p = 1.0 / (1.0 + (theta[b as usize] - theta[a as usize]).exp());
        let outcome = if soft {
            Outcome::Probability((p * 10.0).round() / 10.0)
        } else if uniform() < p {
            Outcome::First
        } else {
            Outcome::Second
        };
        data.push(a, b, outcome, 1.0).expect("valid comparison");
    }
    data
}

fn bench_fits(c: &mut Criterion) {
    let mut group = c.benchmark_group("utility_fits");
    group.sample_size(10);
    let many = comparisons(5_000, 200_000, false);
    let cg = BradleyTerry {
        alpha: 1e-6,
        solver: Solver::ConjugateGradient,
        ..BradleyTerry::default()
    };
    group.bench_function("bradley_terry_newton_cg_5k_items_200k", |b| {
        b.iter(|| cg.fit(&many).expect("fit"))
    });
    let few = comparisons(300, 30_000, false);
    let dense = BradleyTerry {
        solver: Solver::Dense,
        ..cg.clone()
    };
    group.bench_function("bradley_terry_dense_300_items_30k", |b| {
        b.iter(|| dense.fit(&few).expect("fit"))
    });
    let soft = comparisons(510, 9_170, true);
    group.bench_function("thurstonian_lbfgs_510_items_9170", |b| {
        b.iter(|| Thurstonian::default().fit(&soft).expect("fit"))
    });
    group.finish();
}

criterion_group!(benches, bench_fits);
criterion_main!(benches);
