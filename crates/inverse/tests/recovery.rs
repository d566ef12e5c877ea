//! NFXP on simulated fleets recovers the planted parameters.

use choicelab_inverse::ddc::{simulate_fleet, CostShape, Nfxp, ZurcherModel};

fn truth(beta: f64) -> ZurcherModel {
    ZurcherModel {
        n_states: 90,
        beta,
        increments: vec![0.3919, 0.5953, 0.0128],
        cost: CostShape::Linear,
        scale: 1e-3,
    }
}

#[test]
fn planted_parameters_fall_within_their_standard_errors() {
    let model = truth(0.99);
    let panel = simulate_fleet(&model, 10.0, &[2.3], 200, 120, 7).unwrap();
    let fit = Nfxp {
        beta: 0.99,
        ..Nfxp::default()
    }
    .fit(&panel)
    .unwrap();
    for (k, planted) in [10.0, 2.3].iter().enumerate() {
        let z = (fit.estimates[k] - planted) / fit.std_errors[k];
        assert!(
            z.abs() < 3.0,
            "{}: {} ± {} (z = {z})",
            fit.names[k],
            fit.estimates[k],
            fit.std_errors[k]
        );
    }
    for (j, planted) in model.increments.iter().enumerate() {
        let z = (fit.increments[j] - planted) / fit.increments_se[j];
        assert!(z.abs() < 3.0, "θ3_{j}: z = {z}");
    }
}

#[test]
fn the_simulator_is_fixed_by_its_seed() {
    let model = truth(0.95);
    let a = simulate_fleet(&model, 9.0, &[2.0], 5, 50, 3).unwrap();
    let b = simulate_fleet(&model, 9.0, &[2.0], 5, 50, 3).unwrap();
    let c = simulate_fleet(&model, 9.0, &[2.0], 5, 50, 4).unwrap();
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert_eq!(a.transitions().count(), 5 * 49);
}
