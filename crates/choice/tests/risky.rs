//! Risky choice: CPT's special cases, weighting functions, decision weights, recovery of a
//! planted CPT from aggregate counts, the feature baselines, and clear errors on bad input.

use choicelab_choice::risky::{
    decision_weights, value, Choices13k, CptParams, FeatureData, LogisticRegression, Lottery,
    Problem, RiskyChoice, RiskyData, RiskyModel, Weighting,
};
use choicelab_choice::FitSettings;
use choicelab_core::logistic::sigmoid;
use choicelab_core::{rng, Error, Rng};
use rand::RngExt;

/// A lottery of 1–5 outcomes in [lo, hi] (whole numbers, so ties happen) with random
/// probabilities.
fn lottery(random: &mut Rng, lo: f64, hi: f64) -> Lottery {
    let k = random.random_range(1..=5);
    let raw: Vec<f64> = (0..k).map(|_| random.random::<f64>() + 0.05).collect();
    let total: f64 = raw.iter().sum();
    Lottery::new(
        raw.iter()
            .map(|r| (r / total, (lo + random.random::<f64>() * (hi - lo)).round()))
            .collect(),
    )
    .unwrap()
}

fn params(alpha: f64, lambda: f64, gamma: f64, weighting: Weighting) -> CptParams {
    CptParams {
        alpha,
        beta: alpha,
        lambda,
        gamma_gain: gamma,
        gamma_loss: gamma,
        weighting,
    }
}

#[test]
fn cpt_without_curvature_loss_aversion_or_weighting_is_expected_value() {
    let mut random = rng(11);
    for _ in 0..500 {
        let l = lottery(&mut random, -60.0, 120.0);
        let ev = l.expected_value();
        let scale = l.outcomes().iter().map(|o| o.1.abs()).fold(1.0, f64::max);
        for weighting in [
            Weighting::Linear,
            Weighting::Prelec,
            Weighting::TverskyKahneman,
        ] {
            let u = value(&l, &params(1.0, 1.0, 1.0, weighting));
            assert!(
                (u - ev).abs() <= 1e-13 * scale,
                "{weighting:?}: {u} vs {ev}"
            );
        }
        assert!((value(&l, &CptParams::expected_value()) - ev).abs() <= 1e-13 * scale);
        // Through the models: CPT at (α, λ, γ) = 1 gives EV's utility.
        let cpt = RiskyModel::cpt(Weighting::Prelec);
        let u = cpt.utility(&l, &[1.0, 1.0, 1.0, 0.2]).unwrap();
        let e = RiskyModel::ev().utility(&l, &[0.2]).unwrap();
        assert!((u - e).abs() <= 1e-13 * scale);
    }
    assert!(RiskyModel::ev()
        .utility(&Lottery::sure(1.0).unwrap(), &[1.0, 2.0])
        .is_err());
}

#[test]
fn weights_are_the_identity_at_gamma_one_and_increase_in_p() {
    for weighting in [Weighting::Prelec, Weighting::TverskyKahneman] {
        for k in 0..=1000 {
            let p = k as f64 / 1000.0;
            assert!(
                (weighting.weight(p, 1.0) - p).abs() < 1e-15,
                "{weighting:?} {p}"
            );
        }
        for gamma in [0.4, 0.6, 0.8, 1.3, 2.0] {
            assert_eq!(weighting.weight(0.0, gamma), 0.0);
            assert_eq!(weighting.weight(1.0, gamma), 1.0);
            let mut previous = 0.0;
            for k in 1..=1000 {
                let w = weighting.weight(k as f64 / 1000.0, gamma);
                assert!(
                    w > previous,
                    "{weighting:?} γ = {gamma} at p = {}",
                    k as f64 / 1000.0
                );
                previous = w;
            }
        }
        // Inverse-S: small probabilities overweighted, large ones underweighted.
        assert!(weighting.weight(0.01, 0.6) > 0.01 && weighting.weight(0.9, 0.6) < 0.9);
    }
}

