//! `reservoir-ei`: reservoirs that obey Dale's law, globally tuned across the excitation /
//! inhibition balance, against reservoirs whose neurons adapt their own inhibition toward target
//! firing rates (Srinivasan, Plenz & Girvan 2025), on memory capacity, NARMA10 and Mackey–Glass.

use choicelab_core::{stream_rng, Error, Result, Seed};
use choicelab_reservoir::{
    Activation, DaleParams, DaleReservoir, MackeyGlass, Narma, Ridge, Series, TargetRates, Task,
};
use rand::RngExt;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::config::{to_toml, StudyConfig};
use crate::registry::{Progress, RunOptions, Study};
use crate::report::Report;
use crate::reservoir_anchors::run_anchors;
use crate::reservoir_summary::summarise;

/// The E/I-balance reservoir study.
pub struct ReservoirEi;

/// Configuration of `reservoir-ei`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Neurons per reservoir (f_E = 0.8; k_E = k_I = 50 inputs per neuron).
    pub units: usize,
    /// Seeds per grid point (reservoir weights and task data).
    pub seeds: usize,
    /// Base seed.
    pub seed: Seed,
    /// Global balances β (total inhibitory / excitatory weight onto a neuron) swept.
    pub balances: Vec<f64>,
    /// Input weight widths σ_in swept with every balance and every target rate.
    pub input_scalings: Vec<f64>,
    /// Mean target rates swept for the adaptive reservoirs.
    pub target_means: Vec<f64>,
    /// Concentration κ of the heterogeneous targets Beta(κm, κ(1 − m)) (κ = 4, m = 0.5 is
    /// Beta(2, 2)).
    pub hetero_concentration: f64,
    /// The balance adaptive reservoirs start from.
    pub initial_balance: f64,
    /// Adaptation steps at δ = 1e-2, then at δ = 1e-3 (driven by an independent draw of the
    /// task's input).
    pub adaptation_steps: [usize; 2],
    /// Ridge penalty of every readout.
    pub ridge: f64,
    /// NARMA10 (classic recursion): training rows (warm-up included), test rows, warm-up.
    pub narma: [usize; 3],
    /// Mackey–Glass (τ = 17, scaled to [−1, 1]): series length and prediction horizon.
    pub mackey_glass: [usize; 2],
    /// Seeds of the plain-ESN anchors (0 skips them).
    pub anchor_seeds: usize,
}

impl StudyConfig for Config {
    fn paper() -> Self {
        Config {
            units: 400,
            seeds: 3,
            seed: 1,
            balances: vec![0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0, 3.0, 4.0],
            input_scalings: vec![0.1, 0.3, 1.0],
            target_means: vec![0.25, 0.35, 0.5],
            hetero_concentration: 4.0,
            initial_balance: 1.0,
            adaptation_steps: [2_000, 2_000],
            ridge: 1e-6,
            narma: [2_000, 1_000, 100],
            mackey_glass: [2_000, 10],
            anchor_seeds: 5,
        }
    }
    fn quick() -> Self {
        Config {
            units: 250,
            seeds: 2,
            balances: vec![0.5, 1.0, 1.5, 2.0, 4.0],
            input_scalings: vec![0.3],
            target_means: vec![0.35],
            adaptation_steps: [1_000, 1_000],
            anchor_seeds: 1,
            ..Self::paper()
        }
    }
}

const CLAIM: &str = "Srinivasan, Plenz & Girvan (arXiv 2504.12480, 2025), Boosting Reservoir \
Computing with Brain-inspired Adaptive Dynamics: reservoirs of sigmoid rate neurons that obey \
Dale's law perform best in balanced or slightly over-inhibited regimes and worst when excitation \
dominates; a local homeostatic rule that tunes each neuron's inhibition toward a target firing \
rate improves over the best globally tuned reservoir (by up to 130%), and heterogeneous target \
rates reduce the sensitivity to hyperparameters, on linear and non-linear tasks. Here: balanced \
means β ∈ [0.75, 1.25], slightly over-inhibited β ∈ (1.25, 2], excitation-dominated β < 0.75; \
improvement is (adaptive − global)/global for memory capacity and (global − adaptive)/global for \
NRMSE; sensitivity is the range of the seed-mean score across an arm's hyperparameter grid over \
its best score. Constants come from a third-party re-implementation and are unverified.";

