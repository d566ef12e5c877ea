r"""Cross-check choicelab's `dynamical-bandits` study against the reference semantics.

An independent numpy re-implementation of the dynamical linear bandit of Mussi, Metelli &
Restelli (ICML 2023) and of the reference code's (marcomussi/DLB, MIT) DynLin-UCB and LinUCB
agents, run side by side with `choicelab run dynamical-bandits` at the same horizon and
number of trials. It checks whether choicelab's regret numbers match what the reference's
semantics give (seeds differ, so agreement is within noise, not bit for bit).

Semantics (the reference's):

* x_0 = 0; each step y_t = 1ᵀ(C x_t + D u_t + v_t), then x_{t+1} = A x_t + B u_t + w_t, with
  v and w Gaussian of standard deviation σ per component; the reward is y_t.
* Arms: greedy budget fills over every priority order, unique rows sorted (np.unique axis=0).
* Regret: Σ_t (max_u h·u − h·u_t) with h = 1ᵀ(D + C(I − A)⁻¹B).
* dynlin_ucb (λ = 1), dynlin_ucb_log (λ = ln T): hold an arm over epochs of
  1 + ⌊ln m / ln(1/ρ̄)⌋ steps (the first one a step longer), regress only each epoch's last
  reward, pick ĥ·u + β_t‖u‖_{V⁻¹} with β_t = c₁√λ + (c₂/√λ)ln(e(t+1)) + √(2σ̄²(ln T +
  (d/2)ln(1 + t·u_max²/(dλ)))).
* linucb_log: the same width without the c₂ term, λ = ln T, re-chosen and updated every step.
* linucb: λ = 1, constant β = θ√λ + σ√(2 ln T + d ln((dλ + T g²)/(dλ))), g the daily budget.

All trials of one agent advance together (arrays over trials), with the same pre-drawn noise
for every agent of a configuration (common random numbers, as the reference does).

Run from the repository root:

    python3 bench/compare_dlb.py --horizon 200000 --trials 3
    python3 bench/compare_dlb.py --horizon 1000000 --trials 2 \
        --configs testcase_synt_sigma0dot1 --agents dynlin_ucb linucb_log

Options: --configs (file stems under <data>/dlb/), --agents (numpy agents to run), --data
(the data folder, default /work/shared/data), --choicelab (the binary; `none` skips it),
--out (choicelab's report folders), --seed.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CONFIGS = [
    "testcase_synt_sigma0dot001",
    "testcase_synt_sigma0dot01",
    "testcase_synt_sigma0dot1",
    "testcase_realdata",
]
AGENTS = ["dynlin_ucb", "dynlin_ucb_log", "linucb", "linucb_log"]
PHI_POWERS = 999


@dataclass
class System:
    """A dynamical linear bandit and the constants the agents' widths use."""

    a: np.ndarray
    b: np.ndarray
    c: np.ndarray
    d: np.ndarray
    sigma: float
    budget: float
    arms: np.ndarray
    gain: np.ndarray
    rho_bar: float
    omega: float
    theta: float
    b_norm: float
    u_max: float
    phi: float

    @property
    def values(self) -> np.ndarray:
        """Return the steady-state value h·u of each arm."""
        return self.arms @ self.gain


def make_arms(p: int, total: float, hi: float, lo: float) -> np.ndarray:
    """Fill the budget greedily in every priority order; return the unique fills, sorted."""
    rows = []
    for order in itertools.permutations(range(p)):
        u = np.full(p, lo)
        left = total - p * lo
        for i in order:
            delta = min(left, hi - u[i])
            u[i] += delta
            left -= delta
        rows.append(u)
    return np.unique(np.array(rows), axis=0)


def transient_bound(a: np.ndarray) -> float:
    """Return Φ = max over i = 1..999 of ‖Aⁱ‖₂/ρ(A)ⁱ, as ‖(A/ρ)ⁱ‖₂ to avoid underflow."""
    rho = float(np.abs(np.linalg.eigvals(a)).max())
    scaled = a / rho
    power = scaled.copy()
    best = 0.0
    for _ in range(PHI_POWERS):
        best = max(best, float(np.linalg.norm(power, 2)))
        power = power @ scaled
    return best