#[test]
fn decision_weights_of_single_signed_lotteries_sum_to_one() {
    let mut random = rng(5);
    for _ in 0..300 {
        for (lo, hi) in [(1.0, 100.0), (-100.0, -1.0)] {
            let l = lottery(&mut random, lo, hi);
            for (weighting, gamma) in [
                (Weighting::Linear, 1.0),
                (Weighting::Prelec, 0.5),
                (Weighting::Prelec, 1.7),
                (Weighting::TverskyKahneman, 0.61),
            ] {
                let w = decision_weights(&l, weighting, gamma, gamma);
                assert!(w.iter().all(|w| *w >= 0.0));
                let total: f64 = w.iter().sum();
                assert!((total - 1.0).abs() < 1e-12, "{weighting:?}: {total}");
            }
        }
    }
    // Rank dependence: the best outcome of a gain lottery gets w(p), the worst 1 − w(1 − p).
    let l = Lottery::new(vec![(0.1, 100.0), (0.9, 10.0)]).unwrap();
    let w = decision_weights(&l, Weighting::Prelec, 0.6, 0.6);
    assert!((w[0] - Weighting::Prelec.weight(0.1, 0.6)).abs() < 1e-15);
    assert!((w[1] - (1.0 - Weighting::Prelec.weight(0.1, 0.6))).abs() < 1e-15);
}

/// `problems` random problems with 20 trials each, choice counts drawn from `truth`.
fn planted(model: &RiskyModel, truth: &[f64], problems: usize, seed: u64) -> RiskyData {
    let mut random = rng(seed);
    let choices = (0..problems)
        .map(|_| {
            let problem = Problem {
                a: lottery(&mut random, -50.0, 100.0),
                b: lottery(&mut random, -50.0, 100.0),
            };
            let (ua, ub) = (
                model.utility(&problem.a, truth).unwrap(),
                model.utility(&problem.b, truth).unwrap(),
            );
            let p = sigmoid(truth[truth.len() - 1] * (ub - ua));
            let chosen = (0..20).filter(|_| random.random::<f64>() < p).count();
            RiskyChoice::new(problem, 20.0, chosen as f64 / 20.0).unwrap()
        })
        .collect();
    RiskyData::new(choices).unwrap()
}

#[test]
fn recovers_a_planted_cpt_from_aggregate_counts() {
    for (weighting, truth) in [
        (Weighting::Prelec, [0.8, 1.6, 0.65, 0.15]),
        (Weighting::TverskyKahneman, [0.7, 2.0, 0.75, 0.2]),
    ] {
        let model = RiskyModel::cpt(weighting);
        let data = planted(&model, &truth, 3000, 42);
        let fit = model.fit(&data, &FitSettings::default()).unwrap();
        let se = fit.fit.std_errors.clone().unwrap();
        for (k, name) in fit.names.iter().enumerate() {
            let z = (fit.fit.estimates[k] - truth[k]) / se[k];
            assert!(
                z.abs() < 4.0,
                "{weighting:?} {name}: {} ± {} vs {}",
                fit.fit.estimates[k],
                se[k],
                truth[k]
            );
            assert!(se[k] < 0.1 * truth[k], "{name}: se {}", se[k]);
        }
        assert!(fit.fit.agreeing_starts(1e-8) >= 2, "{:?}", fit.fit.starts);
        let correlation = fit.correlation_of("alpha", "lambda").unwrap();
        assert!(correlation.abs() < 1.0);
        // The truth predicts the data no better than the fit.
        assert!(fit.fit.gradient_norm <= FitSettings::default().gradient_tolerance);
    }
}

#[test]
fn a_fit_that_runs_out_of_iterations_is_an_error() {
    let model = RiskyModel::cpt(Weighting::Prelec);
    let data = planted(&model, &[0.8, 1.6, 0.65, 0.15], 300, 1);
    let settings = FitSettings {
        max_iterations: 1,
        ..FitSettings::default()
    };
    match model.fit(&data, &settings) {
        Err(Error::NotConverged { .. }) => {}
        other => panic!("expected a convergence error, got {other:?}"),
    }
}

