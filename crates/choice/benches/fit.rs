//! Criterion benchmarks of the utility fits' hot paths: Bradley–Terry by Newton-CG and by dense
//! Newton, the Thurstonian L-BFGS fit, and the conditional logit's Newton fit.

use choicelab_choice::{BradleyTerry, ConditionalLogit, LogitSpec, Solver, Thurstonian};
use choicelab_core::{Alternative, ChoiceSets, Comparisons, Items, Outcome};
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

/// Swissmetro-sized choice sets: `n` observations of three alternatives with time and cost,
/// choices drawn from a logit with ASCs (−0.7, 0, −0.15) and coefficients (−1.3, −1.1).
fn choice_sets(n: usize) -> ChoiceSets {
    let mut rng = choicelab_core::rng(7);
    let mut uniform = || rng.random::<f64>();
    let names = ["train", "sm", "car"];
    let asc = [-0.7, 0.0, -0.15];
    let mut sets = ChoiceSets::new(&["time", "cost"]);
    for i in 0..n {
        let values: Vec<[f64; 2]> = (0..3).map(|_| [2.0 * uniform(), 2.0 * uniform()]).collect();
        let weights: Vec<f64> = (0..3)
            .map(|j| (asc[j] - 1.3 * values[j][0] - 1.1 * values[j][1]).exp())
            .collect();
        let mut u = uniform() * weights.iter().sum::<f64>();
        let chosen = weights
            .iter()
            .position(|w| {
                u -= w;
                u < 0.0
            })
            .unwrap_or(2);
        let rows: Vec<Alternative<'_>> = (0..3)
            .map(|j| Alternative {
                name: names[j],
                available: true,
                chosen: j == chosen,
                values: &values[j],
            })
            .collect();
        sets.push(&i.to_string(), &rows).expect("valid observation");
    }
    sets
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
    let sets = choice_sets(6_768);
    let logit = ConditionalLogit::new(
        LogitSpec::new()
            .utility("train", &["ASC_TRAIN", "B_TIME * time", "B_COST * cost"])
            .utility("sm", &["B_TIME * time", "B_COST * cost"])
            .utility("car", &["ASC_CAR", "B_TIME * time", "B_COST * cost"]),
    );
    group.bench_function("conditional_logit_6768_obs_3_alternatives", |b| {
        b.iter(|| logit.fit(&sets).expect("fit"))
    });
    group.finish();
}

criterion_group!(benches, bench_fits);
criterion_main!(benches);