def load_system(path: Path) -> System:
    """Read a dlb/*.json configuration and derive the arms, the gain and the constants."""
    cfg = json.loads(path.read_text())
    a, b, c, d = (np.array(cfg[k], dtype=float) for k in ("A", "B", "C", "D"))
    n, p = a.shape[0], b.shape[1]
    arms = make_arms(p, cfg["max_daily_budget"], cfg["max_camp_budget"], cfg["min_camp_budget"])
    gain = (d + c @ np.linalg.inv(np.eye(n) - a) @ b).sum(axis=0)
    # The reference takes max(eigvals(A)) (largest real part) and then its modulus.
    eig = np.linalg.eigvals(a)
    rho_bar = float(abs(eig[np.argmax(eig.real)]))
    return System(
        a=a,
        b=b,
        c=c,
        d=d,
        sigma=float(cfg["noise_sigma"]),
        budget=float(cfg["max_daily_budget"]),
        arms=arms,
        gain=gain,
        rho_bar=rho_bar,
        omega=float(np.linalg.norm(c.sum(axis=0))),
        theta=float(np.linalg.norm(d.sum(axis=0))),
        b_norm=float(np.linalg.norm(b, 2)),
        u_max=float(np.linalg.norm(arms, axis=1).max()),
        phi=transient_bound(a),
    )


@dataclass
class AgentSpec:
    """One learner as schedules and a width: when it re-chooses, when it regresses, β_t."""

    lam: float
    choose: np.ndarray
    estimate: np.ndarray
    beta: np.ndarray


def epoch_ends(rho_bar: float, horizon: int) -> np.ndarray:
    """Return the reference's t_estimate, the cumulative epoch lengths 1 + ⌊ln m / ln(1/ρ̄)⌋."""
    if rho_bar < 1e-6:
        return np.arange(horizon)
    ends, total, m = [], 0, 0
    while total < horizon:
        m += 1
        total += 1 + math.floor(math.log(m) / math.log(1.0 / rho_bar))
        ends.append(total)
    return np.array(ends)


def mask(steps: np.ndarray, horizon: int) -> np.ndarray:
    """Return a boolean array over 0..horizon−1, true at the given steps."""
    out = np.zeros(horizon, dtype=bool)
    out[steps[steps < horizon]] = True
    return out


def growing_width(sys_: System, lam: float, horizon: int, drift: bool) -> np.ndarray:
    """Return β_t of DynLin-UCB (drift=True, with the c₂ term) or of LinUCB-log, every t."""
    r = sys_.rho_bar
    d = sys_.arms.shape[1]
    c1 = sys_.theta + sys_.omega * sys_.b_norm * sys_.phi / (1 - r)
    x_val = sys_.u_max / (1 - r)
    c2 = sys_.u_max * sys_.omega * sys_.phi * (sys_.u_max * sys_.b_norm / (1 - r) + x_val)
    sigma_bar_sq = sys_.sigma**2 * (1 + sys_.omega**2 * sys_.phi**2 / (1 - r**2))
    t = np.arange(horizon, dtype=float)
    growth = np.log1p(t * sys_.u_max**2 / (d * lam))
    beta = c1 * math.sqrt(lam) + np.sqrt(2 * sigma_bar_sq * (math.log(horizon) + d / 2 * growth))
    if drift:
        beta = beta + c2 / math.sqrt(lam) * np.log(math.e * (t + 1))
    return beta


def agent_spec(name: str, sys_: System, horizon: int) -> AgentSpec:
    """Configure agent `name` on `sys_` at horizon T as the reference does."""
    log_t = math.log(horizon)
    every = np.ones(horizon, dtype=bool)
    after_first = every.copy()
    after_first[0] = False
    if name in ("dynlin_ucb", "dynlin_ucb_log"):
        lam = 1.0 if name == "dynlin_ucb" else log_t
        ends = epoch_ends(sys_.rho_bar, horizon)
        return AgentSpec(
            lam=lam,
            choose=mask(ends + 1, horizon),
            estimate=mask(ends, horizon),
            beta=growing_width(sys_, lam, horizon, drift=True),
        )
    if name == "linucb_log":
        return AgentSpec(
            lam=log_t,
            choose=after_first,
            estimate=every,
            beta=growing_width(sys_, log_t, horizon, drift=False),
        )
    if name == "linucb":
        lam, d, g = 1.0, sys_.arms.shape[1], sys_.budget
        beta = sys_.theta * math.sqrt(lam) + sys_.sigma * math.sqrt(
            2 * log_t + d * math.log((d * lam + horizon * g * g) / (d * lam))
        )
        return AgentSpec(lam=lam, choose=after_first, estimate=every, beta=np.full(horizon, beta))
    raise ValueError(f"unknown agent {name}")