#[test]
fn logistic_regression_on_expected_values_recovers_the_ev_logit() {
    let data = planted(&RiskyModel::ev(), &[0.1], 4000, 8);
    let features = FeatureData::expected_values(&data);
    let fit = LogisticRegression { ridge: 0.0 }
        .fit(&features, &FitSettings::default())
        .unwrap();
    assert!(fit.intercept.abs() < 0.05, "{}", fit.intercept);
    assert!((fit.weights[0] + 0.1).abs() < 0.005 && (fit.weights[1] - 0.1).abs() < 0.005);
    let ev = RiskyModel::ev()
        .fit(&data, &FitSettings::default())
        .unwrap();
    // The logistic regression nests EV: its likelihood is at least as high.
    assert!(fit.loglik >= ev.fit.loglik - 1e-6);
    assert_eq!(fit.predict(&features).unwrap().len(), data.len());
}

#[test]
fn lotteries_whose_probabilities_do_not_sum_to_one_are_rejected() {
    let err = Lottery::new(vec![(0.5, 10.0), (0.4, 0.0)]).unwrap_err();
    assert!(err.to_string().contains("sum to 0.9"), "{err}");
    let err = Lottery::new(vec![(1.2, 10.0), (-0.2, 0.0)]).unwrap_err();
    assert!(err.to_string().contains("outcomes[0].p"), "{err}");
    let err = Lottery::new(vec![(0.5, f64::NAN), (0.5, 0.0)]).unwrap_err();
    assert!(err.to_string().contains("outcomes[0].x"), "{err}");
    assert!(Lottery::new(vec![]).is_err());
    // Float noise within 1e-6 is tolerated (choices13k writes 0.050000000000000044).
    assert!(Lottery::new(vec![(0.95, 26.0), (0.050000000000000044, -1.0)]).is_ok());
    assert!(RiskyChoice::new(
        Problem {
            a: Lottery::sure(1.0).unwrap(),
            b: Lottery::sure(2.0).unwrap()
        },
        10.0,
        1.5
    )
    .is_err());
}

const CSV: &str =
    "Problem,Feedback,n,Block,Ha,pHa,La,Hb,pHb,Lb,LotShapeB,LotNumB,Amb,Corr,bRate,bRate_std
1,True,15,2,26,0.95,-1,23,0.05,21,0,1,False,0,0.6266666666666667,0.38
3,False,20,1,2,0.5,0,87,0.25,-31,1,2,True,-1,0.25,0.3
";
const JSON: &str = r#"{"0": {"B": [[0.95, 21.0], [0.05, 23.0]], "A": [[0.95, 26.0], [0.050000000000000044, -1.0]]},
"1": {"B": [[0.75, -31.0], [0.125, 86.5], [0.125, 87.5]], "A": [[0.5, 2.0], [0.5, 0.0]]}}"#;

#[test]
fn reads_choices13k_rows_with_expanded_lotteries() {
    let data = Choices13k::from_texts(CSV, "sel.csv", JSON, "prob.json").unwrap();
    assert_eq!(data.rows.len(), 2);
    assert_eq!(data.groups(), vec![1, 3]);
    let row = &data.rows[1];
    assert!(!row.feedback && row.amb && row.corr == -1 && row.n == 20 && row.line == 3);
    let choice = &data.data.choices()[1];
    assert_eq!(choice.problem.b.outcomes().len(), 3);
    assert_eq!((choice.trials, choice.rate), (20.0, 0.25));
    assert_eq!(data.task_features().len(), 2 * 14);
}

