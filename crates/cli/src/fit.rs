//! `choicelab fit`: estimate utilities from observed choices and print or save them.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use choicelab_choice::{BradleyTerry, FittedUtilities, PlackettLuce};
use choicelab_core::{Comparisons, SetChoices};
use clap::{Args, ValueEnum};
use serde_json::json;

use crate::output::out;

/// A model `fit` can estimate.
#[derive(Clone, Copy, ValueEnum)]
enum Model {
    /// Bradley–Terry on a comparisons CSV (`winner,loser[,count]`, `a,b,winner` or `a,b,p_a`).
    Bt,
    /// Plackett–Luce on JSON lines of rankings (`["a","b","c"]`) or choices
    /// (`{"winner":"a","others":["b","c"]}`).
    Pl,
}

/// Arguments of `choicelab fit`.
#[derive(Args)]
pub struct FitArgs {
    /// The model to fit.
    #[arg(value_enum)]
    model: Model,
    /// The data file.
    data: PathBuf,
    /// Ridge penalty α: the objective is the negative log-likelihood plus α·Σθ² (as choix's).
    #[arg(long, default_value_t = 0.0)]
    alpha: f64,
    /// Write the estimates as JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    out: Option<PathBuf>,
}

/// Runs `choicelab fit`.
pub fn fit(args: FitArgs) -> anyhow::Result<()> {
    let start = Instant::now();
    let (fitted, load_seconds) = match args.model {
        Model::Bt => {
            let data = Comparisons::from_csv_path(&args.data)?;
            let loaded = start.elapsed().as_secs_f64();
            (BradleyTerry::with_alpha(args.alpha).fit(&data)?, loaded)
        }
        Model::Pl => {
            let data = SetChoices::from_jsonl_path(&args.data)?;
            let loaded = start.elapsed().as_secs_f64();
            let model = PlackettLuce {
                alpha: args.alpha,
                ..PlackettLuce::default()
            };
            (model.fit(&data)?, loaded)
        }
    };
    let fit_seconds = start.elapsed().as_secs_f64() - load_seconds;
    out!("time: {fit_seconds:.6} s to fit, {load_seconds:.6} s to load");
    print_table(&fitted, args.alpha)?;
    if let Some(path) = &args.out {
        let text = serde_json::to_string_pretty(&to_json(&fitted, args.alpha))?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn print_table(fitted: &FittedUtilities, alpha: f64) -> anyhow::Result<()> {
    out!("model: {} (alpha {alpha})", fitted.model);
    out!(
        "observations: {}, items: {}",
        fitted.n_obs,
        fitted.items.len()
    );
    out!("log-likelihood: {:.6}", fitted.loglik);
    out!("iterations: {}", fitted.iterations);
    let width = fitted
        .items
        .names()
        .iter()
        .map(|n| n.len())
        .max()
        .unwrap_or(4)
        .max(4);
    out!(
        "{:width$}  {:>12}  {:>12}",
        "item",
        "estimate",
        "std. error"
    );
    for (i, name) in fitted.items.names().iter().enumerate() {
        let se = fitted
            .std_errors
            .as_ref()
            .map_or("—".to_string(), |s| format!("{:.6}", s[i]));
        out!("{name:width$}  {:>12.6}  {se:>12}", fitted.theta[i]);
    }
    Ok(())
}

/// The one JSON shape every `fit` model writes.
fn to_json(fitted: &FittedUtilities, alpha: f64) -> serde_json::Value {
    let parameters: Vec<serde_json::Value> = fitted
        .items
        .names()
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({
                "name": name,
                "estimate": fitted.theta[i],
                "se": fitted.std_errors.as_ref().map(|s| s[i]),
            })
        })
        .collect();
    json!({
        "model": fitted.model,
        "parameters": parameters,
        "loglik": fitted.loglik,
        "n_obs": fitted.n_obs,
        "converged": true,
        "iterations": fitted.iterations,
        "alpha": alpha,
    })
}
