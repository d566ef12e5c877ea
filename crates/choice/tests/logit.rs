//! Conditional logit: recovery of planted coefficients, invariances, and clear errors.

use choicelab_choice::{ConditionalLogit, LogitSpec};
use choicelab_core::{rng, Alternative, ChoiceSets, Rng};
use rand::RngExt;

const NAMES: [&str; 3] = ["bus", "car", "rail"];

/// Planted utilities: V = ASC_alt + B_TIME·time + B_COST·cost, rail's ASC fixed at 0.
fn planted() -> LogitSpec {
    LogitSpec::new()
        .utility("bus", &["ASC_BUS", "B_TIME * time", "B_COST * cost"])
        .utility("car", &["ASC_CAR", "B_TIME * time", "B_COST * cost"])
        .utility("rail", &["B_TIME * time", "B_COST * cost"])
}

const TRUTH: [(&str, f64); 4] = [
    ("ASC_BUS", -0.5),
    ("ASC_CAR", 0.3),
    ("B_COST", -0.8),
    ("B_TIME", -1.2),
];

/// Observations with random attributes, bus sometimes unavailable, choices drawn from the
/// planted model; `order` permutes the rows within each observation.
fn simulate(n: usize, seed: u64, order: [usize; 3]) -> ChoiceSets {
    let mut random: Rng = rng(seed);
    let asc = [TRUTH[0].1, TRUTH[1].1, 0.0];
    let mut sets = ChoiceSets::new(&["time", "cost"]);
    for i in 0..n {
        let values: Vec<[f64; 2]> = (0..3)
            .map(|_| [random.random::<f64>() * 2.0, random.random::<f64>() * 3.0])
            .collect();
        let available = [random.random::<f64>() > 0.2, true, true];
        let weights: Vec<f64> = (0..3)
            .map(|j| {
                let v = asc[j] + TRUTH[3].1 * values[j][0] + TRUTH[2].1 * values[j][1];
                if available[j] {
                    v.exp()
                } else {
                    0.0
                }
            })
            .collect();
        let total: f64 = weights.iter().sum();
        let mut u = random.random::<f64>() * total;
        let mut chosen = 2;
        for (j, w) in weights.iter().enumerate() {
            if u < *w {
                chosen = j;
                break;
            }
            u -= w;
        }
        let rows: Vec<Alternative<'_>> = order
            .iter()
            .map(|&j| Alternative {
                name: NAMES[j],
                available: available[j],
                chosen: j == chosen,
                values: &values[j],
            })
            .collect();
        sets.push(&i.to_string(), &rows).unwrap();
    }
    sets
}

#[test]
fn recovers_planted_coefficients_within_their_standard_errors() {
    let data = simulate(20_000, 7, [0, 1, 2]);
    let fitted = ConditionalLogit::new(planted()).fit(&data).unwrap();
    assert_eq!(fitted.names, ["ASC_BUS", "ASC_CAR", "B_COST", "B_TIME"]);
    for (k, (name, truth)) in TRUTH.iter().enumerate() {
        let z = (fitted.estimates[k] - truth) / fitted.std_errors[k];
        assert!(z.abs() < 4.0, "{name}: z = {z}");
        // A correctly specified model: robust and classical errors agree.
        let ratio = fitted.robust_std_errors[k] / fitted.std_errors[k];
        assert!(
            (ratio - 1.0).abs() < 0.1,
            "{name}: robust/classical = {ratio}"
        );
    }
    assert!(fitted.gradient_norm < 1e-6);
    assert!(fitted.loglik > fitted.null_loglik);
    assert!(fitted.history.windows(2).all(|w| w[1] >= w[0] - 1e-9));
}

#[test]
fn row_order_and_alternative_numbering_do_not_matter() {
    let a = ConditionalLogit::new(planted())
        .fit(&simulate(3_000, 3, [0, 1, 2]))
        .unwrap();
    let b = ConditionalLogit::new(planted())
        .fit(&simulate(3_000, 3, [2, 0, 1]))
        .unwrap();
    assert_eq!(a.names, b.names);
    for k in 0..a.estimates.len() {
        assert!((a.estimates[k] - b.estimates[k]).abs() < 1e-10);
        assert!((a.std_errors[k] - b.std_errors[k]).abs() < 1e-10);
    }
    assert!((a.loglik - b.loglik).abs() < 1e-8);
}

#[test]
fn a_fixed_coefficient_enters_as_an_offset() {
    let data = simulate(5_000, 11, [0, 1, 2]);
    let free = ConditionalLogit::new(planted()).fit(&data).unwrap();
    let asc_bus = free.coefficient("ASC_BUS").unwrap();
    let held = planted().fix("ASC_BUS", asc_bus);
    let fitted = ConditionalLogit::new(held).fit(&data).unwrap();
    assert_eq!(fitted.names, ["ASC_CAR", "B_COST", "B_TIME"]);
    assert!((fitted.loglik - free.loglik).abs() < 1e-8);
    assert!(
        (fitted.coefficient("B_TIME").unwrap() - free.coefficient("B_TIME").unwrap()).abs() < 1e-7
    );
}

