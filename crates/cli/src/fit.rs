//! `choicelab fit`: estimate utilities from observed choices and print or save them.

use std::path::PathBuf;
use std::time::Instant;

use anyhow::Context;
use choicelab_choice::{
    BradleyTerry, ConditionalLogit, FittedLogit, FittedUtilities, LogitSpec, PlackettLuce,
    Thurstonian, Ties,
};
use choicelab_core::{ChoiceSets, Comparisons, SetChoices};
use choicelab_inverse::ddc::{Ccp, CostShape, FittedCcp, FittedDdc, Nfxp, Outer, Panel};
use clap::{Args, ValueEnum};
use serde_json::{json, Value};

use crate::output::out;

/// A model `fit` can estimate.
#[derive(Clone, Copy, ValueEnum)]
enum Model {
    /// Bradley–Terry on a comparisons CSV (`winner,loser[,count]`, `a,b,winner` or `a,b,p_a`).
    Bt,
    /// Plackett–Luce on JSON lines of rankings (`["a","b","c"]`) or choices
    /// (`{"winner":"a","others":["b","c"]}`).
    Pl,
    /// Thurstonian (μ, σ) per item on a comparisons CSV, soft labels welcome.
    Thurstonian,
    /// Conditional logit on a long CSV of choice sets (`obs,alt,chosen[,available],
    /// attribute…`) with the utilities of `--spec`.
    Logit,
    /// Rust's dynamic discrete choice (keep or replace) by NFXP on a panel CSV
    /// (`bus,period,state,replace`).
    Ddc,
}

/// An estimator of dynamic discrete choice.
#[derive(Clone, Copy, ValueEnum)]
enum DdcMethod {
    /// Nested fixed point maximum likelihood (`--outer bhhh|bfgs`, `--full`).
    Nfxp,
    /// Hotz–Miller conditional choice probabilities, with `--npl` NPL iterations.
    Ccp,
}

/// A model for ties in Bradley–Terry data.
#[derive(Clone, Copy, ValueEnum)]
enum TieModel {
    /// Rao–Kupper (1967): a threshold θ > 1 on the strength ratio.
    RaoKupper,
    /// Davidson (1970): ties in proportion ν√(π_iπ_j).
    Davidson,
}

/// Arguments of `choicelab fit`.
#[derive(Args)]
pub struct FitArgs {
    /// The model to fit.
    #[arg(value_enum)]
    model: Model,
    /// The data file.
    data: PathBuf,
    /// Ridge penalty α (bt, pl): the objective is the negative log-likelihood plus α·Σθ², as
    /// in choix.
    #[arg(long, default_value_t = 0.0)]
    alpha: f64,
    /// The utility specification of a logit (TOML, or JSON if it ends in .json).
    #[arg(long, value_name = "FILE")]
    spec: Option<PathBuf>,
    /// Mileage states of a ddc model (every state in the panel is below it).
    #[arg(long, default_value_t = 90)]
    states: usize,
    /// Discount factor β ∈ [0, 1) of a ddc model.
    #[arg(long, default_value_t = 0.9999)]
    beta: f64,
    /// Maintenance-cost shape of a ddc model: linear, quadratic, cubic, sqrt or hyperbolic.
    #[arg(long, default_value = "linear")]
    cost: String,
    /// Estimator of a ddc model: nfxp (nested fixed point) or ccp (Hotz–Miller).
    #[arg(long, value_enum, default_value = "nfxp")]
    method: DdcMethod,
    /// NFXP's outer loop: bhhh (then Newton steps) or bfgs.
    #[arg(long, default_value = "bhhh")]
    outer: String,
    /// NFXP: after the two-step fit, maximise the full likelihood over every parameter
    /// (joint standard errors for θ₃ too).
    #[arg(long)]
    full: bool,
    /// NPL iterations after two-step CCP (`--method ccp`).
    #[arg(long, default_value_t = 0)]
    npl: usize,
    /// Cost scale of a ddc model (Rust's 0.001).
    #[arg(long, default_value_t = 1e-3)]
    cost_scale: f64,
    /// Model ties in bt data: rao-kupper or davidson (default: ties are an error).
    #[arg(long, value_enum)]
    ties: Option<TieModel>,
    /// Write the estimates as JSON to this file.
    #[arg(long, value_name = "FILE.json")]
    out: Option<PathBuf>,
}