@dataclass
class Noise:
    """Pre-drawn noise for all trials: state noise w (K, T, n), summed output noise (K, T)."""

    state: np.ndarray
    output: np.ndarray


def draw_noise(sys_: System, horizon: int, trials: int, seed: int) -> Noise:
    """Draw Gaussian state and output noise of standard deviation σ for all trials."""
    rng = np.random.default_rng(seed)
    n, m = sys_.a.shape[0], sys_.c.shape[0]
    state = rng.normal(0.0, sys_.sigma, (trials, horizon, n))
    output = rng.normal(0.0, sys_.sigma, (trials, horizon, m)).sum(axis=2)
    return Noise(state=state, output=output)


@dataclass
class Outcome:
    """Per-trial regret, share of steps on the best arm and the final estimate ĥ."""

    regret: np.ndarray
    best_share: np.ndarray
    estimate: np.ndarray


def simulate(sys_: System, spec: AgentSpec, noise: Noise, rng: np.random.Generator) -> Outcome:
    """Run one agent on all trials at once; return its regret per trial."""
    arms = sys_.arms
    k, p = arms.shape
    trials, horizon, _ = noise.state.shape
    values = sys_.values
    gaps = values.max() - values
    best = int(np.argmax(values))
    c_row = sys_.c.sum(axis=0)
    a_t = sys_.a.T
    arm_input = arms @ sys_.b.T  # B u per arm
    arm_direct = arms @ sys_.d.sum(axis=0)  # 1ᵀD u per arm
    outer = np.einsum("ki,kj->kij", arms, arms)
    outer_flat = outer.reshape(k, p * p)

    v_mat = np.tile(spec.lam * np.eye(p), (trials, 1, 1))
    b_vec = np.zeros((trials, p))
    h_hat = np.zeros((trials, p))
    quad = np.tile(outer_flat @ np.eye(p).ravel() / spec.lam, (trials, 1))
    x = np.zeros((trials, sys_.a.shape[0]))
    lanes = np.arange(trials)
    idx = np.zeros(trials, dtype=int)
    plays = np.zeros((trials, k))
    held_since = 0

    for t in range(horizon):
        if t == 0 or spec.choose[t]:
            plays[lanes, idx] += t - held_since
            held_since = t
            if t == 0:
                idx = rng.integers(k, size=trials)
            else:
                score = h_hat @ arms.T + spec.beta[t] * np.sqrt(np.maximum(quad, 0.0))
                idx = np.argmax(score, axis=1)
        y = x @ c_row + arm_direct[idx] + noise.output[:, t]
        x = x @ a_t + arm_input[idx] + noise.state[:, t]
        if spec.estimate[t]:
            v_mat += outer[idx]
            b_vec += arms[idx] * y[:, None]
            v_inv = np.linalg.inv(v_mat)
            h_hat = np.einsum("kij,kj->ki", v_inv, b_vec)
            quad = v_inv.reshape(trials, p * p) @ outer_flat.T
    plays[lanes, idx] += horizon - held_since
    return Outcome(
        regret=plays @ gaps,
        best_share=plays[:, best] / horizon,
        estimate=h_hat,
    )


def mean_se(x: np.ndarray) -> tuple[float, float]:
    """Return the mean and std/√n (population std, as choicelab and the reference use)."""
    x = np.asarray(x, dtype=float)
    return float(x.mean()), float(x.std() / math.sqrt(len(x)))


def run_choicelab(binary: str, stem: str, args: argparse.Namespace) -> dict:
    """Run choicelab's study on one configuration; return its metrics.json."""
    out = Path(args.out) / f"{stem}-T{args.horizon}-n{args.trials}"
    cmd = [
        binary,
        "run",
        "dynamical-bandits",
        "--quiet",
        "--set",
        f"horizon={args.horizon}",
        "--set",
        f"trials={args.trials}",
        "--set",
        f"configurations={json.dumps([stem])}",
        "--data",
        args.data,
        "--out",
        str(out),
    ]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return json.loads((out / "metrics.json").read_text())