/// The benchmark tasks, in report order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Memory capacity (higher is better).
    Mc,
    /// NARMA10, classic recursion (NRMSE, lower is better).
    Narma,
    /// Mackey–Glass direct h-step prediction (NRMSE).
    Mg,
}

impl Kind {
    pub(crate) const ALL: [Kind; 3] = [Kind::Mc, Kind::Narma, Kind::Mg];

    /// Metric prefix.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Kind::Mc => "mc",
            Kind::Narma => "narma10",
            Kind::Mg => "mg",
        }
    }

    /// Whether a larger score is better.
    pub(crate) fn higher_is_better(self) -> bool {
        self == Kind::Mc
    }
}

/// The adaptive arms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arm {
    /// Iterative rule, one shared target ρ.
    Adaptive,
    /// Iterative rule, targets Beta(κm, κ(1 − m)).
    AdaptiveHetero,
    /// One-shot Ω design, shared target.
    OneShot,
    /// One-shot Ω design, heterogeneous targets.
    OneShotHetero,
}

impl Arm {
    pub(crate) const ALL: [Arm; 4] = [
        Arm::Adaptive,
        Arm::AdaptiveHetero,
        Arm::OneShot,
        Arm::OneShotHetero,
    ];

    /// Metric name.
    pub(crate) fn key(self) -> &'static str {
        match self {
            Arm::Adaptive => "adaptive",
            Arm::AdaptiveHetero => "adaptive_hetero",
            Arm::OneShot => "one_shot",
            Arm::OneShotHetero => "one_shot_hetero",
        }
    }

    fn hetero(self) -> bool {
        matches!(self, Arm::AdaptiveHetero | Arm::OneShotHetero)
    }
}

/// One seed's data: the evaluation task and an independent adaptation input, per kind.
struct SeedData {
    tasks: Vec<Task>,
    adaptation: Vec<Series>,
}

/// Scales `xs` onto [−1, 1] by its own minimum and maximum.
fn unit_range(xs: &mut [f64]) {
    let (lo, hi) = xs
        .iter()
        .fold((f64::MAX, f64::MIN), |(lo, hi), &x| (lo.min(x), hi.max(x)));
    let span = (hi - lo).max(f64::MIN_POSITIVE);
    xs.iter_mut()
        .for_each(|x| *x = 2.0 * (*x - lo) / span - 1.0);
}

fn seed_data(config: &Config, seed: Seed) -> Result<SeedData> {
    let k_max = 2 * config.units;
    let [train, test, warmup] = config.narma;
    let [mg_len, horizon] = config.mackey_glass;
    let mg = |stream: u64| -> Result<Vec<f64>> {
        let mut xs =
            MackeyGlass::default().generate(mg_len + horizon, &mut stream_rng(seed, stream))?;
        unit_range(&mut xs);
        Ok(xs)
    };
    let tasks = vec![
        Task::memory_capacity(k_max, 10 * k_max, 0.2, &mut stream_rng(seed, 0))?,
        Task::narma(
            Narma::Classic,
            train,
            test,
            warmup,
            &mut stream_rng(seed, 1),
        )?,
        Task::forecast(&mg(2)?, horizon, 0.2, 100)?,
    ];
    let steps = config.adaptation_steps[0] + config.adaptation_steps[1];
    let mut mc_rng = stream_rng(seed, 10);
    let adaptation = vec![
        Series::scalar((0..steps).map(|_| mc_rng.random_range(-0.8..0.8)).collect()),
        Series::scalar(Narma::Classic.generate(steps, &mut stream_rng(seed, 11)).0),
        Series::scalar(mg(12)?),
    ];
    Ok(SeedData { tasks, adaptation })
}

