//! Criterion benchmarks of the conjoint hot paths on a presidential-sized design (7 factors,
//! 486 × 486 profile pairs once party is fixed per side): Q(π_A, π_B) with both gradients, and
//! one penalised equilibrium solve by mirror-prox.

use choicelab_choice::conjoint::{
    Contest, ContestSettings, Design, Electorate, EquilibriumSolver, Factor, OutcomeModel, Player,
    Segment, Side, Terms,
};
use criterion::{criterion_group, criterion_main, Criterion};
use rand::RngExt;

/// Party, gender and five three-level factors; three segments with seeded random main effects
/// (sd ≈ 0.6), interactions (sd ≈ 0.15) and a partisan party effect.
fn contest() -> Contest {
    let three = ["a", "b", "c"];
    let mut factors = vec![
        Factor::uniform("party", &["D", "R"]),
        Factor::uniform("gender", &["man", "woman"]),
    ];
    for name in ["age", "experience", "taxes", "immigration", "healthcare"] {
        factors.push(Factor::uniform(name, &three));
    }
    let design = Design::new(factors).expect("a valid design");
    let terms = Terms::new(&design, true);
    let mut rng = choicelab_core::rng(8);
    let segments = [("R", 0.33, 1.0), ("D", 0.36, -1.0), ("I", 0.31, 0.0)]
        .iter()
        .map(|&(name, share, party)| {
            let mut model = OutcomeModel::from_terms(&design, true, &[]).expect("no terms");
            for (j, beta) in model.coefficients.iter_mut().enumerate() {
                let scale = if j < 12 { 1.2 } else { 0.3 };
                *beta = scale * (rng.random::<f64>() - 0.5);
            }
            model.coefficients[terms.index(&design, "party=R").expect("a term")] = party;
            Segment {
                name: name.into(),
                share,
                model,
            }
        })
        .collect();
    let electorate = Electorate::new(segments).expect("valid shares");
    let a = Side::free(&design)
        .fix(&design, "party", "R")
        .expect("a level");
    let b = Side::free(&design)
        .fix(&design, "party", "D")
        .expect("a level");
    Contest::new(&design, &electorate, a, b, ContestSettings::default()).expect("a contest")
}

fn bench_conjoint(c: &mut Criterion) {
    let contest = contest();
    let (a, b) = (
        contest.design_policy(Player::A),
        contest.design_policy(Player::B),
    );
    let mut group = c.benchmark_group("conjoint");
    group.sample_size(10);
    group.bench_function("value_and_gradient_486x486", |bench| {
        bench.iter(|| contest.value_and_gradient(&a, &b))
    });
    let solver = EquilibriumSolver {
        lambda: 0.01,
        step: 50.0,
        ..EquilibriumSolver::default()
    };
    group.bench_function("equilibrium_kl_0.01_486x486", |bench| {
        bench.iter(|| solver.solve(&contest).expect("solved"))
    });
    group.finish();
}

criterion_group!(benches, bench_conjoint);
criterion_main!(benches);
