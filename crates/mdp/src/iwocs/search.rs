//! The worst-case search of IWOCS: the parameter ξ in a box that minimises a policy's value
//! V^π_{T_ξ}(ρ₀), by exact enumeration on a grid or by a seeded black-box search.

use choicelab_core::tabular::PROBABILITY_SUM_TOLERANCE;
use choicelab_core::{stream_rng, Error, Result, Seed, TabularMdp};
use rand::RngExt;
use rayon::prelude::*;

use crate::evaluation::{evaluate_policy, Evaluation};
use crate::iwocs::ParametricFamily;

/// Most points a grid may have.
pub const GRID_LIMIT: usize = 10_000_000;
/// Best random samples that each start a local refinement.
const RESTARTS: usize = 4;

/// How the worst-case parameter is searched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorstCaseSearch {
    /// Every point of a regular grid with this many points per dimension (the box's ends
    /// included; one point is the box's centre). Exact on the grid.
    Grid {
        /// Points per dimension, at least 1.
        points_per_dimension: usize,
    },
    /// `samples` uniform points in the box, then a compass search with halving steps from each
    /// of the few best (restarts), `refinements` rounds each.
    Random {
        /// Uniform samples, at least 1.
        samples: usize,
        /// Rounds of local refinement per restart.
        refinements: usize,
        /// Seed of the samples.
        seed: Seed,
    },
}

/// The ξ of `family` minimising V^π_{T_ξ}(ρ₀) = Σ ρ₀(s) V^π(s) for `policy` at discount
/// `gamma`, and that value. Ties go to the first point found; the same bits at any thread count.
pub fn static_worst_case(
    family: &ParametricFamily<'_>,
    policy: &[usize],
    gamma: f64,
    initial: &[f64],
    search: WorstCaseSearch,
) -> Result<(Vec<f64>, f64)> {
    family.check()?;
    check_initial(initial, policy.len())?;
    let value = |xi: &[f64]| -> Result<f64> {
        let mdp = family.model(xi)?;
        let values = evaluate_policy(&mdp, gamma, policy, Evaluation::Auto)?;
        Ok(initial_value(initial, &values))
    };
    match search {
        WorstCaseSearch::Grid {
            points_per_dimension,
        } => {
            let grid = grid(&family.bounds, points_per_dimension)?;
            let (best, value) = argmin(&grid, |xi| value(xi))?;
            Ok((grid[best].clone(), value))
        }
        WorstCaseSearch::Random {
            samples,
            refinements,
            seed,
        } => random_search(&family.bounds, samples, refinements, seed, value),
    }
}

/// Σ ρ₀(s) V(s).
pub(crate) fn initial_value(initial: &[f64], values: &[f64]) -> f64 {
    initial.iter().zip(values).map(|(r, v)| r * v).sum()
}

/// Checks that ρ₀ is a distribution over `n_states` states.
pub(crate) fn check_initial(initial: &[f64], n_states: usize) -> Result<()> {
    if initial.len() != n_states {
        return Err(Error::parameter(
            "initial distribution",
            format!("{} entries for {n_states} states", initial.len()),
        ));
    }
    if let Some(p) = initial.iter().find(|p| !(p.is_finite() && **p >= 0.0)) {
        return Err(Error::parameter(
            "initial distribution",
            format!("{p} is not a probability"),
        ));
    }
    let total: f64 = initial.iter().sum();
    if (total - 1.0).abs() > PROBABILITY_SUM_TOLERANCE {
        return Err(Error::parameter(
            "initial distribution",
            format!("sums to {total}, not 1"),
        ));
    }
    Ok(())
}

/// The points of a regular grid over `bounds`, `per_dimension` per axis, the first axis
/// varying slowest.
pub(crate) fn grid(bounds: &[(f64, f64)], per_dimension: usize) -> Result<Vec<Vec<f64>>> {
    if per_dimension == 0 {
        return Err(Error::parameter(
            "points_per_dimension",
            "a grid needs at least one point per dimension",
        ));
    }
    let total = u32::try_from(bounds.len())
        .ok()
        .and_then(|d| per_dimension.checked_pow(d))
        .filter(|&n| n <= GRID_LIMIT)
        .ok_or_else(|| {
            Error::parameter(
                "points_per_dimension",
                format!(
                    "{per_dimension}^{} grid points exceed the limit of {GRID_LIMIT}",
                    bounds.len()
                ),
            )
        })?;
    let axis = |&(low, high): &(f64, f64), i: usize| {
        if per_dimension == 1 {
            0.5 * (low + high)
        } else {
            low + (high - low) * i as f64 / (per_dimension - 1) as f64
        }
    };
    Ok((0..total)
        .map(|mut index| {
            let mut point = vec![0.0; bounds.len()];
            for (x, bound) in point.iter_mut().zip(bounds).rev() {
                *x = axis(bound, index % per_dimension);
                index /= per_dimension;
            }
            point
        })
        .collect())
}

