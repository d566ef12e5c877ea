//! The plain echo-state-network anchors of `reservoir-ei`: memory capacity, NARMA10 and
//! Mackey–Glass with reservoirpy 0.4.2's settings, against the numbers SYSTEMS.md records.

use choicelab_core::{stream_rng, Result};
use choicelab_reservoir::{nrmse, EsnParams, MackeyGlass, Narma, Reservoir, Ridge, Task};
use rayon::prelude::*;

use crate::report::{fmt_number, mean_sd, Report, Table};

/// One anchor: what was run, the per-seed values and the reference range.
struct Anchor {
    key: &'static str,
    what: String,
    values: Vec<f64>,
    range: (f64, f64),
    source: &'static str,
}

/// Mackey–Glass: the one-step RMSE (not normalised, as reservoirpy's README reports it) and
/// NRMSE, and the NRMSE of direct `horizon`-step prediction.
fn mg_scores(net: &mut dyn Reservoir, seed: u64, horizon: usize) -> Result<(f64, f64, f64)> {
    let series = MackeyGlass::default().generate(2_000 + horizon, &mut stream_rng(seed, 3))?;
    let one = Task::forecast(&series[..2_001], 1, 0.2, 100)?;
    let ridge = Ridge::new(1e-5)?;
    let predicted = one.predict(net, ridge)?;
    let test = one
        .targets()
        .slice(one.targets().len() - one.test_len(), one.targets().len());
    let rmse = (predicted
        .data()
        .iter()
        .zip(test.data())
        .map(|(p, y)| (p - y).powi(2))
        .sum::<f64>()
        / test.len() as f64)
        .sqrt();
    let nrmse = nrmse(predicted.data(), test.data());
    let multi = Task::forecast(&series, horizon, 0.2, 100)?.evaluate(net, ridge)?;
    Ok((rmse, nrmse, multi))
}

/// Runs the anchors over `seeds` seeds (base `seed`) and adds a table and metrics to `report`;
/// returns whether every mean lies in its reference range.
pub(crate) fn run_anchors(
    report: &mut Report,
    seeds: usize,
    seed: u64,
    mg_horizon: usize,
) -> Result<bool> {
    let per_seed: Vec<Result<[f64; 6]>> = (0..seeds as u64)
        .into_par_iter()
        .map(|s| {
            let seed = seed + s;
            let base = EsnParams {
                spectral_radius: 0.9,
                seed,
                ..EsnParams::default()
            };
            let mut mc_net = EsnParams {
                input_scaling: 0.1,
                ..base.clone()
            }
            .build()?;
            let mc = Task::memory_capacity(200, 2_000, 0.2, &mut stream_rng(seed, 0))?
                .evaluate(&mut mc_net, Ridge::new(1e-8)?)?;
            let mut narma_net = EsnParams {
                units: 200,
                ..base.clone()
            }
            .build()?;
            let mut narma = |variant: Narma| -> Result<f64> {
                Task::narma(variant, 2_000, 1_000, 100, &mut stream_rng(seed, 1))?
                    .evaluate(&mut narma_net, Ridge::new(1e-6)?)
            };
            let (shifted, classic) = (narma(Narma::Reservoirpy)?, narma(Narma::Classic)?);
            let mut mg_net = EsnParams {
                spectral_radius: 1.25,
                leak: 0.3,
                ..base
            }
            .build()?;
            let (rmse, nrmse, multi) = mg_scores(&mut mg_net, seed, mg_horizon)?;
            Ok([mc, shifted, classic, rmse, nrmse, multi])
        })
        .collect();
    let per_seed = per_seed.into_iter().collect::<Result<Vec<_>>>()?;
    let column = |i: usize| per_seed.iter().map(|v| v[i]).collect::<Vec<_>>();
    let anchors = [
        Anchor {
            key: "mc",
            what: "memory capacity, 100 units, sr 0.9, input scaling 0.1, ridge 1e-8, k_max 200, \
                   series 2,000, last 20% test"
                .into(),
            values: column(0),
            range: (27.0, 32.0),
            source:
                "reservoirpy 0.4.2: 31.8 / 31.7 / 27.5 over three seeds (SYSTEMS.md); seeds 0–7 \
                     measured with its memory_capacity: 27.5–33.7, mean 30.8",
        },
        Anchor {
            key: "narma10_reservoirpy_nrmse",
            what:
                "NARMA10, reservoirpy's shifted recursion, 200 units, sr 0.9, leak 1, ridge 1e-6, \
                   2,000 train (warm-up 100) / 1,000 test; NRMSE = RMSE/std"
                    .into(),
            values: column(1),
            range: (0.24, 0.28),
            source: "reservoirpy 0.4.2: 0.24 to 0.28",
        },
        Anchor {
            key: "narma10_classic_nrmse",
            what: "NARMA10, classic recursion, same network and split (no reference number)".into(),
            values: column(2),
            range: (f64::NAN, f64::NAN),
            source: "—",
        },
        Anchor {
            key: "mg_one_step_rmse",
            what: "Mackey–Glass τ = 17 one step ahead, 100 units, sr 1.25, leak 0.3, ridge 1e-5, \
                   2,000 steps, last 20% test, warm-up 100; RMSE (not normalised)"
                .into(),
            values: column(3),
            range: (0.0019, 0.0026),
            source: "reservoirpy 0.4.2: 0.0019 to 0.0026 (README 0.0020282)",
        },
        Anchor {
            key: "mg_one_step_nrmse",
            what: "the same, NRMSE = RMSE/std".into(),
            values: column(4),
            range: (f64::NAN, f64::NAN),
            source: "—",
        },
        Anchor {
            key: "mg_multi_step_nrmse",
            what: format!(
                "Mackey–Glass, direct {mg_horizon}-step prediction (a readout trained on x(t + \
                 {mg_horizon}), not a closed loop), same network; NRMSE = RMSE/std"
            ),
            values: column(5),
            range: (f64::NAN, f64::NAN),
            source: "—",
        },
    ];
    let mut table = Table::new(
        format!("Plain echo-state-network anchors ({seeds} seeds)"),
        &[
            "anchor",
            "setting",
            "mean",
            "sd",
            "per seed",
            "reference",
            "in range",
        ],
    );
    let mut all_in = true;
    for a in &anchors {
        let (mean, sd) = mean_sd(&a.values);
        let checked = !a.range.0.is_nan();
        let inside = mean >= a.range.0 && mean <= a.range.1;
        if checked {
            all_in &= inside;
        }
        report.number(format!("anchor.{}", a.key), mean);
        report.number(format!("anchor.{}_sd", a.key), sd);
        let per: Vec<String> = a.values.iter().map(|v| fmt_number(*v, 4)).collect();
        table.push(vec![
            a.key.into(),
            a.what.clone(),
            fmt_number(mean, 4),
            fmt_number(sd, 4),
            per.join(", "),
            a.source.into(),
            if checked {
                inside.to_string()
            } else {
                "—".into()
            },
        ]);
    }
    report.tables.push(table);
    Ok(all_in)
}
