//! Hotz–Miller CCP and NPL against NFXP on Rust's group 4.

use std::path::PathBuf;

use choicelab_inverse::ddc::{
    read_bus_group, simulate_fleet, BusGroup, Ccp, CostShape, Nfxp, ZurcherModel,
};

#[test]
fn npl_converges_to_the_nfxp_estimate_on_group_four() {
    let Some(dir) = std::env::var_os("CHOICELAB_DATA") else {
        eprintln!("CHOICELAB_DATA unset: CCP golden test skipped");
        return;
    };
    let panel = read_bus_group(&PathBuf::from(dir).join("bus"), BusGroup::G4, 5000.0, 90).unwrap();
    let nfxp = Nfxp::default().fit(&panel).unwrap();
    let two_step = Ccp::default().fit(&panel).unwrap();
    assert!((two_step.estimates[0] - nfxp.estimates[0]).abs() < 0.5);
    let npl = Ccp {
        npl_iterations: 30,
        ..Ccp::default()
    }
    .fit(&panel)
    .unwrap();
    // ruspy's optimum: RC 10.0749422, θ11 2.29309298.
    assert!(
        (npl.estimates[0] - 10.0749422).abs() < 1e-5,
        "{:?}",
        npl.estimates
    );
    assert!(
        (npl.estimates[1] - 2.29309298).abs() < 1e-5,
        "{:?}",
        npl.estimates
    );
    assert!((npl.loglik_choice - nfxp.loglik_choice).abs() < 1e-6);
}

#[test]
fn ccp_recovers_a_simulated_fleet() {
    let model = ZurcherModel {
        n_states: 90,
        beta: 0.975,
        increments: vec![0.35, 0.6, 0.05],
        cost: CostShape::Linear,
        scale: 1e-3,
    };
    let panel = simulate_fleet(&model, 9.0, &[3.0], 300, 100, 11).unwrap();
    let fit = Ccp {
        beta: 0.975,
        npl_iterations: 20,
        ..Ccp::default()
    }
    .fit(&panel)
    .unwrap();
    for (k, planted) in [9.0, 3.0].iter().enumerate() {
        assert!(
            (fit.estimates[k] - planted).abs() < 4.0 * fit.std_errors[k],
            "{k}: {} ± {}",
            fit.estimates[k],
            fit.std_errors[k]
        );
    }
}
