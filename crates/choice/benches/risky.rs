//! Criterion benchmarks of risky choice on a choices13k-sized synthetic data set (14,568
//! problems: A with two outcomes, B with one to nine): the CPT log-likelihood with its
//! analytic gradient, and one full CPT fit (three starts, standard errors included).

use choicelab_choice::risky::{Lottery, Problem, RiskyChoice, RiskyData, RiskyModel, Weighting};
use choicelab_choice::FitSettings;
use choicelab_core::logistic::sigmoid;
use choicelab_core::Rng;
use criterion::{criterion_group, criterion_main, Criterion};
use rand::RngExt;

/// Problems shaped like choices13k's, with 15–33 trials each and shares drawn from a planted
/// CPT (α = 0.8, λ = 0.9, γ = 0.75, φ = 0.26, close to its fit on choices13k). As in
/// choices13k, probabilities lie on a grid (multiples of 0.05 for A, 0.01 for B) and outcomes
/// are whole numbers, so cumulative probabilities and magnitudes repeat across problems.
fn problems(count: usize) -> (RiskyModel, Vec<f64>, RiskyData) {
    let mut rng = choicelab_core::rng(13);
    let model = RiskyModel::cpt(Weighting::Prelec);
    let truth = vec![0.8, 0.9, 0.75, 0.26];
    let outcome = |rng: &mut Rng| (rng.random::<f64>() * 150.0 - 50.0).round();
    let choices = (0..count)
        .map(|_| {
            let p = f64::from(rng.random_range(1..=20)) / 20.0;
            let a =
                Lottery::new(vec![(p, outcome(&mut rng)), (1.0 - p, outcome(&mut rng))]).unwrap();
            let k = rng.random_range(1..=9);
            let mut cuts: Vec<u32> = (0..k - 1).map(|_| rng.random_range(1..100)).collect();
            cuts.extend([0, 100]);
            cuts.sort_unstable();
            let b = Lottery::new(
                cuts.windows(2)
                    .map(|w| (f64::from(w[1] - w[0]) / 100.0, outcome(&mut rng)))
                    .collect(),
            )
            .unwrap();
            let problem = Problem { a, b };
            let diff = model.utility(&problem.b, &truth).unwrap()
                - model.utility(&problem.a, &truth).unwrap();
            let n = rng.random_range(15..=33);
            let chosen = (0..n)
                .filter(|_| rng.random::<f64>() < sigmoid(truth[3] * diff))
                .count();
            RiskyChoice::new(problem, f64::from(n), chosen as f64 / f64::from(n)).unwrap()
        })
        .collect();
    (model, truth, RiskyData::new(choices).unwrap())
}

fn bench_risky(c: &mut Criterion) {
    let mut group = c.benchmark_group("risky_choice");
    group.sample_size(10);
    let (model, truth, data) = problems(14_568);
    group.bench_function("cpt_prelec_loglik_gradient_14568_problems", |b| {
        b.iter(|| model.loglik(&data, &truth).expect("loglik"))
    });
    let tk = RiskyModel::cpt(Weighting::TverskyKahneman);
    group.bench_function("cpt_tk_loglik_gradient_14568_problems", |b| {
        b.iter(|| tk.loglik(&data, &truth).expect("loglik"))
    });
    group.bench_function("cpt_prelec_fit_14568_problems", |b| {
        b.iter(|| model.fit(&data, &FitSettings::default()).expect("fit"))
    });
    group.finish();
}

criterion_group!(benches, bench_risky);
criterion_main!(benches);
