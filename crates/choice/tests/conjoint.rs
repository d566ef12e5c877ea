//! Conjoint policies: the penalty's limits, the equilibrium's exploitability, the outcome
//! model's symmetry and recovery, Q's gradient, and clear errors on bad input.

use choicelab_choice::conjoint::{
    amces, exploitability, ConjointData, Contest, ContestSettings, Design, Electorate,
    EquilibriumSolver, Factor, LogisticFit, OutcomeModel, Penalty, Player, Policy, PolicyOptimiser,
    Segment, Side, Simulation,
};
use choicelab_core::Location;

/// Three factors (2, 3 and 3 levels) with a non-uniform design on the last.
fn design() -> Design {
    Design::new(vec![
        Factor::uniform("party", &["D", "R"]),
        Factor::uniform("age", &["50", "65", "80"]),
        Factor::with_probabilities("tax", &["keep", "cut", "raise"], &[0.5, 0.25, 0.25]),
    ])
    .unwrap()
}

/// Two partisan segments and independents, with interactions.
fn electorate(design: &Design) -> Electorate {
    let segment = |name: &str, share: f64, terms: &[(&str, f64)]| Segment {
        name: name.into(),
        share,
        model: OutcomeModel::from_terms(design, true, terms).unwrap(),
    };
    Electorate::new(vec![
        segment(
            "R",
            0.3,
            &[
                ("party=R", 1.5),
                ("tax=cut", 0.8),
                ("tax=raise", -0.6),
                ("party=R & tax=raise", -0.5),
            ],
        ),
        segment(
            "D",
            0.4,
            &[
                ("party=R", -1.5),
                ("tax=cut", -0.5),
                ("tax=raise", 0.6),
                ("age=80", -0.3),
            ],
        ),
        segment(
            "I",
            0.3,
            &[
                ("age=80", -0.8),
                ("age=65", 0.2),
                ("tax=cut", 0.3),
                ("age=80 & tax=raise", 0.4),
            ],
        ),
    ])
    .unwrap()
}

fn party_contest(design: &Design, electorate: &Electorate) -> Contest {
    let a = Side::free(design).fix(design, "party", "R").unwrap();
    let b = Side::free(design).fix(design, "party", "D").unwrap();
    Contest::new(design, electorate, a, b, ContestSettings::default()).unwrap()
}

#[test]
fn a_large_penalty_returns_the_design_distribution() {
    let design = design();
    let contest = party_contest(&design, &electorate(&design));
    let opponent = contest.design_policy(Player::B);
    for (penalty, lambda) in [(Penalty::Kl, 1e7), (Penalty::L2, 1e7)] {
        let optimum = PolicyOptimiser {
            penalty,
            lambda,
            ..PolicyOptimiser::default()
        }
        .optimise(&contest, Player::A, &opponent, &[])
        .unwrap();
        let prior = contest.design_policy(Player::A);
        for (m, p) in optimum.policy.marginals.iter().zip(&prior.marginals) {
            for (x, q) in m.iter().zip(p) {
                assert!((x - q).abs() < 1e-6, "{penalty:?}: {m:?} vs {p:?}");
            }
        }
    }
}

#[test]
fn without_a_penalty_one_factor_picks_its_best_level() {
    let design = Design::new(vec![Factor::uniform("slogan", &["a", "b", "c", "d"])]).unwrap();
    let model =
        OutcomeModel::from_terms(&design, false, &[("slogan=b", 0.4), ("slogan=c", 0.9)]).unwrap();
    let electorate = Electorate::new(vec![Segment {
        name: "all".into(),
        share: 1.0,
        model,
    }])
    .unwrap();
    let side = Side::free(&design);
    let contest = Contest::new(
        &design,
        &electorate,
        side.clone(),
        side,
        ContestSettings::default(),
    )
    .unwrap();
    let opponent = contest.design_policy(Player::B);
    let optimiser = PolicyOptimiser::default();
    // From the design distribution alone (mirror ascent) and with the other starts.
    let uniform = contest.design_policy(Player::A);
    let optimum = optimiser
        .optimise(&contest, Player::A, &opponent, &[uniform])
        .unwrap();
    assert!(optimum.policy.marginals[0][2] > 1.0 - 1e-8, "{optimum:?}");
    assert!(optimum.gap <= 1e-9);
    // Q of level c against a uniform opponent: the mean of σ(0.9 − g(b)).
    let sigma = |x: f64| 1.0 / (1.0 + (-x).exp());
    let expected = [0.0, 0.4, 0.9, 0.0]
        .iter()
        .map(|g| sigma(0.9 - g))
        .sum::<f64>()
        / 4.0;
    assert!((optimum.value - expected).abs() < 1e-8);
}