/// The seed of grid replicate `s`.
fn replicate_seed(base: Seed, s: usize) -> Seed {
    base.wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(s as u64)
}

/// Scores of every kind for one reservoir configuration and seed.
pub(crate) type Scores = [f64; 3];

/// What one adaptive cell measured besides its scores.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AdaptStats {
    /// Fraction of inhibitory synapses at 0 after adaptation (mean over tasks).
    pub at_zero: f64,
    /// Clip events of the iterative rule, or neurons whose Ω was clipped to 0 (sum over tasks).
    pub clips: f64,
    /// Mean |time-averaged rate − target| in the last phase (mean over tasks).
    pub rate_error: f64,
    /// Realised balance after adaptation (mean over tasks).
    pub balance: f64,
}

/// One adaptive arm's results: scores[target mean][scaling][seed] with statistics.
pub(crate) type ArmGrid = Vec<Vec<Vec<(Scores, AdaptStats)>>>;

/// Every measurement of the study.
pub(crate) struct Grid {
    /// Global tuning: scores[balance][scaling][seed].
    pub global: Vec<Vec<Vec<Scores>>>,
    /// Adaptive arms: scores[arm][target mean][scaling][seed] and their statistics.
    pub adaptive: Vec<ArmGrid>,
}

fn params(config: &Config, balance: f64, scaling: f64, seed: Seed) -> DaleParams {
    DaleParams {
        units: config.units,
        balance,
        input_scaling: scaling,
        seed,
        ..DaleParams::default()
    }
}

fn global_cell(config: &Config, data: &SeedData, p: &DaleParams) -> Result<Scores> {
    let ridge = Ridge::new(config.ridge)?;
    let mut scores = [0.0; 3];
    for (k, task) in data.tasks.iter().enumerate() {
        let mut reservoir = p.build()?;
        scores[k] = task.evaluate(&mut reservoir, ridge)?;
    }
    Ok(scores)
}

fn adaptive_cell(
    config: &Config,
    data: &SeedData,
    arm: Arm,
    mean: f64,
    p: &DaleParams,
) -> Result<(Scores, AdaptStats)> {
    let ridge = Ridge::new(config.ridge)?;
    let targets = if arm.hetero() {
        TargetRates::Beta {
            mean,
            concentration: config.hetero_concentration,
        }
    } else {
        TargetRates::Homogeneous(mean)
    }
    .draw(config.units, Activation::Sigmoid, p.seed ^ 0xA5A5)?;
    let [fast, slow] = config.adaptation_steps;
    let mut scores = [0.0; 3];
    let mut stats = AdaptStats::default();
    for (k, (task, drive)) in data.tasks.iter().zip(&data.adaptation).enumerate() {
        let mut reservoir: DaleReservoir = p.build()?;
        match arm {
            Arm::Adaptive | Arm::AdaptiveHetero => {
                let log = reservoir.adapt(drive, &targets, &[(1e-2, fast), (1e-3, slow)])?;
                stats.at_zero += log.synapses_at_zero as f64 / log.synapses as f64 / 3.0;
                stats.clips += log.clip_events as f64;
                stats.rate_error += log.rate_error / 3.0;
            }
            Arm::OneShot | Arm::OneShotHetero => {
                let u_bar = drive.data().iter().sum::<f64>() / drive.len() as f64;
                stats.clips += reservoir.design_one_shot(&targets, &[u_bar])? as f64;
                let zero = reservoir
                    .inhibitory()
                    .values()
                    .iter()
                    .filter(|w| **w == 0.0);
                stats.at_zero += zero.count() as f64 / reservoir.inhibitory().nnz() as f64 / 3.0;
            }
        }
        stats.balance += reservoir.balance() / 3.0;
        scores[k] = task.evaluate(&mut reservoir, ridge)?;
    }
    Ok((scores, stats))
}