/// The index of the smallest `value` over `items` (ties to the first) and that value,
/// evaluated in parallel; the first failing item's error otherwise.
pub(crate) fn argmin<T, F>(items: &[T], value: F) -> Result<(usize, f64)>
where
    T: Sync,
    F: Fn(&T) -> Result<f64> + Sync,
{
    let values: Vec<Result<f64>> = items.par_iter().map(&value).collect();
    let mut best: Option<(usize, f64)> = None;
    for (i, v) in values.into_iter().enumerate() {
        let v = v?;
        if best.is_none_or(|(_, b)| v < b) {
            best = Some((i, v));
        }
    }
    best.ok_or_else(|| Error::parameter("search", "no point to search"))
}

/// Random samples, then compass searches from the best few.
fn random_search<F>(
    bounds: &[(f64, f64)],
    samples: usize,
    refinements: usize,
    seed: Seed,
    value: F,
) -> Result<(Vec<f64>, f64)>
where
    F: Fn(&[f64]) -> Result<f64> + Sync,
{
    if samples == 0 {
        return Err(Error::parameter(
            "samples",
            "the random search needs at least one sample",
        ));
    }
    let points: Vec<Vec<f64>> = (0..samples as u64)
        .map(|i| {
            let mut rng = stream_rng(seed, i);
            bounds
                .iter()
                .map(|&(low, high)| low + (high - low) * rng.random::<f64>())
                .collect()
        })
        .collect();
    let values: Vec<Result<f64>> = points.par_iter().map(|xi| value(xi)).collect();
    let mut ranked = Vec::with_capacity(samples);
    for (i, v) in values.into_iter().enumerate() {
        ranked.push((v?, i));
    }
    ranked.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut best: Option<(Vec<f64>, f64)> = None;
    for &(start_value, start) in ranked.iter().take(RESTARTS) {
        let (x, v) = compass(
            bounds,
            points[start].clone(),
            start_value,
            refinements,
            &value,
        )?;
        if best.as_ref().is_none_or(|(_, b)| v < *b) {
            best = Some((x, v));
        }
    }
    best.ok_or_else(|| Error::parameter("search", "no point to search"))
}

/// Compass search from `x`: each round tries ±step along every axis (clipped to the box) and
/// moves to the best strict improvement, or halves the steps when there is none.
fn compass<F>(
    bounds: &[(f64, f64)],
    mut x: Vec<f64>,
    mut fx: f64,
    rounds: usize,
    value: &F,
) -> Result<(Vec<f64>, f64)>
where
    F: Fn(&[f64]) -> Result<f64> + Sync,
{
    let mut steps: Vec<f64> = bounds.iter().map(|(l, h)| (h - l) / 4.0).collect();
    for _ in 0..rounds {
        let mut candidates = Vec::with_capacity(2 * bounds.len());
        for (j, &(low, high)) in bounds.iter().enumerate() {
            for sign in [-1.0, 1.0] {
                let mut y = x.clone();
                y[j] = (x[j] + sign * steps[j]).clamp(low, high);
                if y[j] != x[j] {
                    candidates.push(y);
                }
            }
        }
        if candidates.is_empty() {
            break;
        }
        let (i, v) = argmin(&candidates, |y| value(y))?;
        if v < fx {
            (x, fx) = (candidates.swap_remove(i), v);
        } else {
            steps.iter_mut().for_each(|s| *s /= 2.0);
        }
    }
    Ok((x, fx))
}

/// Builds every model of `points` in parallel, failing with the first point's error.
pub(crate) fn build_all(
    family: &ParametricFamily<'_>,
    points: &[Vec<f64>],
) -> Result<Vec<TabularMdp>> {
    let models: Vec<Result<TabularMdp>> = points.par_iter().map(|xi| family.model(xi)).collect();
    models.into_iter().collect()
}
