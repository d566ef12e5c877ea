//! The one loop every iterative planner runs in: stopping rules, time limits and observers.

use std::time::{Duration, Instant};

use choicelab_core::{Error, Result};

/// When an iterative planner must give up.
#[derive(Debug, Clone, Copy)]
pub struct Stopping {
    /// Most iterations (sweeps, or improvement steps for policy iteration).
    pub max_iterations: usize,
    /// Wall-clock budget; None for no limit.
    pub time_limit: Option<Duration>,
}

impl Default for Stopping {
    fn default() -> Self {
        Self {
            max_iterations: 1_000_000,
            time_limit: None,
        }
    }
}

/// Watches an iterative planner: called once per iteration with its residual.
pub trait Observer {
    /// Iteration `iteration` (1-based) of `method` ended with `residual`.
    fn iteration(&mut self, method: &str, iteration: usize, residual: f64);
}

/// An observer that ignores everything.
pub struct Silent;

impl Observer for Silent {
    fn iteration(&mut self, _: &str, _: usize, _: f64) {}
}

/// An observer that records the residual of every iteration.
#[derive(Debug, Default, Clone)]
pub struct ResidualHistory {
    /// Residual after each iteration, in order.
    pub residuals: Vec<f64>,
}

impl Observer for ResidualHistory {
    fn iteration(&mut self, _: &str, _: usize, residual: f64) {
        self.residuals.push(residual);
    }
}

/// One planner's iteration step, as the driver sees it.
pub(crate) trait Iterate {
    /// The method's name for observers and errors.
    fn name(&self) -> &'static str;
    /// Does one iteration and returns its residual.
    fn step(&mut self) -> Result<f64>;
    /// Whether the residual just returned meets the stopping rule.
    fn converged(&self, residual: f64) -> bool;
    /// The tolerance the residual is compared with, for error messages.
    fn tolerance(&self) -> f64;
}

/// Outcome of a driven run: iterations done and the last residual.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Run {
    pub iterations: usize,
    pub residual: f64,
}

/// Runs `task` until it converges, or fails with [`Error::NotConverged`] when the iteration or
/// time budget runs out.
pub(crate) fn drive(
    task: &mut dyn Iterate,
    stopping: &Stopping,
    observer: &mut dyn Observer,
) -> Result<Run> {
    let start = Instant::now();
    let mut residual = f64::INFINITY;
    for iteration in 1..=stopping.max_iterations {
        residual = task.step()?;
        observer.iteration(task.name(), iteration, residual);
        if residual.is_nan() {
            return Err(Error::Numerical {
                context: task.name().into(),
                message: format!("residual became NaN at iteration {iteration}"),
            });
        }
        if task.converged(residual) {
            return Ok(Run {
                iterations: iteration,
                residual,
            });
        }
        if let Some(limit) = stopping.time_limit {
            if start.elapsed() > limit {
                return Err(not_converged(task, iteration, residual, "time limit"));
            }
        }
    }
    Err(not_converged(
        task,
        stopping.max_iterations,
        residual,
        "iteration limit",
    ))
}

fn not_converged(task: &dyn Iterate, iterations: usize, residual: f64, reason: &str) -> Error {
    Error::NotConverged {
        method: task.name().into(),
        iterations,
        residual,
        tolerance: task.tolerance(),
        reason: reason.into(),
    }
}
