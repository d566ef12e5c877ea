//! `choicelab solve --method robust` (robust value iteration against a ball around the file's
//! model), `--method cvar` (stock-augmented distributional DP for CVaR_α of the return) and
//! `--method bidding` (a campaign's budget-constrained bidding value table).

use std::time::Instant;

use anyhow::{bail, Context};
use choicelab_core::TabularMdp;
use choicelab_envs::CampaignInfo;
use choicelab_mdp::bidding::{BidLandscape, BiddingDp};
use choicelab_mdp::distributional::{
    exact_return_law, return_range, Atoms, Objective, Outcomes, Rollout, StockAugmented, StockGrid,
};
use choicelab_mdp::{Nature, RobustValueIteration, Stopping};

use crate::output::out;
use crate::progress::{spinner, ResidualSpinner};
use crate::solve::{write_policy_values, write_rows, SolveArgs};

/// Parses `l1:R` or `kl:R` into a nature.
fn parse_nature(spec: &str) -> anyhow::Result<Nature> {
    let (kind, radius) = spec
        .split_once(':')
        .with_context(|| format!("--nature `{spec}`: expected l1:RADIUS or kl:RADIUS"))?;
    let radius: f64 = radius
        .trim()
        .parse()
        .with_context(|| format!("--nature `{spec}`: the radius is not a number"))?;
    match kind.trim() {
        "l1" => Ok(Nature::L1 { radius }),
        "kl" => Ok(Nature::Kl { radius }),
        other => bail!("--nature `{spec}`: unknown ball `{other}` (expected l1 or kl)"),
    }
}

/// Robust value iteration: V(s) = max_a [r(s,a) + γ min_{p ∈ ball(p̂)} pᵀV].
pub fn solve_robust(args: &SolveArgs, mdp: &TabularMdp, quiet: bool) -> anyhow::Result<()> {
    let gamma = args
        .gamma
        .context("--gamma is required for --method robust")?;
    let spec = args
        .nature
        .as_deref()
        .context("--nature l1:RADIUS or kl:RADIUS is required for --method robust")?;
    let nature = parse_nature(spec)?;
    let stopping = args.stopping();
    let mut observer = ResidualSpinner {
        bar: spinner(quiet),
    };
    let start = Instant::now();
    let result = RobustValueIteration::new(gamma, nature)
        .epsilon(args.epsilon)
        .solve_with(mdp, &stopping, &mut observer);
    let seconds = start.elapsed().as_secs_f64();
    observer.bar.finish_and_clear();
    let solution = result?;
    out!("method: robust value iteration, nature {spec}");
    out!("gamma: {gamma}");
    out!("epsilon: {:e}", args.epsilon);
    out!("iterations: {}", solution.iterations);
    out!("time: {seconds:.6} s");
    if let Some(path) = &args.out {
        write_policy_values(path, &solution)?;
    }
    Ok(())
}