def fmt(mean: float, se: float) -> str:
    """Format `mean ± se` with one decimal."""
    return f"{mean:11.1f} ± {se:8.1f}"


def main() -> int:
    """Parse arguments, run numpy and choicelab per configuration, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--horizon", type=int, default=200_000)
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--configs", nargs="+", default=CONFIGS)
    parser.add_argument("--agents", nargs="+", default=AGENTS, choices=AGENTS)
    parser.add_argument("--data", default="/work/shared/data")
    parser.add_argument("--choicelab", default="target/release/choicelab")
    parser.add_argument("--out", default="/tmp/dlbcmp")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    rows, diag = [], []
    for c_i, stem in enumerate(args.configs):
        sys_ = load_system(Path(args.data) / "dlb" / f"{stem}.json")
        print(
            f"{stem}: arms {len(sys_.arms)}, h = {np.round(sys_.gain, 4)}, "
            f"best h·u = {sys_.values.max():.4f}, ρ̄ = {sys_.rho_bar:.4f}, "
            f"Φ = {sys_.phi:.4f}, θ = {sys_.theta:.4f}, ω = {sys_.omega:.4f}, "
            f"b = {sys_.b_norm:.4f}, σ = {sys_.sigma}",
            flush=True,
        )
        noise = draw_noise(sys_, args.horizon, args.trials, args.seed + 1000 * c_i)
        ours = {}
        for a_i, name in enumerate(args.agents):
            spec = agent_spec(name, sys_, args.horizon)
            rng = np.random.default_rng([args.seed, c_i, a_i])
            start = time.perf_counter()
            ours[name] = simulate(sys_, spec, noise, rng)
            took = time.perf_counter() - start
            print(
                f"  numpy {name:15s} β_0..T = {spec.beta[1]:.3f}..{spec.beta[-1]:.3f}, "
                f"regret {fmt(*mean_se(ours[name].regret))} ({took:.1f} s)",
                flush=True,
            )
            diag.append(
                (
                    stem,
                    name,
                    float(ours[name].best_share.mean()),
                    np.round(ours[name].estimate.mean(axis=0), 4),
                )
            )
        theirs = {}
        if args.choicelab != "none":
            start = time.perf_counter()
            theirs = run_choicelab(args.choicelab, stem, args)
            print(f"  choicelab ran in {time.perf_counter() - start:.1f} s", flush=True)
            got = theirs.get(f"{stem}.best_value")
            if got is not None and abs(got - sys_.values.max()) > 1e-6:
                print(f"  WARNING: choicelab best value {got} vs numpy {sys_.values.max()}")
        for name in args.agents:
            ours_mean, ours_se = mean_se(ours[name].regret)
            key = f"{stem}.{name}.regret"
            if key in theirs:
                cl_mean, cl_se = theirs[key], theirs[f"{key}_se"]
                ratio = ours_mean / cl_mean if cl_mean else float("nan")
                spread = math.hypot(ours_se, cl_se)
                z = (ours_mean - cl_mean) / spread if spread else float("nan")
                rows.append((stem, name, fmt(ours_mean, ours_se), fmt(cl_mean, cl_se), ratio, z))
            else:
                rows.append(
                    (stem, name, fmt(ours_mean, ours_se), "n/a", float("nan"), float("nan"))
                )

    print(f"\nCumulative regret at T = {args.horizon}, {args.trials} trials (mean ± std/√n)")
    header = (
        f"{'configuration':28s} {'policy':15s} {'numpy':>22s} {'choicelab':>22s} "
        f"{'ratio':>6s} {'z':>6s}"
    )
    print(header)
    print("-" * len(header))
    for stem, name, ours_txt, cl_txt, ratio, z in rows:
        print(f"{stem:28s} {name:15s} {ours_txt:>22s} {cl_txt:>22s} {ratio:6.3f} {z:6.2f}")

    print("\nnumpy diagnostics: share of steps on the best arm, final ĥ (mean over trials)")
    for stem, name, share, est in diag:
        print(f"{stem:28s} {name:15s} {share:6.3f}  ĥ = {est}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
