//! Brute force for the static model on a grid: the min–max value min_ξ V*_ξ(ρ₀), and, for
//! small MDPs, the max–min value max_π min_ξ V^π_ξ(ρ₀) over deterministic stationary policies.

use choicelab_core::{Error, Result, TabularMdp};
use rayon::prelude::*;

use crate::evaluation::{evaluate_policy, Evaluation};
use crate::iwocs::search::{argmin, build_all, check_initial, grid, initial_value};
use crate::iwocs::ParametricFamily;
use crate::solution::{check_discount, check_policy};
use crate::value_iteration::ValueIteration;

/// Most deterministic stationary policies the brute-force max–min enumerates.
pub const POLICY_LIMIT: usize = 1 << 16;
/// Accuracy of the value iteration behind the min–max value.
const EPSILON: f64 = 1e-10;

/// The best deterministic stationary policy against the grid, by enumeration.
#[derive(Debug, Clone, PartialEq)]
pub struct BruteForcePolicy {
    /// The policy (ties: the first in enumeration order, state 0's action varying slowest).
    pub policy: Vec<usize>,
    /// Its worst case over the grid: the max–min value.
    pub worst_case: f64,
    /// The grid point attaining that worst case.
    pub worst_parameters: Vec<f64>,
    /// Policies enumerated (those feasible under every grid model), or evaluated by
    /// [`improve_static_policy`].
    pub policies: usize,
}

/// Both sides of the static robust problem on a grid.
#[derive(Debug, Clone, PartialEq)]
pub struct ExhaustiveStatic {
    /// Grid points searched.
    pub grid_points: usize,
    /// min_ξ V*_ξ(ρ₀): the min–max value, an upper bound on any policy's worst case.
    pub min_max: f64,
    /// The grid point attaining it.
    pub min_max_parameters: Vec<f64>,
    /// The max–min value by enumeration; None when more than [`POLICY_LIMIT`] policies (or
    /// none) are feasible under every model.
    pub max_min: Option<BruteForcePolicy>,
}

/// The min–max and (when small enough) the max–min static values of `family` over a grid of
/// `grid_points_per_dim` points per dimension, at discount `gamma`, averaged over `initial`.
pub fn exhaustive_static(
    family: &ParametricFamily<'_>,
    grid_points_per_dim: usize,
    gamma: f64,
    initial: &[f64],
) -> Result<ExhaustiveStatic> {
    check_discount(gamma)?;
    family.check()?;
    let points = grid(&family.bounds, grid_points_per_dim)?;
    let models = build_all(family, &points)?;
    let (n_states, n_actions) = (models[0].n_states(), models[0].n_actions());
    check_initial(initial, n_states)?;
    if let Some((i, _)) = models
        .iter()
        .enumerate()
        .find(|(_, m)| m.n_states() != n_states || m.n_actions() != n_actions)
    {
        return Err(Error::parameter(
            "family",
            format!(
                "grid point {:?} gives a model of another shape than {:?}",
                points[i], points[0]
            ),
        ));
    }
    let (min_max_point, min_max) = argmin(&models, |mdp| {
        let solution = ValueIteration::new(gamma).epsilon(EPSILON).solve(mdp)?;
        Ok(initial_value(initial, &solution.values))
    })?;
    Ok(ExhaustiveStatic {
        grid_points: points.len(),
        min_max,
        min_max_parameters: points[min_max_point].clone(),
        max_min: max_min(&models, &points, gamma, initial)?,
    })
}

