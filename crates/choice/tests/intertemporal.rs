//! Intertemporal choice: the discount functions, recovery of planted parameters from
//! generated choices for each model, and clear errors on bad options.

use choicelab_choice::intertemporal::{
    generate, Delayed, Design, Discounting, IntertemporalChoice,
};
use choicelab_choice::FitSettings;

#[test]
fn discount_functions_start_at_one_and_agree_where_they_should() {
    for (kind, params) in [
        (Discounting::Exponential, vec![0.99, 1.0]),
        (Discounting::Hyperbolic, vec![0.05, 1.0]),
        (Discounting::QuasiHyperbolic, vec![0.7, 0.99, 1.0]),
    ] {
        assert_eq!(kind.factor(&params, 0.0).unwrap(), 1.0);
        let mut previous = 1.0;
        for t in [1.0, 7.0, 30.0, 365.0] {
            let d = kind.factor(&params, t).unwrap();
            assert!(d < previous && d > 0.0, "{kind:?} at {t}");
            previous = d;
        }
    }
    // Quasi-hyperbolic with β = 1 is exponential; with β < 1 it drops at the first delay.
    for t in [0.0, 1.0, 30.0, 400.0] {
        let qh = Discounting::QuasiHyperbolic
            .factor(&[1.0, 0.995, 1.0], t)
            .unwrap();
        let exp = Discounting::Exponential.factor(&[0.995, 1.0], t).unwrap();
        assert!((qh - exp).abs() < 1e-15);
    }
    assert!(
        (Discounting::QuasiHyperbolic
            .factor(&[0.8, 1.0, 1.0], 1.0)
            .unwrap()
            - 0.8)
            .abs()
            < 1e-15
    );
    assert!((Discounting::Hyperbolic.factor(&[0.1, 1.0], 10.0).unwrap() - 0.5).abs() < 1e-15);
    // P(later) is σ(φ·(U_later − U_sooner)): equal present values give one half.
    let choice = IntertemporalChoice::new(
        Delayed::new(50.0, 0.0).unwrap(),
        Delayed::new(100.0, 10.0).unwrap(),
        1.0,
        1.0,
    )
    .unwrap();
    let p = Discounting::Hyperbolic
        .probability_later(&[0.1, 0.3], &choice)
        .unwrap();
    assert!((p - 0.5).abs() < 1e-15);
}

#[test]
fn recovers_planted_parameters_of_each_model() {
    let design = Design::default();
    for (kind, truth, seed) in [
        (Discounting::Exponential, vec![0.995, 0.25], 1),
        (Discounting::Hyperbolic, vec![0.02, 0.25], 2),
        (Discounting::QuasiHyperbolic, vec![0.8, 0.998, 0.25], 3),
    ] {
        let data = generate(kind, &truth, &design, 4000, seed).unwrap();
        assert_eq!(data, generate(kind, &truth, &design, 4000, seed).unwrap());
        let later_share = data.iter().map(|c| c.later_rate).sum::<f64>() / 4000.0;
        assert!(
            later_share > 0.2 && later_share < 0.8,
            "{kind:?}: {later_share}"
        );
        let fit = kind.fit(&data, &FitSettings::default()).unwrap();
        let se = fit.fit.std_errors.clone().unwrap();
        for (k, name) in kind.parameter_names().iter().enumerate() {
            let z = (fit.fit.estimates[k] - truth[k]) / se[k];
            assert!(
                z.abs() < 4.0,
                "{kind:?} {name}: {} ± {} vs {}",
                fit.fit.estimates[k],
                se[k],
                truth[k]
            );
        }
        assert!(fit.fit.starts.len() == 2 && fit.fit.iterations > 0);
    }
}

#[test]
fn bad_options_are_named() {
    let err = Delayed::new(10.0, -1.0).unwrap_err();
    assert!(
        err.to_string().contains("field `delay`") && err.to_string().contains("-1"),
        "{err}"
    );
    let err = Delayed::new(0.0, 1.0).unwrap_err();
    assert!(err.to_string().contains("field `amount`"), "{err}");
    let sooner = Delayed {
        amount: 10.0,
        delay: -3.0,
    };
    let later = Delayed::new(20.0, 5.0).unwrap();
    let err = IntertemporalChoice::new(sooner, later, 1.0, 1.0).unwrap_err();
    assert!(err.to_string().contains("field `sooner.delay`"), "{err}");
    let err = IntertemporalChoice::new(later, later, 1.0, 1.0).unwrap_err();
    assert!(err.to_string().contains("later.delay"), "{err}");
    // A bad row handed straight to a fit is named by its position.
    let mut data = generate(
        Discounting::Hyperbolic,
        &[0.02, 0.25],
        &Design::default(),
        10,
        0,
    )
    .unwrap();
    data[4].sooner.delay = -1.0;
    let err = Discounting::Hyperbolic
        .fit(&data, &FitSettings::default())
        .unwrap_err();
    assert!(err.to_string().contains("rows[4]"), "{err}");
    assert!(Discounting::Exponential.factor(&[0.99, 1.0], -1.0).is_err());
    assert!(Discounting::Exponential.factor(&[-0.99, 1.0], 1.0).is_err());
    assert!(generate(
        Discounting::QuasiHyperbolic,
        &[0.8, 0.99],
        &Design::default(),
        5,
        0
    )
    .is_err());
}
