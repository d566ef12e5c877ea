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
use crate::solve_beyond::{solve_bidding, solve_cvar, solve_robust};

/// Arguments of `choicelab solve`.
#[derive(Args)]
pub struct SolveArgs {
    /// MDP file: craam long-format CSV (`idstatefrom,idaction,idstateto,probability,reward`)
    /// or the JSON form (`.json`); for --method bidding, a campaign's `<campaign>.info.json`.
    #[arg(required_unless_present = "random")]
    pub(crate) file: Option<PathBuf>,
    /// Solve a seeded random sparse MDP instead of a file: S,A,K (states, actions, successors).
    #[arg(long, value_name = "S,A,K", conflicts_with = "file")]
    random: Option<String>,
    /// Seed of --random.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Discount factor (not used by rvi; up to 1 for finite and cvar, where it defaults to 1).
    #[arg(long)]
    pub(crate) gamma: Option<f64>,
    /// vi (Jacobi value iteration), gs (Gauss–Seidel), pi (policy iteration), mpi (modified
    /// policy iteration), rvi (relative value iteration, average reward), finite (backward
    /// induction over --horizon stages), robust (robust value iteration against --nature),
    /// cvar (CVaR_--alpha of the return by stock-augmented distributional DP), bidding (the
    /// budget-constrained bidding value table V(n, b) of a campaign, N = --horizon auctions,
    /// budget share --c0).
    #[arg(long, default_value = "vi")]
    method: String,
    /// Number of stages for --method finite; decisions per episode for --method cvar (needed
    /// when γ = 1).
    #[arg(long)]
    pub(crate) horizon: Option<usize>,
    /// The adversary's ball for --method robust: l1:RADIUS or kl:RADIUS around each row.
    #[arg(long, value_name = "BALL:RADIUS")]
    pub(crate) nature: Option<String>,
    /// CVaR tail level α ∈ (0, 1] for --method cvar (α = 1 is the mean).
    #[arg(long)]
    pub(crate) alpha: Option<f64>,
    /// Start state whose return --method cvar optimises.
    #[arg(long, default_value_t = 0)]
    pub(crate) start: usize,
    /// Budget share c₀ of --method bidding: B = ⌊CPM_train · c₀ · N⌋.
    #[arg(long)]
    pub(crate) c0: Option<f64>,
    /// Atoms of the return laws for --method cvar when returns are not on the integer lattice.
    #[arg(long, default_value_t = 401)]
    pub(crate) atoms: usize,
    /// Accuracy: sup-norm error of the values (vi, gs, mpi), span of the change (rvi).
    #[arg(long, default_value_t = 1e-6)]
    pub(crate) epsilon: f64,
    /// Most iterations before reporting non-convergence.
    #[arg(long, default_value_t = 1_000_000)]
    max_iterations: usize,
    /// Wall-clock limit in seconds before reporting non-convergence.
    #[arg(long)]
    time_limit: Option<f64>,
    /// Write `state,action,value` rows (finite: `stage,state,action,value`; cvar: the optimal
    /// policy's `return,probability` law from --start) to this CSV file.
    #[arg(long)]
    pub(crate) out: Option<PathBuf>,
}

impl SolveArgs {
    /// The stopping rule of --max-iterations and --time-limit.
    pub(crate) fn stopping(&self) -> Stopping {
        Stopping {
            max_iterations: self.max_iterations,
            time_limit: self.time_limit.map(Duration::from_secs_f64),
        }
    }
}

/// Runs `choicelab solve`.
pub fn solve(args: SolveArgs, quiet: bool) -> anyhow::Result<()> {
    if args.method == "bidding" {
        return solve_bidding(&args);
    }
    let load_start = Instant::now();
    let (mdp, name) = load(&args)?;
    out!(
        "model: {name} ({} states, {} actions, {} transitions), loaded in {:.3} s",
        mdp.n_states(),
        mdp.n_actions(),
        mdp.nnz(),
        load_start.elapsed().as_secs_f64()
    );
    match args.method.as_str() {
        "finite" => return solve_finite(&args, &mdp),
        "robust" => return solve_robust(&args, &mdp, quiet),
        "cvar" => return solve_cvar(&args, &mdp),
        _ => {}
    }
    let method: Method = args.method.parse()?;
    let gamma = match (method.is_discounted(), args.gamma) {
        (true, Some(g)) => g,
        (true, None) => bail!("--gamma is required for --method {method}"),
        (false, _) => 1.0,
    };
    let stopping = args.stopping();
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
        write_policy_values(out, &solution)?;
    }
    Ok(())
}

/// Writes a stationary solution as `state,action,value` rows.
pub(crate) fn write_policy_values(path: &PathBuf, solution: &Solution) -> anyhow::Result<()> {
    write_rows(path, |w| {
        writeln!(w, "state,action,value")?;
        for (s, (a, v)) in solution.policy.iter().zip(&solution.values).enumerate() {
            writeln!(w, "{s},{a},{v:?}")?;
        }
        Ok(())
    })
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

pub(crate) fn write_rows(
    path: &PathBuf,
    rows: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let file = std::fs::File::create(path).with_context(|| format!("{}", path.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    rows(&mut writer)
        .and_then(|()| writer.flush())
        .with_context(|| format!("writing {}", path.display()))
}
