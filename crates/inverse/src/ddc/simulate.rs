//! A seeded bus fleet run by Rust's model: the model's replacement probabilities drive
//! [`simulate_bus_fleet`].

use choicelab_core::panel::Panel;
use choicelab_core::{Error, Result, Seed};
use choicelab_envs::simulate_bus_fleet;

use crate::ddc::fixed_point::{Bellman, FixedPointSettings};
use crate::ddc::model::ZurcherModel;

/// Simulates `buses` buses for `months` months from mileage 0, with replacement cost `rc` and
/// cost coefficients `cost`. Bus b draws from its own stream of `seed`, so the panel does not
/// depend on how buses are scheduled.
pub fn simulate_fleet(
    model: &ZurcherModel,
    rc: f64,
    cost: &[f64],
    buses: usize,
    months: usize,
    seed: Seed,
) -> Result<Panel> {
    model.check()?;
    if cost.len() != model.cost.n_coefficients() {
        return Err(Error::parameter(
            "cost",
            format!(
                "{} cost coefficients needed, got {}",
                model.cost.n_coefficients(),
                cost.len()
            ),
        ));
    }
    let n = model.n_states;
    let bellman = Bellman {
        model,
        rc,
        costs: (0..n).map(|x| model.cost(x, cost)).collect(),
    };
    let solved = bellman.solve(&vec![0.0; n], FixedPointSettings::default())?;
    simulate_bus_fleet(
        &solved.replace_probability,
        &model.increments,
        buses,
        months,
        seed,
    )
}
