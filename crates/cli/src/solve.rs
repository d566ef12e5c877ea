//! `choicelab solve`: plan in a tabular MDP read from a file.

use std::io::Write;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use choicelab_core::{random_sparse_mdp, TabularMdp};
use choicelab_mdp::{FiniteHorizon, Method, Solution, Stopping};
use clap::Args;

use crate::output::out;
use crate::progress::{spinner, ResidualSpinner};

/// Arguments of `choicelab solve`.
#[derive(Args)]
pub struct SolveArgs {
    /// MDP file: craam long-format CSV (`idstatefrom,idaction,idstateto,probability,reward`)
    /// or the JSON form (`.json`).
    #[arg(required_unless_present = "random")]
    file: Option<PathBuf>,
    /// Solve a seeded random sparse MDP instead of a file: S,A,K (states, actions, successors).
    #[arg(long, value_name = "S,A,K", conflicts_with = "file")]
    random: Option<String>,
    /// Seed of --random.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Discount factor (not used by rvi; up to 1 for finite).
    #[arg(long)]
    gamma: Option<f64>,
    /// vi (Jacobi value iteration), gs (Gauss–Seidel), pi (policy iteration), mpi (modified
    /// policy iteration), rvi (relative value iteration, average reward), finite (backward
    /// induction over --horizon stages).
    #[arg(long, default_value = "vi")]
    method: String,
    /// Number of stages for --method finite.
    #[arg(long)]
    horizon: Option<usize>,
    /// Accuracy: sup-norm error of the values (vi, gs, mpi), span of the change (rvi).
    #[arg(long, default_value_t = 1e-6)]
    epsilon: f64,
    /// Most iterations before reporting non-convergence.
    #[arg(long, default_value_t = 1_000_000)]
    max_iterations: usize,
    /// Wall-clock limit in seconds before reporting non-convergence.
    #[arg(long)]
    time_limit: Option<f64>,
    /// Write `state,action,value` rows (finite: `stage,state,action,value`) to this CSV file.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `choicelab solve`.
pub fn solve(args: SolveArgs, quiet: bool) -> anyhow::Result<()> {
    let load_start = Instant::now();
    let (mdp, name) = load(&args)?;
    out!(
        "model: {name} ({} states, {} actions, {} transitions), loaded in {:.3} s",
        mdp.n_states(),
        mdp.n_actions(),
        mdp.nnz(),
        load_start.elapsed().as_secs_f64()
    );
    if args.method == "finite" {
        return solve_finite(&args, &mdp);
    }
    let method: Method = args.method.parse()?;
    let gamma = match (method.is_discounted(), args.gamma) {
        (true, Some(g)) => g,
        (true, None) => bail!("--gamma is required for --method {method}"),
        (false, _) => 1.0,
    };
    let stopping = Stopping {
        max_iterations: args.max_iterations,
        time_limit: args.time_limit.map(Duration::from_secs_f64),
    };
    let mut observer = ResidualSpinner {
        bar: spinner(quiet),
    };
    let start = Instant::now();
    let result = method.solve(&mdp, gamma, args.epsilon, &stopping, &mut observer);
    let elapsed = start.elapsed().as_secs_f64();
    observer.bar.finish_and_clear();
    let solution = result?;
    print_summary(&solution, gamma, args.epsilon, elapsed)?;
    if let Some(out) = &args.out {
        write_rows(out, |w| {
            writeln!(w, "state,action,value")?;
            for (s, (a, v)) in solution.policy.iter().zip(&solution.values).enumerate() {
                writeln!(w, "{s},{a},{v:?}")?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn load(args: &SolveArgs) -> anyhow::Result<(TabularMdp, String)> {
    if let Some(spec) = &args.random {
        let parts: Vec<usize> = spec
            .split(',')
            .map(|p| p.trim().parse::<usize>())
            .collect::<Result<_, _>>()
            .with_context(|| format!("--random `{spec}`: expected S,A,K as integers"))?;
        let [states, actions, successors] = parts[..] else {
            bail!("--random `{spec}`: expected three numbers S,A,K");
        };
        let mdp = random_sparse_mdp(states, actions, successors, args.seed)?;
        return Ok((
            mdp,
            format!(
                "random S={states} A={actions} K={successors} seed={}",
                args.seed
            ),
        ));
    }
    let path = args
        .file
        .as_ref()
        .context("an MDP file or --random is required")?;
    Ok((TabularMdp::from_path(path)?, path.display().to_string()))
}

fn print_summary(
    solution: &Solution,
    gamma: f64,
    epsilon: f64,
    seconds: f64,
) -> anyhow::Result<()> {
    out!("method: {}", solution.method);
    if solution.gain.is_none() {
        out!("gamma: {gamma}");
    }
    out!("epsilon: {epsilon:e}");
    out!("iterations: {}", solution.iterations);
    out!("residual: {:e}", solution.residual);
    if let Some(gain) = solution.gain {
        out!("gain: {gain}");
    }
    out!(
        "time: {seconds:.6} s ({:.6} ms per iteration)",
        1e3 * seconds / solution.iterations.max(1) as f64
    );
    Ok(())
}

fn solve_finite(args: &SolveArgs, mdp: &TabularMdp) -> anyhow::Result<()> {
    let horizon = args
        .horizon
        .context("--horizon is required for --method finite")?;
    let gamma = args.gamma.unwrap_or(1.0);
    let start = Instant::now();
    let solution = FiniteHorizon::new(gamma, horizon).solve(mdp)?;
    let seconds = start.elapsed().as_secs_f64();
    out!("method: finite-horizon backward induction");
    out!("gamma: {gamma}");
    out!("horizon: {horizon}");
    out!("time: {seconds:.6} s");
    if let Some(out) = &args.out {
        write_rows(out, |w| {
            writeln!(w, "stage,state,action,value")?;
            for (t, (policy, values)) in solution.policy.iter().zip(&solution.values).enumerate() {
                for (s, (a, v)) in policy.iter().zip(values).enumerate() {
                    writeln!(w, "{t},{s},{a},{v:?}")?;
                }
            }
            Ok(())
        })?;
    }
    Ok(())
}

fn write_rows(
    path: &PathBuf,
    rows: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("{}", path.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    rows(&mut writer)
        .and_then(|()| writer.flush())
        .with_context(|| format!("writing {}", path.display()))
}
