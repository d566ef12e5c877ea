//! Ties: Rao–Kupper and Davidson on two items, where the maximum-likelihood estimate is known
//! in closed form (both models are saturated there: two parameters, three outcome shares).

use choicelab_choice::{BradleyTerry, Ties};
use choicelab_core::{Comparisons, Items, Outcome};

fn two_items(wins_a: f64, wins_b: f64, ties: f64) -> Comparisons {
    let mut data = Comparisons::new(Items::numbered(2));
    data.push(0, 1, Outcome::First, wins_a).unwrap();
    data.push(1, 0, Outcome::First, wins_b).unwrap();
    data.push(0, 1, Outcome::Tie, ties).unwrap();
    data
}

fn fit(data: &Comparisons, ties: Ties) -> choicelab_choice::FittedUtilities {
    BradleyTerry {
        ties,
        ..BradleyTerry::default()
    }
    .fit(data)
    .unwrap()
}

#[test]
fn davidson_matches_its_closed_form() {
    let (a, b, t) = (30.0, 10.0, 12.0);
    let fitted = fit(&two_items(a, b, t), Ties::Davidson);
    // P(a) : P(b) : P(tie) = e^{d/2} : e^{−d/2} : ν, so d = ln(a/b) and ν = t/√(ab).
    let d = (a / b).ln();
    assert!(
        (fitted.theta[0] - d / 2.0).abs() < 1e-6,
        "{:?}",
        fitted.theta
    );
    let nu = t / (a * b).sqrt();
    assert!((fitted.tie_parameter.unwrap() - nu).abs() < 1e-6);
    let n = a + b + t;
    let loglik = a * (a / n).ln() + b * (b / n).ln() + t * (t / n).ln();
    assert!((fitted.loglik - loglik).abs() < 1e-8);
}

#[test]
fn rao_kupper_matches_its_closed_form() {
    let (a, b, t) = (30.0, 10.0, 12.0);
    let fitted = fit(&two_items(a, b, t), Ties::RaoKupper);
    let n = a + b + t;
    let (odds_a, odds_b) = (n / a - 1.0, n / b - 1.0);
    // 1/P(a) − 1 = θe^{−d} and 1/P(b) − 1 = θe^{d}.
    let theta = (odds_a * odds_b).sqrt();
    let d = 0.5 * (odds_b / odds_a).ln();
    assert!(
        (fitted.theta[0] - d / 2.0).abs() < 1e-6,
        "{:?}",
        fitted.theta
    );
    assert!((fitted.tie_parameter.unwrap() - theta).abs() < 1e-6);
}

#[test]
fn ties_are_rejected_unless_modelled() {
    let err = BradleyTerry::default()
        .fit(&two_items(3.0, 2.0, 1.0))
        .unwrap_err()
        .to_string();
    assert!(err.contains("ties") && err.contains("Rao–Kupper"), "{err}");
}