#[test]
fn bad_choices13k_input_names_file_line_and_field() {
    let bad_field = CSV.replace("3,False,20,1,2,0.5", "3,False,20,1,2,abc");
    let err = Choices13k::from_texts(&bad_field, "sel.csv", JSON, "prob.json").unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("sel.csv:3") && text.contains("`pHa`") && text.contains("abc"),
        "{text}"
    );
    let bad_share = CSV.replace("0.25,0.3", "1.25,0.3");
    let err = Choices13k::from_texts(&bad_share, "sel.csv", JSON, "prob.json").unwrap_err();
    assert!(
        err.to_string().contains("sel.csv:3: field `bRate`"),
        "{err}"
    );
    let bad_bool = CSV.replace("1,True,15", "1,Yes,15");
    let err = Choices13k::from_texts(&bad_bool, "sel.csv", JSON, "prob.json").unwrap_err();
    assert!(
        err.to_string().contains("sel.csv:2: field `Feedback`"),
        "{err}"
    );
    let short = CSV.replace(",0.38", "");
    let err = Choices13k::from_texts(&short, "sel.csv", JSON, "prob.json").unwrap_err();
    assert!(
        err.to_string().contains("sel.csv:2") && err.to_string().contains("15 fields"),
        "{err}"
    );
    let no_column = CSV.replace("bRate_std", "sd");
    let err = Choices13k::from_texts(&no_column, "sel.csv", JSON, "prob.json").unwrap_err();
    assert!(
        err.to_string().contains("sel.csv:1: field `bRate_std`"),
        "{err}"
    );
    // JSON: a B whose probabilities do not sum to 1, a malformed pair, a missing entry, an
    // expected value that disagrees with the CSV, and broken syntax.
    let bad_sum = JSON.replace("[0.125, 87.5]", "[0.2, 87.5]");
    let err = Choices13k::from_texts(CSV, "sel.csv", &bad_sum, "prob.json").unwrap_err();
    assert!(
        err.to_string().contains("prob.json: field `1.B`")
            && err.to_string().contains("sum to 1.075"),
        "{err}"
    );
    let bad_pair = JSON.replace("[0.125, 86.5]", "[0.125]");
    let err = Choices13k::from_texts(CSV, "sel.csv", &bad_pair, "prob.json").unwrap_err();
    assert!(err.to_string().contains("field `1.B[1]`"), "{err}");
    let missing = JSON.replace("\"1\":", "\"7\":");
    let err = Choices13k::from_texts(CSV, "sel.csv", &missing, "prob.json").unwrap_err();
    assert!(
        err.to_string().contains("field `1`") && err.to_string().contains("line 3"),
        "{err}"
    );
    let moved = JSON.replace("[0.95, 21.0]", "[0.95, 22.0]");
    let err = Choices13k::from_texts(CSV, "sel.csv", &moved, "prob.json").unwrap_err();
    assert!(
        err.to_string().contains("field `0.B`") && err.to_string().contains("line 2"),
        "{err}"
    );
    let broken = JSON.replace("}}", "}");
    let err = Choices13k::from_texts(CSV, "sel.csv", &broken, "prob.json").unwrap_err();
    assert!(err.to_string().starts_with("prob.json:2"), "{err}");
    let err = Choices13k::read(std::path::Path::new("/no/such/folder")).unwrap_err();
    assert!(err.to_string().contains("c13k_selections.csv"), "{err}");
}

#[test]
fn loglik_gradient_matches_differences_and_cpt_at_one_has_ev_likelihood() {
    let model = RiskyModel::cpt(Weighting::TverskyKahneman);
    let data = planted(&model, &[0.8, 1.6, 0.65, 0.15], 200, 3);
    let at = [0.75, 1.4, 0.7, 0.12];
    let (ll, grad) = model.loglik(&data, &at).unwrap();
    for k in 0..at.len() {
        let (mut up, mut down) = (at, at);
        up[k] += 1e-6;
        down[k] -= 1e-6;
        let numeric =
            (model.loglik(&data, &up).unwrap().0 - model.loglik(&data, &down).unwrap().0) / 2e-6;
        assert!(
            (numeric - grad[k]).abs() < 1e-4 * numeric.abs().max(1.0),
            "{k}: {numeric} vs {}",
            grad[k]
        );
    }
    assert!(ll < 0.0);
    let (cpt_ll, _) = model.loglik(&data, &[1.0, 1.0, 1.0, 0.1]).unwrap();
    let (ev_ll, _) = RiskyModel::ev().loglik(&data, &[0.1]).unwrap();
    assert!(
        (cpt_ll - ev_ll).abs() < 1e-9 * ev_ll.abs(),
        "{cpt_ll} vs {ev_ll}"
    );
    assert!(model.loglik(&data, &[1.0, -1.0, 1.0, 0.1]).is_err());
    assert!(model.loglik(&data, &[1.0, 1.0]).is_err());
}