/// The best deterministic stationary policy against every model, by enumeration.
fn max_min(
    models: &[TabularMdp],
    points: &[Vec<f64>],
    gamma: f64,
    initial: &[f64],
) -> Result<Option<BruteForcePolicy>> {
    let (n_states, n_actions) = (models[0].n_states(), models[0].n_actions());
    let feasible: Vec<Vec<usize>> = (0..n_states)
        .map(|s| {
            (0..n_actions)
                .filter(|&a| models.iter().all(|m| m.is_feasible(s, a)))
                .collect()
        })
        .collect();
    let mut count = 1usize;
    for actions in &feasible {
        count = match count.checked_mul(actions.len()) {
            Some(c) if c <= POLICY_LIMIT => c,
            _ => return Ok(None),
        };
    }
    if count == 0 {
        return Ok(None);
    }
    let policy_of = |mut index: usize| -> Vec<usize> {
        let mut policy = vec![0; n_states];
        for (a, actions) in policy.iter_mut().zip(&feasible).rev() {
            *a = actions[index % actions.len()];
            index /= actions.len();
        }
        policy
    };
    // Each policy's worst grid point and value, evaluated in parallel, reduced in order.
    let worst: Vec<Result<(usize, f64)>> = (0..count)
        .into_par_iter()
        .map(|index| {
            let policy = policy_of(index);
            let mut worst = (0, f64::INFINITY);
            for (i, model) in models.iter().enumerate() {
                let values = evaluate_policy(model, gamma, &policy, Evaluation::Auto)?;
                let v = initial_value(initial, &values);
                if v < worst.1 {
                    worst = (i, v);
                }
            }
            Ok(worst)
        })
        .collect();
    let mut best: Option<(usize, usize, f64)> = None;
    for (index, w) in worst.into_iter().enumerate() {
        let (point, value) = w?;
        if best.is_none_or(|(_, _, b)| value > b) {
            best = Some((index, point, value));
        }
    }
    Ok(best.map(|(index, point, value)| BruteForcePolicy {
        policy: policy_of(index),
        worst_case: value,
        worst_parameters: points[point].clone(),
        policies: count,
    }))
}

/// A local optimum of the max–min problem when enumeration is out of reach: coordinate ascent
/// over deterministic stationary policies from `start`, each step changing one state's action
/// when that raises the worst case over the grid (`grid_points_per_dim` per dimension), until
/// no single change does. Its worst case is a lower bound on the max–min value.
pub fn improve_static_policy(
    family: &ParametricFamily<'_>,
    grid_points_per_dim: usize,
    gamma: f64,
    initial: &[f64],
    start: &[usize],
) -> Result<BruteForcePolicy> {
    check_discount(gamma)?;
    family.check()?;
    let points = grid(&family.bounds, grid_points_per_dim)?;
    let models = build_all(family, &points)?;
    let (n_states, n_actions) = (models[0].n_states(), models[0].n_actions());
    check_initial(initial, n_states)?;
    for model in &models {
        check_policy(model, start)?;
    }
    let worst = |policy: &[usize]| -> Result<(usize, f64)> {
        let values: Vec<Result<f64>> = models
            .par_iter()
            .map(|model| {
                let values = evaluate_policy(model, gamma, policy, Evaluation::Auto)?;
                Ok(initial_value(initial, &values))
            })
            .collect();
        let mut worst = (0, f64::INFINITY);
        for (i, v) in values.into_iter().enumerate() {
            let v = v?;
            if v < worst.1 {
                worst = (i, v);
            }
        }
        Ok(worst)
    };
    let mut policy = start.to_vec();
    let mut current = worst(&policy)?;
    let mut evaluated = 1;
    loop {
        let mut improved = false;
        for s in 0..n_states {
            for a in 0..n_actions {
                if a == policy[s] || !models.iter().all(|m| m.is_feasible(s, a)) {
                    continue;
                }
                let previous = std::mem::replace(&mut policy[s], a);
                let trial = worst(&policy)?;
                evaluated += 1;
                if trial.1 > current.1 + 1e-12 * current.1.abs().max(1.0) {
                    current = trial;
                    improved = true;
                } else {
                    policy[s] = previous;
                }
            }
        }
        if !improved {
            break;
        }
    }
    Ok(BruteForcePolicy {
        policy,
        worst_case: current.1,
        worst_parameters: points[current.0].clone(),
        policies: evaluated,
    })
}