fn check(config: &Config) -> Result<()> {
    let positive = |xs: &[f64]| !xs.is_empty() && xs.iter().all(|x| *x >= 0.0 && x.is_finite());
    if config.seeds == 0 || !positive(&config.balances) || !positive(&config.input_scalings) {
        return Err(Error::parameter(
            "balances",
            "need seeds ≥ 1 and non-empty lists of finite balances and input scalings ≥ 0",
        ));
    }
    if config.target_means.is_empty() || config.target_means.iter().any(|m| !(*m > 0.0 && *m < 1.0))
    {
        return Err(Error::parameter(
            "target_means",
            format!(
                "target rates must lie inside the sigmoid's range (0, 1), got {:?}",
                config.target_means
            ),
        ));
    }
    // Checks one reservoir's parameters to surface bad sizes (units, populations) early.
    params(config, config.initial_balance, config.input_scalings[0], 0).check()
}

/// Runs both sweeps; cells run in parallel, each with its own seeds, so the bits do not depend
/// on the thread count.
pub(crate) fn sweep(config: &Config, progress: &mut dyn Progress) -> Result<Grid> {
    check(config)?;
    progress.stage("reservoir-ei: task data");
    let data: Vec<SeedData> = (0..config.seeds)
        .into_par_iter()
        .map(|s| seed_data(config, replicate_seed(config.seed, s) ^ 0x5EED))
        .collect::<Result<_>>()?;
    let (nb, ns, nr) = (
        config.balances.len(),
        config.input_scalings.len(),
        config.seeds,
    );
    progress.stage("reservoir-ei: global balance sweep");
    let global: Vec<Scores> = (0..nb * ns * nr)
        .into_par_iter()
        .map(|cell| {
            let (b, rest) = (cell / (ns * nr), cell % (ns * nr));
            let (s, r) = (rest / nr, rest % nr);
            let p = params(
                config,
                config.balances[b],
                config.input_scalings[s],
                replicate_seed(config.seed, r),
            );
            global_cell(config, &data[r], &p)
        })
        .collect::<Result<_>>()?;
    progress.stage("reservoir-ei: adaptive reservoirs");
    let (na, nm) = (Arm::ALL.len(), config.target_means.len());
    let adaptive: Vec<(Scores, AdaptStats)> = (0..na * nm * ns * nr)
        .into_par_iter()
        .map(|cell| {
            let (a, rest) = (cell / (nm * ns * nr), cell % (nm * ns * nr));
            let (m, rest) = (rest / (ns * nr), rest % (ns * nr));
            let (s, r) = (rest / nr, rest % nr);
            let p = params(
                config,
                config.initial_balance,
                config.input_scalings[s],
                replicate_seed(config.seed, r),
            );
            adaptive_cell(config, &data[r], Arm::ALL[a], config.target_means[m], &p)
        })
        .collect::<Result<_>>()?;
    let global = global
        .chunks(ns * nr)
        .map(|b| b.chunks(nr).map(<[Scores]>::to_vec).collect())
        .collect();
    let adaptive = adaptive
        .chunks(nm * ns * nr)
        .map(|a| {
            a.chunks(ns * nr)
                .map(|m| m.chunks(nr).map(<[_]>::to_vec).collect())
                .collect()
        })
        .collect();
    Ok(Grid { global, adaptive })
}

impl Study for ReservoirEi {
    fn name(&self) -> &'static str {
        "reservoir-ei"
    }

    fn description(&self) -> &'static str {
        "Dale's-law reservoirs across the E/I balance against self-adapting inhibition"
    }

    fn run(&self, options: &RunOptions, progress: &mut dyn Progress) -> Result<Report> {
        let config: Config = options.config.resolve()?;
        let mut report = Report::new(
            self.name(),
            "Reservoirs with self-adapting excitation/inhibition balance",
            CLAIM,
            to_toml(&config)?,
        );
        let anchors_ok = if config.anchor_seeds > 0 {
            progress.stage("reservoir-ei: plain ESN anchors");
            Some(run_anchors(
                &mut report,
                config.anchor_seeds,
                config.seed,
                config.mackey_glass[1],
            )?)
        } else {
            None
        };
        let grid = sweep(&config, progress)?;
        summarise(&mut report, &config, &grid, anchors_ok)?;
        Ok(report)
    }
}