/// A fit in the one shape every model reports.
struct Estimates {
    model: &'static str,
    /// (name, estimate, standard error).
    parameters: Vec<(String, f64, Option<f64>)>,
    loglik: f64,
    n_obs: usize,
    iterations: usize,
    /// Model-specific fields added to the JSON.
    extra: Vec<(&'static str, Value)>,
    /// Robust standard errors, printed beside the classical ones when the model has them.
    robust: Option<Vec<f64>>,
    /// Further fit statistics printed under the log-likelihood.
    statistics: Vec<(&'static str, String)>,
}

/// Runs `choicelab fit`.
pub fn fit(args: FitArgs) -> anyhow::Result<()> {
    if args.spec.is_some() && !matches!(args.model, Model::Logit) {
        anyhow::bail!("--spec applies to `fit logit` only");
    }
    let start = Instant::now();
    let (estimates, load_seconds) = match args.model {
        Model::Bt => {
            let data = Comparisons::from_csv_path(&args.data)?;
            let loaded = start.elapsed().as_secs_f64();
            let model = BradleyTerry {
                ties: match args.ties {
                    None => Ties::Reject,
                    Some(TieModel::RaoKupper) => Ties::RaoKupper,
                    Some(TieModel::Davidson) => Ties::Davidson,
                },
                ..BradleyTerry::with_alpha(args.alpha)
            };
            (luce_estimates(model.fit(&data)?, args.alpha), loaded)
        }
        Model::Pl => {
            let data = SetChoices::from_jsonl_path(&args.data)?;
            let loaded = start.elapsed().as_secs_f64();
            let model = PlackettLuce {
                alpha: args.alpha,
                ..PlackettLuce::default()
            };
            (luce_estimates(model.fit(&data)?, args.alpha), loaded)
        }
        Model::Thurstonian => {
            let data = Comparisons::from_csv_path(&args.data)?;
            let loaded = start.elapsed().as_secs_f64();
            let fitted = Thurstonian::default().fit(&data)?;
            let total_weight: f64 = data.records().iter().map(|r| r.weight).sum();
            let names = fitted.items.names();
            let sigma: Vec<Value> = names
                .iter()
                .zip(&fitted.sigma)
                .map(|(name, s)| json!({"name": name, "estimate": s}))
                .collect();
            let estimates = Estimates {
                model: "thurstonian",
                parameters: names
                    .iter()
                    .zip(&fitted.mu)
                    .map(|(name, &m)| (name.clone(), m, None))
                    .collect(),
                loglik: -fitted.loss * total_weight,
                n_obs: data.records().len(),
                iterations: fitted.iterations,
                extra: vec![
                    ("sigma", Value::Array(sigma)),
                    ("cross_entropy", json!(fitted.loss)),
                ],
                robust: None,
                statistics: vec![("cross-entropy", format!("{:.8}", fitted.loss))],
            };
            (estimates, loaded)
        }
        Model::Ddc => {
            let text = std::fs::read_to_string(&args.data)
                .with_context(|| format!("reading {}", args.data.display()))?;
            let panel = Panel::from_csv_str(&text, &args.data.display().to_string(), args.states)?;
            let loaded = start.elapsed().as_secs_f64();
            let cost = CostShape::parse(&args.cost)?;
            let estimates = match args.method {
                DdcMethod::Nfxp => {
                    let mut start_values = vec![4.0];
                    start_values.extend(std::iter::repeat_n(1.0, cost.n_coefficients()));
                    let nfxp = Nfxp {
                        beta: args.beta,
                        cost,
                        scale: args.cost_scale,
                        start: start_values,
                        outer: Outer::parse(&args.outer)?,
                        full_likelihood: args.full,
                        ..Nfxp::default()
                    };
                    nfxp_estimates(nfxp.fit(&panel)?, args.beta)
                }
                DdcMethod::Ccp => {
                    let ccp = Ccp {
                        beta: args.beta,
                        cost,
                        scale: args.cost_scale,
                        npl_iterations: args.npl,
                    };
                    ccp_estimates(ccp.fit(&panel)?, args.beta)
                }
            };
            (estimates, loaded)
        }
        Model::Logit => {
            let spec_path = args
                .spec
                .as_ref()
                .context("`fit logit` needs --spec FILE: the utility of each alternative")?;
            let spec = LogitSpec::from_path(spec_path)?;
            let data = ChoiceSets::from_long_csv_path(&args.data)?;
            let loaded = start.elapsed().as_secs_f64();
            (
                logit_estimates(ConditionalLogit::new(spec).fit(&data)?),
                loaded,
            )
        }
    };
    let fit_seconds = start.elapsed().as_secs_f64() - load_seconds;
    out!("time: {fit_seconds:.6} s to fit, {load_seconds:.6} s to load");
    print_table(&estimates)?;
    if let Some(path) = &args.out {
        let mut json = to_json(&estimates);
        json["fit_seconds"] = json!(fit_seconds);
        json["load_seconds"] = json!(load_seconds);
        let text = serde_json::to_string_pretty(&json)?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

fn luce_estimates(fitted: FittedUtilities, alpha: f64) -> Estimates {
    let parameters = fitted
        .items
        .names()
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let se = fitted.std_errors.as_ref().map(|s| s[i]);
            (name.clone(), fitted.theta[i], se)
        })
        .collect();
    Estimates {
        model: fitted.model,
        parameters,
        loglik: fitted.loglik,
        n_obs: fitted.n_obs,
        iterations: fitted.iterations,
        extra: vec![
            ("alpha", json!(alpha)),
            ("tie_parameter", json!(fitted.tie_parameter)),
        ],
        robust: None,
        statistics: fitted
            .tie_parameter
            .map(|t| vec![("tie parameter", format!("{t:.6}"))])
            .unwrap_or_default(),
    }
}

fn logit_estimates(fitted: FittedLogit) -> Estimates {
    let parameters = (0..fitted.names.len())
        .map(|k| {
            let se = Some(fitted.std_errors[k]);
            (fitted.names[k].clone(), fitted.estimates[k], se)
        })
        .collect();
    let fixed: serde_json::Map<String, Value> = fitted
        .fixed
        .iter()
        .map(|(name, value)| (name.clone(), json!(value)))
        .collect();
    Estimates {
        model: "conditional-logit",
        parameters,
        loglik: fitted.loglik,
        n_obs: fitted.n_obs,
        iterations: fitted.iterations,
        extra: vec![
            ("robust_se", json!(fitted.robust_std_errors)),
            ("fixed", Value::Object(fixed)),
            ("null_loglik", json!(fitted.null_loglik)),
            ("rho_squared", json!(fitted.rho_squared())),
            ("aic", json!(fitted.aic())),
            ("bic", json!(fitted.bic())),
            ("condition_number", json!(fitted.condition_number)),
        ],
        statistics: vec![
            ("null log-likelihood", format!("{:.6}", fitted.null_loglik)),
            ("rho-squared", format!("{:.4}", fitted.rho_squared())),
            (
                "AIC / BIC",
                format!("{:.2} / {:.2}", fitted.aic(), fitted.bic()),
            ),
            (
                "fixed",
                fitted
                    .fixed
                    .iter()
                    .map(|(n, v)| format!("{n} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
        ],
        robust: Some(fitted.robust_std_errors),
    }
}

fn nfxp_estimates(fitted: FittedDdc, beta: f64) -> Estimates {
    let mut parameters: Vec<(String, f64, Option<f64>)> = (0..fitted.names.len())
        .map(|k| {
            (
                fitted.names[k].clone(),
                fitted.estimates[k],
                Some(fitted.std_errors[k]),
            )
        })
        .collect();
    push_increments(&mut parameters, &fitted.increments, &fitted.increments_se);
    Estimates {
        model: "ddc-nfxp",
        parameters,
        loglik: fitted.loglik,
        n_obs: fitted.n_obs,
        iterations: fitted.iterations,
        extra: vec![
            ("beta", json!(beta)),
            ("full_likelihood", json!(fitted.full_likelihood)),
            ("loglik_choice", json!(fitted.loglik_choice)),
            ("loglik_transition", json!(fitted.loglik_transition)),
            ("replace_probability", json!(fitted.replace_probability)),
        ],
        robust: None,
        statistics: vec![
            (
                "choice log-likelihood",
                format!("{:.6}", fitted.loglik_choice),
            ),
            (
                "transition log-likelihood",
                format!("{:.6}", fitted.loglik_transition),
            ),
        ],
    }
}

/// Appends θ₃ as `theta3_0`, `theta3_1`, ….
fn push_increments(
    parameters: &mut Vec<(String, f64, Option<f64>)>,
    probabilities: &[f64],
    std_errors: &[f64],
) {
    for (j, (p, se)) in probabilities.iter().zip(std_errors).enumerate() {
        parameters.push((format!("theta3_{j}"), *p, Some(*se)));
    }
}

fn ccp_estimates(fitted: FittedCcp, beta: f64) -> Estimates {
    let mut parameters: Vec<(String, f64, Option<f64>)> = fitted
        .names
        .iter()
        .zip(fitted.estimates.iter().zip(&fitted.std_errors))
        .map(|(name, (e, se))| (name.clone(), *e, Some(*se)))
        .collect();
    let increments = &fitted.increments;
    push_increments(
        &mut parameters,
        &increments.probabilities,
        &increments.std_errors,
    );
    Estimates {
        model: "ddc-ccp",
        parameters,
        loglik: fitted.loglik_choice + increments.loglik,
        n_obs: fitted.n_obs,
        iterations: fitted.iterations,
        extra: vec![
            ("beta", json!(beta)),
            ("loglik_choice", json!(fitted.loglik_choice)),
            ("loglik_transition", json!(increments.loglik)),
            ("replace_probability", json!(fitted.replace_probability)),
        ],
        robust: None,
        statistics: vec![
            (
                "pseudo choice log-likelihood",
                format!("{:.6}", fitted.loglik_choice),
            ),
            (
                "transition log-likelihood",
                format!("{:.6}", increments.loglik),
            ),
            (
                "note",
                "standard errors ignore the first-stage CCP estimate".to_string(),
            ),
        ],
    }
}

fn print_table(estimates: &Estimates) -> anyhow::Result<()> {
    out!("model: {}", estimates.model);
    out!(
        "observations: {}, parameters: {}",
        estimates.n_obs,
        estimates.parameters.len()
    );
    out!("log-likelihood: {:.6}", estimates.loglik);
    for (label, value) in &estimates.statistics {
        if !value.is_empty() {
            out!("{label}: {value}");
        }
    }
    out!("iterations: {}", estimates.iterations);
    let width = estimates
        .parameters
        .iter()
        .map(|p| p.0.len())
        .max()
        .unwrap_or(4)
        .max(4);
    match &estimates.robust {
        None => out!(
            "{:width$}  {:>12}  {:>12}",
            "name",
            "estimate",
            "std. error"
        ),
        Some(_) => out!(
            "{:width$}  {:>12}  {:>12}  {:>9}  {:>12}  {:>9}",
            "name",
            "estimate",
            "std. error",
            "t",
            "robust s.e.",
            "robust t"
        ),
    }
    for (k, (name, estimate, se)) in estimates.parameters.iter().enumerate() {
        let se_text = se.map_or("—".to_string(), |s| format!("{s:.6}"));
        match (&estimates.robust, se) {
            (Some(robust), Some(se)) => {
                let r = robust[k];
                out!(
                    "{name:width$}  {estimate:>12.6}  {se_text:>12}  {:>9.3}  {r:>12.6}  {:>9.3}",
                    estimate / se,
                    estimate / r
                );
            }
            _ => out!("{name:width$}  {estimate:>12.6}  {se_text:>12}"),
        }
    }
    Ok(())
}

/// The one JSON shape every `fit` model writes.
fn to_json(estimates: &Estimates) -> Value {
    let parameters: Vec<Value> = estimates
        .parameters
        .iter()
        .map(|(name, estimate, se)| json!({"name": name, "estimate": estimate, "se": se}))
        .collect();
    let mut object = json!({
        "model": estimates.model,
        "parameters": parameters,
        "loglik": estimates.loglik,
        "n_obs": estimates.n_obs,
        "converged": true,
        "iterations": estimates.iterations,
    });
    if let Value::Object(map) = &mut object {
        for (key, value) in &estimates.extra {
            map.insert(key.to_string(), value.clone());
        }
    }
    object
}
