//! Implied replacement demand: the long-run replacements per bus and month when the
//! replacement cost is RC and the fleet follows the model's optimal (logit) policy.

use choicelab_core::{Error, Result};
use faer::linalg::solvers::Solve;
use faer::Mat;

use crate::ddc::fixed_point::{Bellman, FixedPointSettings};
use crate::ddc::model::ZurcherModel;

/// Expected replacements per bus and month under the stationary distribution of mileage when
/// the replacement cost is `rc` and the cost coefficients are `cost`.
pub fn replacement_demand(model: &ZurcherModel, rc: f64, cost: &[f64]) -> Result<f64> {
    model.check()?;
    let n = model.n_states;
    let transitions = model.transition_matrix();
    let bellman = Bellman {
        model,
        rc,
        costs: (0..n).map(|x| model.cost(x, cost)).collect(),
    };
    let solved = bellman.solve(&vec![0.0; n], FixedPointSettings::default())?;
    let replace = &solved.replace_probability;
    // Q(x, y) = p_keep(x)·P(x, y) + p_replace(x)·P(0, y); solve πᵀ(Q − I) = 0, Σπ = 1.
    let system = Mat::from_fn(n, n, |y, x| {
        if y == n - 1 {
            1.0
        } else {
            (1.0 - replace[x]) * transitions[x * n + y] + replace[x] * transitions[y]
                - f64::from(x == y)
        }
    });
    let rhs = Mat::from_fn(n, 1, |y, _| f64::from(y == n - 1));
    let pi = system.partial_piv_lu().solve(&rhs);
    let demand: f64 = (0..n).map(|x| pi[(x, 0)] * replace[x]).sum();
    if !demand.is_finite() || !(0.0..=1.0 + 1e-9).contains(&demand) {
        return Err(Error::Numerical {
            context: "replacement demand".into(),
            message: format!("the stationary distribution gave a demand of {demand}"),
        });
    }
    Ok(demand)
}