#[test]
fn the_equilibrium_is_barely_exploitable() {
    let design = design();
    let contest = party_contest(&design, &electorate(&design));
    for lambda in [0.05, 0.0] {
        let solver = EquilibriumSolver {
            lambda,
            tolerance: 1e-6,
            ..EquilibriumSolver::default()
        };
        let equilibrium = solver.solve(&contest).unwrap();
        assert!(
            equilibrium.exploitability.penalised < 1e-6,
            "λ = {lambda}: {equilibrium:?}"
        );
        let check = exploitability(
            &contest,
            &equilibrium.a,
            &equilibrium.b,
            Penalty::Kl,
            lambda,
        )
        .unwrap();
        assert_eq!(check, equilibrium.exploitability);
        // The game is asymmetric: its value is not one half.
        assert!(
            (equilibrium.value - 0.5).abs() > 1e-3,
            "{}",
            equilibrium.value
        );
    }
}

#[test]
fn the_difference_form_is_symmetric() {
    let design = design();
    let electorate = electorate(&design);
    let profiles: Vec<[usize; 3]> = (0..18).map(|i| [i % 2, (i / 2) % 3, i / 6]).collect();
    for a in &profiles {
        for b in &profiles {
            let forward = electorate.probability(a, b);
            let backward = electorate.probability(b, a);
            assert!((forward + backward - 1.0).abs() < 1e-15);
            let model = &electorate.segments[0].model;
            assert!((model.probability(a, b) + model.probability(b, a) - 1.0).abs() < 1e-15);
        }
    }
    let side = Side::free(&design);
    let contest = Contest::new(
        &design,
        &electorate,
        side.clone(),
        side,
        ContestSettings::default(),
    )
    .unwrap();
    let p = contest.design_policy(Player::A);
    let q = Policy::pure(&design, &[1, 2, 0]);
    assert!((contest.value(&p, &q) + contest.value(&q, &p) - 1.0).abs() < 1e-12);
    assert!((contest.value(&p, &p) - 0.5).abs() < 1e-12);
}

#[test]
fn the_fitted_model_recovers_planted_coefficients() {
    let design = design();
    let truth = electorate(&design);
    let data = Simulation {
        tasks: 120_000,
        tasks_per_respondent: 10,
        seed: 11,
    }
    .run(&design, &truth)
    .unwrap();
    let shares: Vec<(String, f64)> = truth
        .segments
        .iter()
        .map(|s| (s.name.clone(), s.share))
        .collect();
    let fit = LogisticFit {
        ridge: 1e-3,
        ..LogisticFit::default()
    };
    let (fitted, fits) = Electorate::fit(&design, &data, &shares, &fit).unwrap();
    for ((estimated, planted), f) in fitted.segments.iter().zip(&truth.segments).zip(&fits) {
        let covariance = f.model.covariance.as_ref().unwrap();
        let d = planted.model.coefficients.len();
        for j in 0..d {
            let (b, t) = (
                estimated.model.coefficients[j],
                planted.model.coefficients[j],
            );
            let se = covariance[j * d + j].sqrt();
            let name = planted.model.terms.name(&design, j);
            assert!(
                (b - t).abs() < 4.5 * se,
                "{}: {name} {b} vs {t} (se {se})",
                planted.name
            );
            assert!(se < 0.12, "{name}: se {se}");
        }
    }
    // AMCEs of the fitted electorate cover the planted ones.
    let settings = ContestSettings::default();
    let planted = amces(&design, &truth, settings).unwrap();
    let estimated = amces(&design, &fitted, settings).unwrap();
    for (p, e) in planted.iter().zip(&estimated) {
        let se = e.std_error.unwrap();
        assert!(p.std_error.is_none() && se > 0.0 && se < 0.02);
        assert!((p.estimate - e.estimate).abs() < 4.5 * se, "{p:?} vs {e:?}");
    }
}