fn error_of(spec: LogitSpec, data: &ChoiceSets) -> String {
    ConditionalLogit::new(spec)
        .fit(data)
        .unwrap_err()
        .to_string()
}

#[test]
fn specification_errors_name_what_is_wrong() {
    let data = simulate(200, 1, [0, 1, 2]);
    let unknown_alternative = planted().utility("plane", &["ASC_PLANE"]);
    let message = error_of(unknown_alternative, &data);
    assert!(message.contains("`plane` is not in the data"), "{message}");
    assert!(message.contains("utilities.plane[0]"), "{message}");

    let unknown_attribute = planted().utility("rail", &["B_TIME * duration"]);
    let message = error_of(unknown_attribute, &data);
    assert!(message.contains("attribute `duration`"), "{message}");
    assert!(message.contains("attributes: time, cost"), "{message}");

    let missing = LogitSpec::new()
        .utility("bus", &["B_TIME * time"])
        .utility("car", &["B_TIME * time"]);
    let message = error_of(missing, &data);
    assert!(
        message.contains("`rail` of the data has no utility"),
        "{message}"
    );

    let unused = planted().fix("ASC_RAIL", 0.0);
    let message = error_of(unused, &data);
    assert!(
        message.contains("`ASC_RAIL` appears in no utility"),
        "{message}"
    );

    let repeated = planted().utility("rail", &["B_TIME * time", "B_TIME*time"]);
    let message = error_of(repeated, &data);
    assert!(message.contains("appears twice"), "{message}");

    let empty = ChoiceSets::new(&["time", "cost"]);
    let message = error_of(planted(), &empty);
    assert!(message.contains("no observations"), "{message}");
}

#[test]
fn a_constant_in_every_alternative_is_not_identified() {
    let data = simulate(500, 2, [0, 1, 2]);
    let spec = LogitSpec::new()
        .utility("bus", &["ASC_BUS", "B_TIME * time"])
        .utility("car", &["ASC_CAR", "B_TIME * time"])
        .utility("rail", &["ASC_RAIL", "B_TIME * time"]);
    let message = error_of(spec, &data);
    assert!(message.contains("not identified"), "{message}");
    assert!(
        message.contains("`ASC_BUS`")
            && message.contains("`ASC_CAR`")
            && message.contains("`ASC_RAIL`"),
        "{message}"
    );
    assert!(!message.contains("`B_TIME`"), "{message}");
}

#[test]
fn the_fit_is_the_same_bits_at_any_thread_count() {
    let data = simulate(7_000, 5, [0, 1, 2]);
    let fit_with = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| ConditionalLogit::new(planted()).fit(&data).unwrap())
    };
    assert_eq!(fit_with(1), fit_with(3));
}

#[test]
fn a_ridge_penalty_shrinks_the_estimates_and_is_stationary_at_the_optimum() {
    let data = simulate(400, 3, [0, 1, 2]);
    let norm = |ridge: f64| {
        let fit = ConditionalLogit {
            ridge,
            ..ConditionalLogit::new(planted())
        }
        .fit(&data)
        .expect("fits");
        assert!(
            fit.gradient_norm < 1e-6,
            "penalised gradient {}",
            fit.gradient_norm
        );
        fit.estimates.iter().map(|b| b * b).sum::<f64>().sqrt()
    };
    let (plain, light, heavy) = (norm(0.0), norm(10.0), norm(1e4));
    assert!(plain > light && light > heavy, "{plain} {light} {heavy}");
    assert!(heavy < 0.1 * plain);
}

#[test]
fn a_ridge_penalty_makes_an_unidentified_model_fit_at_the_minimum_norm() {
    // A constant in every utility is not identified; the penalty sets it to 0.
    let spec = LogitSpec::new()
        .utility("bus", &["ASC_BUS", "B_TIME * time", "B_COST * cost", "ALL"])
        .utility("car", &["ASC_CAR", "B_TIME * time", "B_COST * cost", "ALL"])
        .utility("rail", &["B_TIME * time", "B_COST * cost", "ALL"]);
    let data = simulate(400, 4, [0, 1, 2]);
    let plain = ConditionalLogit::new(spec.clone()).fit(&data);
    assert!(plain.is_err());
    let fit = ConditionalLogit {
        ridge: 1e-6,
        ..ConditionalLogit::new(spec)
    }
    .fit(&data)
    .expect("the penalty identifies it");
    assert!(fit.coefficient("ALL").expect("estimated").abs() < 1e-6);
    let bad = ConditionalLogit {
        ridge: -1.0,
        ..ConditionalLogit::new(planted())
    }
    .fit(&data)
    .unwrap_err()
    .to_string();
    assert!(bad.contains("ridge"), "{bad}");
}
