//! `choicelab esn`: score a plain echo-state network on a benchmark task, timed.

use std::time::Instant;

use anyhow::bail;
use choicelab_core::stream_rng;
use choicelab_reservoir::{EsnParams, MackeyGlass, Narma, Ridge, Task};
use clap::Args;

use crate::output::out;

/// Arguments of `choicelab esn`.
#[derive(Args)]
pub struct EsnArgs {
    /// narma10 (reservoirpy's shifted recursion), narma10-classic, memory-capacity or
    /// mackey-glass (direct --horizon-step prediction).
    task: String,
    /// Units of the reservoir.
    #[arg(long, default_value_t = 200)]
    units: usize,
    /// Spectral radius of the recurrent weights.
    #[arg(long, default_value_t = 0.9)]
    spectral_radius: f64,
    /// Leak rate in (0, 1].
    #[arg(long, default_value_t = 1.0)]
    leak: f64,
    /// Scale of the ±1 input weights.
    #[arg(long, default_value_t = 1.0)]
    input_scaling: f64,
    /// Ridge penalty of the readout.
    #[arg(long, default_value_t = 1e-6)]
    ridge: f64,
    /// Training rows, warm-up included (NARMA10).
    #[arg(long, default_value_t = 2_000)]
    train: usize,
    /// Test rows (NARMA10).
    #[arg(long, default_value_t = 1_000)]
    test: usize,
    /// Warm-up rows whose states the readout ignores (NARMA10, Mackey–Glass).
    #[arg(long, default_value_t = 100)]
    warmup: usize,
    /// Series length (Mackey–Glass; memory capacity uses 10·k_max with k_max = 2·units).
    #[arg(long, default_value_t = 2_000)]
    length: usize,
    /// Prediction horizon (Mackey–Glass).
    #[arg(long, default_value_t = 1)]
    horizon: usize,
    /// Seeds 0..N, each a fresh network and data set; one line per seed.
    #[arg(long, default_value_t = 1)]
    seeds: u64,
}

/// Builds, drives, fits and scores one network per seed; prints one JSON line per seed with the
/// score and the seconds spent building the network (weights, spectral radius), running it and
/// fitting and applying the readout (data generation excluded).
pub fn esn(args: EsnArgs) -> anyhow::Result<()> {
    let ridge = Ridge::new(args.ridge)?;
    for seed in 0..args.seeds {
        let mut rng = stream_rng(seed, 1);
        let (task, metric) = match args.task.as_str() {
            "narma10" | "narma10-classic" => {
                let variant = if args.task == "narma10" {
                    Narma::Reservoirpy
                } else {
                    Narma::Classic
                };
                let task = Task::narma(variant, args.train, args.test, args.warmup, &mut rng)?;
                (task, "nrmse")
            }
            "memory-capacity" => {
                let k_max = 2 * args.units;
                (
                    Task::memory_capacity(k_max, 10 * k_max, 0.2, &mut rng)?,
                    "memory_capacity",
                )
            }
            "mackey-glass" => {
                let series = MackeyGlass::default().generate(args.length, &mut rng)?;
                (
                    Task::forecast(&series, args.horizon, 0.2, args.warmup)?,
                    "nrmse",
                )
            }
            other => bail!(
                "unknown task `{other}`; valid: narma10, narma10-classic, memory-capacity, \
                 mackey-glass"
            ),
        };
        let start = Instant::now();
        let mut network = EsnParams {
            units: args.units,
            spectral_radius: args.spectral_radius,
            leak: args.leak,
            input_scaling: args.input_scaling,
            seed,
            ..EsnParams::default()
        }
        .build()?;
        let built = start.elapsed().as_secs_f64();
        let score = task.evaluate(&mut network, ridge)?;
        let seconds = start.elapsed().as_secs_f64();
        out!(
            "{{\"task\": \"{}\", \"seed\": {seed}, \"{metric}\": {score}, \"seconds\": {seconds}, \
             \"build_seconds\": {built}}}",
            args.task
        );
    }
    Ok(())
}