/// CVaR_α of the return from `--start`, by stock-augmented distributional DP: exact on the
/// integer lattice when γ = 1, every reward is an integer and the lattice has fewer than
/// `--atoms` points, else on `--atoms` atoms.
pub fn solve_cvar(args: &SolveArgs, mdp: &TabularMdp) -> anyhow::Result<()> {
    let alpha = args
        .alpha
        .context("--alpha is required for --method cvar")?;
    let gamma = args.gamma.unwrap_or(1.0);
    let horizon = args.horizon;
    let (low, high) = return_range(mdp, gamma, horizon)?;
    let outcomes = Outcomes::new(mdp);
    let integer = (0..mdp.n_states()).all(|s| {
        outcomes
            .feasible(s)
            .all(|a| outcomes.of(s, a).iter().all(|o| o.reward.fract() == 0.0))
    });
    // A lattice finer than --atoms would be slow (the stock grid is twice as long).
    let lattice = gamma == 1.0 && integer && high - low < args.atoms as f64;
    let atoms = if lattice {
        Atoms::lattice(low, high, 1.0)?
    } else {
        Atoms::covering(mdp, gamma, horizon, args.atoms)?
    };
    // Every Rockafellar–Uryasev level b ∈ [low, high] starts at c₀ = −b and moves by the
    // partial returns, so the stocks that matter lie in [low − high, high − low].
    let span = high - low;
    let step = if lattice { 1.0 } else { atoms.step() };
    let stock = StockGrid::new(-span, span, step)?;
    let planner = StockAugmented::new(
        gamma,
        horizon,
        atoms.clone(),
        stock.clone(),
        Objective::Cvar { alpha },
    );
    let start_time = Instant::now();
    let stopping: Stopping = args.stopping();
    let solution = planner.solve_with(mdp, &stopping, &mut choicelab_mdp::Silent)?;
    let seconds = start_time.elapsed().as_secs_f64();
    let best = solution.evaluate(args.start)?;
    out!("method: stock-augmented distributional DP, CVaR_{alpha}");
    out!("gamma: {gamma}");
    match horizon {
        Some(h) => out!("horizon: {h}"),
        None => out!("horizon: infinite"),
    }
    out!(
        "atoms: {} on [{}, {}]{}",
        atoms.len(),
        atoms.lo(),
        atoms.hi(),
        if lattice {
            " (integer lattice: exact)"
        } else {
            ""
        }
    );
    out!(
        "stock grid: {} points on [{}, {}]",
        stock.len(),
        stock.lo(),
        stock.hi()
    );
    out!("start: {}", args.start);
    out!("cvar (DP on the atoms): {}", best.value);
    out!(
        "initial stock: {} (Rockafellar–Uryasev level b = {})",
        best.initial_stock,
        -best.initial_stock
    );
    // The policy's own law, enumerated exactly, says what it attains whatever the atoms' error.
    let exact = match horizon {
        Some(horizon) => exact_return_law(
            mdp,
            &solution,
            &Rollout {
                start: args.start,
                initial_stock: best.initial_stock,
                gamma,
                horizon,
            },
            10_000_000,
        )
        .ok(),
        None => None,
    };
    if let Some(law) = &exact {
        let mean: f64 = law.iter().map(|(g, p)| g * p).sum();
        out!(
            "cvar (the policy's exact law): {}",
            Objective::Cvar { alpha }.of_sorted_law(law)
        );
        out!("mean (the policy's exact law): {mean}");
    }
    if solution.clipped_backups > 0 {
        out!(
            "clipped stock backups: {} (stocks near the grid's ends left it; values from \
             those stocks are approximate)",
            solution.clipped_backups
        );
    }
    out!("time: {seconds:.6} s");
    if let Some(path) = &args.out {
        let law = match exact {
            Some(law) => law,
            None => {
                let law = solution.law(args.start, best.initial_stock);
                (0..atoms.len())
                    .filter(|&j| law[j] > 0.0)
                    .map(|j| (atoms.atom(j), law[j]))
                    .collect()
            }
        };
        write_rows(path, |w| {
            writeln!(w, "return,probability")?;
            for (g, p) in &law {
                writeln!(w, "{g:?},{p:?}")?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

/// The bidding value table V(n, b), n < N, b ≤ B, of a campaign's `info.json`: prints the
/// budget, the time, the compact size, V(N−1, B) and Σ V(n, b) over the dense table (a checksum
/// for comparisons); `--out` writes `n,value_at_budget` rows.
pub fn solve_bidding(args: &SolveArgs) -> anyhow::Result<()> {
    let path = args
        .file
        .as_ref()
        .context("--method bidding needs a campaign's info.json")?;
    let c0 = args.c0.context("--c0 is required for --method bidding")?;
    if !(c0 > 0.0 && c0.is_finite()) {
        bail!("--c0 {c0}: the budget share must be positive");
    }
    let auctions = args.horizon.unwrap_or(1000);
    let info = CampaignInfo::from_json_path(path)?;
    let budget = info.budget(c0, auctions);
    let landscape = BidLandscape::from_counts(&info.price_counter_train, 1.0)?;
    let dp = BiddingDp::clicks(auctions, budget, info.theta_avg());
    let start = Instant::now();
    let table = dp.solve(&landscape)?;
    let seconds = start.elapsed().as_secs_f64();
    let checksum: f64 = (0..table.rows())
        .map(|n| (0..=budget).map(|b| table.value(n, b)).sum::<f64>())
        .sum();
    out!(
        "method: budget-constrained bidding DP (clicks), campaign {}",
        path.display()
    );
    out!("auctions: {auctions}");
    out!("budget: {budget} (c0 = {c0})");
    out!("theta_avg: {}", info.theta_avg());
    out!(
        "stored: {} of {} entries (early exit)",
        table.stored(),
        table.rows() * (budget + 1)
    );
    out!(
        "value: V({}, {budget}) = {:?}",
        auctions - 1,
        table.value(auctions - 1, budget)
    );
    out!("checksum: {checksum:?}");
    out!("time: {seconds:.6} s");
    if let Some(path) = &args.out {
        write_rows(path, |w| {
            writeln!(w, "n,value_at_budget")?;
            for n in 0..table.rows() {
                writeln!(w, "{n},{:?}", table.value(n, budget))?;
            }
            Ok(())
        })?;
    }
    Ok(())
}