#[test]
fn the_gradient_matches_finite_differences_exactly_and_on_a_sample() {
    let design = design();
    let electorate = electorate(&design);
    let a = Side::free(&design).fix(&design, "party", "R").unwrap();
    let b = Side::free(&design);
    let exact = Contest::new(
        &design,
        &electorate,
        a.clone(),
        b.clone(),
        ContestSettings::default(),
    )
    .unwrap();
    let sampled = Contest::new(
        &design,
        &electorate,
        a,
        b,
        ContestSettings {
            max_exact_pairs: 0,
            samples: 3000,
            seed: 5,
        },
    )
    .unwrap();
    assert!(exact.is_exact() && !sampled.is_exact());
    let pa = Policy {
        marginals: vec![vec![0.0, 1.0], vec![0.2, 0.5, 0.3], vec![0.1, 0.6, 0.3]],
    };
    let pb = Policy {
        marginals: vec![vec![0.7, 0.3], vec![0.3, 0.3, 0.4], vec![0.5, 0.2, 0.3]],
    };
    for contest in [&exact, &sampled] {
        let g = contest.value_and_gradient(&pa, &pb);
        let h = 1e-6;
        for (player, k, l) in [(0, 1, 2), (0, 2, 0), (1, 0, 1), (1, 2, 2)] {
            let (mut xa, mut xb) = (pa.clone(), pb.clone());
            let target = if player == 0 { &mut xa } else { &mut xb };
            target.marginals[k][l] += h;
            let numeric = (contest.value(&xa, &xb) - g.value) / h;
            let analytic = if player == 0 { g.a[k][l] } else { g.b[k][l] };
            assert!((numeric - analytic).abs() < 1e-5, "{numeric} vs {analytic}");
        }
    }
    let (e, s) = (exact.value(&pa, &pb), sampled.value(&pa, &pb));
    assert!((e - s).abs() < 0.02, "exact {e} vs sampled {s}");
    // The sampled best pure response is the exact one here.
    assert_eq!(
        exact.best_pure_response(Player::A, &pb).0,
        sampled.best_pure_response(Player::A, &pb).0
    );
}

#[test]
fn bad_designs_and_records_are_clear_errors() {
    let one_level = Design::new(vec![
        Factor::uniform("party", &["D", "R"]),
        Factor::uniform("gender", &["woman"]),
    ])
    .unwrap_err()
    .to_string();
    assert!(
        one_level.contains("gender") && one_level.contains("at least two"),
        "{one_level}"
    );
    let bad_sum = Design::new(vec![Factor::with_probabilities(
        "age",
        &["50", "65", "80"],
        &[0.5, 0.3, 0.3],
    )])
    .unwrap_err()
    .to_string();
    assert!(
        bad_sum.contains("age") && bad_sum.contains("sum to 1"),
        "{bad_sum}"
    );
    let design = design();
    let csv = "respondent,segment,task,chosen,party,age,tax\n\
               1,I,1,1,D,50,cut\n\
               1,I,1,0,R,65,keep\n\
               1,I,2,0,R,65,lower\n\
               1,I,2,1,D,80,keep\n";
    let unknown = ConjointData::from_csv_str(&design, "answers.csv", csv)
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("answers.csv:4") && unknown.contains("`tax`") && unknown.contains("lower"),
        "{unknown}"
    );
    let good =
        ConjointData::from_csv_str(&design, "answers.csv", &csv.replace("lower", "raise")).unwrap();
    assert_eq!(good.len(), 2);
    assert_eq!(good.left(1), &[1, 1, 2]);
    assert!(good.tasks()[0].chose_left && !good.tasks()[1].chose_left);
    let mut data = ConjointData::new(&design);
    let out_of_range = data
        .push(
            &design,
            (1, "I", true),
            &[0, 3, 0],
            &[1, 0, 0],
            Location::new("<test>"),
        )
        .unwrap_err()
        .to_string();
    assert!(out_of_range.contains("age"), "{out_of_range}");
    let term = OutcomeModel::from_terms(&design, true, &[("tax=keep", 1.0)])
        .unwrap_err()
        .to_string();
    assert!(term.contains("reference level"), "{term}");
    let policy = Policy {
        marginals: vec![vec![0.5, 0.5], vec![0.2, 0.2, 0.2], vec![1.0, 0.0, 0.0]],
    };
    let side = Side::free(&design);
    assert!(policy.check(&design, &side).is_err());
}
