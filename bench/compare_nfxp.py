#!/usr/bin/env python3
"""NFXP on Rust's (1987) bus engines: choicelab against a numpy implementation of it.

    python3 bench/compare_nfxp.py [--data DIR] [--repeats 5] [--binary PATH] [--threads N]
                                  [--tolerance 1e-4] [--no-bhhh]

The first run creates bench/.venv (shared with compare_vi.py) with numpy and scipy from PyPI
and re-executes itself inside it. It builds choicelab in release (unless --binary is given),
reads $CHOICELAB_DATA/bus/a530875.asc (group 4: 37 buses; default ../shared/data beside the
repository, or --data DIR), turns it into a panel of 5,000-mile states and replacements,
writes it as bench/out/bus_g4.csv (`bus,period,state,replace`) and estimates Rust's model
(90 states, β = 0.9999, c(x) = 0.001·θ₁₁·x, start (RC, θ₁₁) = (4, 1)):

- with `choicelab fit ddc bus_g4.csv --states 90 --beta 0.9999 --outer bhhh|bfgs`,
  --repeats times each; it keeps the least `fit_seconds` of the JSON (reading the CSV
  excluded) and the least wall time of the whole process;
- in numpy, --repeats times, as ruspy (OpenSourceEconomics/ruspy) does it: θ₃ from the
  usage counts, then scipy.optimize.minimize(method="BFGS", jac=True, scipy's default
  gtol 1e-5) on the choice likelihood, whose every evaluation solves EV = T(EV) by contraction (warm-started from the
  last EV) then Newton–Kantorovich, and differentiates through the fixed point, (I − T′)⁻¹
  ∂T/∂θ; then the same evaluation under BHHH with step halving, choicelab's outer method
  (unless --no-bhhh). The whole estimation is timed, from the panel's arrays on.

It prints the estimates side by side, iterations, times and the ratios numpy / choicelab fit
and numpy / choicelab process, each numpy method against choicelab's same outer method, and exits 1 if choicelab fails or if RC or θ₁₁ differ by more
than --tolerance (1e-4) or the log-likelihoods by more than 1e-3. The speed ratio (target
≥ 20×) is reported, never checked.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

# Shared with compare_vi.py (imported, not changed): paths, the venv test and the build.
from compare_vi import (
    OUT,
    ROOT,
    build_choicelab,
    ensure_venv_and_reexec,
    in_venv,
    time_choicelab_fit,
)

REQUIREMENTS = ["numpy", "scipy"]
N_STATES, BETA, SCALE, BIN_MILES, START = 90, 0.9999, 1e-3, 5000.0, (4.0, 1.0)
HEADER, ROWS_PER_BUS = 11, 128  # a530875.asc: 11 header rows and 117 months per bus
SWITCH_TOL, MAX_CONTRACTIONS, FIXP_TOL, MAX_NEWTON = 1e-2, 50, 1e-12, 30


def parse_args():
    p = argparse.ArgumentParser(description="Compare choicelab's NFXP with a numpy NFXP.")
    p.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("CHOICELAB_DATA", ROOT.parent / "shared" / "data")),
        help="folder holding bus/a530875.asc (default $CHOICELAB_DATA or ../shared/data "
        "beside the repository)",
    )
    p.add_argument("--repeats", type=int, default=5, help="runs of each side (default 5)")
    p.add_argument(
        "--binary",
        type=Path,
        help="choicelab binary to run (default: build target/release/choicelab)",
    )
    p.add_argument("--threads", type=int, help="choicelab worker threads (default: one per core)")
    p.add_argument(
        "--tolerance",
        type=float,
        default=1e-4,
        help="largest accepted |Δ| in RC and θ₁₁ (default 1e-4; |ΔLL| must be ≤ 1e-3)",
    )
    p.add_argument("--no-bhhh", action="store_true", help="skip the numpy BHHH variant")
    args = p.parse_args()
    if args.repeats < 1:
        p.error("--repeats must be at least 1")
    return args


# --------------------------------------------------------------------------------------------
# The data


def read_group4(np, data_dir: Path):
    """(bus ids, states, replacements) of group 4, each month of each bus, bus after bus."""
    path = data_dir / "bus" / "a530875.asc"
    if not path.exists():
        sys.exit(f"error: {path} not found (set --data or $CHOICELAB_DATA)")
    values = np.loadtxt(path, ndmin=1)
    if values.size % ROWS_PER_BUS:
        sys.exit(f"error: {values.size} values in {path} are not whole buses of {ROWS_PER_BUS}")
    table = values.reshape(-1, ROWS_PER_BUS)
    states = np.zeros((table.shape[0], ROWS_PER_BUS - HEADER), dtype=np.int64)
    replace = np.zeros_like(states)
    for b, column in enumerate(table):
        odometer, marks = column[HEADER:], (column[5], column[8])  # odo_1 and odo_2
        done = 0  # replacements so far: the reset switches the month after one
        for t, odo in enumerate(odometer):
            reset = 0.0 if done == 0 else marks[done - 1]
            states[b, t] = int(np.floor((odo - reset) / BIN_MILES))
            if t + 1 < len(odometer) and done < 2 and marks[done] != 0:
                if odometer[t + 1] > marks[done]:
                    replace[b, t] = 1
                    done += 1
    if states.min() < 0 or states.max() >= N_STATES:
        sys.exit(f"error: states range over {states.min()}..{states.max()}, not 0..{N_STATES - 1}")
    return table[:, 0].astype(np.int64), states, replace


def write_panel(ids, states, replace, path: Path) -> None:
    with open(path, "w", newline="\n") as f:
        f.write("bus,period,state,replace\n")
        for bus, row_s, row_r in zip(ids.tolist(), states.tolist(), replace.tolist()):
            f.writelines(f"{bus},{t},{s},{r}\n" for t, (s, r) in enumerate(zip(row_s, row_r)))


# --------------------------------------------------------------------------------------------
# numpy NFXP (ruspy's algorithm, choicelab's settings)


class Nfxp:
    """The choice likelihood of (RC, θ₁₁) with its gradient and BHHH matrix, by the implicit
    function theorem; EV is warm-started from the last evaluation, as ruspy's get_ev shares it
    between the likelihood and its derivative."""

    def __init__(self, np, states, replace):
        self.np = np
        # Usage of month t ≥ 1: the state increase, from 0 after a replacement.
        before = np.where(replace[:, :-1] == 1, 0, states[:, :-1])
        usage = (states[:, 1:] - before).ravel()
        if usage.min() < 0:
            raise ValueError("a state falls without a replacement")
        counts = np.bincount(usage)
        self.theta3 = counts / counts.sum()
        seen = counts > 0
        self.loglik_transition = float(counts[seen] @ np.log(self.theta3[seen]))
        # Keep transitions, the top state absorbing.
        n = N_STATES
        rows = np.repeat(np.arange(n), len(self.theta3))
        cols = np.minimum(rows + np.tile(np.arange(len(self.theta3)), n), n - 1)
        self.P = np.zeros((n, n))
        np.add.at(self.P, (rows, cols), np.tile(self.theta3, n))
        # Choices of months t ≥ 1 by state: keeps and replacements.
        x, d = states[:, 1:].ravel(), replace[:, 1:].ravel()
        self.keeps = np.bincount(x[d == 0], minlength=n).astype(float)
        self.replacements = np.bincount(x[d == 1], minlength=n).astype(float)
        self.n_obs = x.size
        self.grid = np.arange(n, dtype=float)
        self.eye = np.eye(n)
        self.ev = np.zeros(n)
        self.contractions = self.newton = self.evaluations = 0

    def values(self, theta, ev):
        """v_keep(x), v_replace, the log-sum and P(replace | x) at EV."""
        np = self.np
        costs = SCALE * theta[1] * self.grid
        v_keep = -costs + BETA * ev
        v_replace = -theta[0] - costs[0] + BETA * ev[0]
        top = np.maximum(v_keep, v_replace)
        a, b = np.exp(v_keep - top), np.exp(v_replace - top)
        return v_keep, v_replace, top + np.log(a + b), b / (a + b)

    def fixed_point(self, theta):
        """EV = T(EV): contraction until a step changes EV by < 1e-2, then NK steps."""
        np, P, ev = self.np, self.P, self.ev
        for _ in range(MAX_CONTRACTIONS):
            following = P @ self.values(theta, ev)[2]
            self.contractions += 1
            change = np.abs(following - ev).max()
            ev = following
            if change < SWITCH_TOL:
                break
        for _ in range(MAX_NEWTON + 1):
            v_keep, v_replace, log_sum, p_replace = self.values(theta, ev)
            residual = np.abs(ev - P @ log_sum).max()
            if not np.isfinite(residual):
                raise FloatingPointError(f"EV residual {residual} at {theta}")
            t_prime = BETA * P * (1.0 - p_replace)  # β·P·diag(p_keep) …
            t_prime[:, 0] += BETA * (P @ p_replace)  # … + β·(P·p_replace)·e₀ᵀ
            jacobian = self.eye - t_prime
            if residual < FIXP_TOL * max(1.0, np.abs(ev).max()):
                self.ev = ev
                return v_keep, v_replace, p_replace, jacobian
            ev = ev - np.linalg.solve(jacobian, ev - P @ log_sum)
            self.newton += 1
        raise FloatingPointError(f"Newton–Kantorovich did not converge at {theta}")

    def evaluate(self, theta):
        """(log-likelihood, gradient, BHHH matrix) of the choices at θ = (RC, θ₁₁)."""
        np = self.np
        self.evaluations += 1
        v_keep, v_replace, p_replace, jacobian = self.fixed_point(theta)
        p_keep = 1.0 - p_replace
        # ∂v/∂θ holding EV fixed: columns RC, θ₁₁.
        d_keep = np.column_stack([np.zeros_like(self.grid), -SCALE * self.grid])
        d_replace = np.array([-1.0, -SCALE * self.grid[0]])
        d_t = self.P @ (p_keep[:, None] * d_keep + p_replace[:, None] * d_replace)
        d_ev = np.linalg.solve(jacobian, d_t)
        d_gap = d_keep - d_replace + BETA * (d_ev - d_ev[0])
        gap = v_keep - v_replace
        log_keep, log_replace = -np.logaddexp(0.0, -gap), -np.logaddexp(0.0, gap)
        loglik = float(self.keeps @ log_keep + self.replacements @ log_replace)
        weight = self.keeps * p_replace - self.replacements * p_keep
        gradient = weight @ d_gap
        square = self.keeps * p_replace**2 + self.replacements * p_keep**2
        bhhh = (d_gap * square[:, None]).T @ d_gap
        return loglik, gradient, bhhh

    def fit_bfgs(self, optimize):
        def negative(theta):
            loglik, gradient, _ = self.evaluate(theta)
            return -loglik, -gradient

        result = optimize.minimize(negative, self.np.array(START), jac=True, method="BFGS")
        if not result.success:
            raise RuntimeError(f"BFGS: {result.message}")
        return result.x, -result.fun, result.nit

    def fit_bhhh(self, tolerance=1e-9, max_iterations=500):
        """choicelab's outer loop: BHHH direction, halve the step until the likelihood does
        not fall, stop when gᵀH⁻¹g < tolerance."""
        np = self.np
        theta = np.array(START)
        loglik, gradient, bhhh = self.evaluate(theta)
        for iteration in range(max_iterations):
            direction = np.linalg.solve(bhhh, gradient)
            if direction @ gradient < tolerance:
                return theta, loglik, iteration
            accepted, step = self.ev, 1.0
            while True:
                self.ev = accepted
                candidate = theta + step * direction
                try:
                    trial = self.evaluate(candidate)
                except FloatingPointError:
                    trial = None
                if trial is not None and trial[0] >= loglik - 1e-10 * abs(loglik):
                    theta, (loglik, gradient, bhhh) = candidate, trial
                    break
                if step <= 1e-8:
                    raise RuntimeError(f"BHHH: no ascent at iteration {iteration + 1}")
                step /= 2.0
        raise RuntimeError("BHHH: iteration limit")


def time_numpy(np, optimize, states, replace, method, repeats):
    """Runs the whole estimation `repeats` times; returns (model, estimate, LL, iterations,
    least seconds)."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        model = Nfxp(np, states, replace)
        theta, loglik, iterations = (
            model.fit_bfgs(optimize) if method == "BFGS" else model.fit_bhhh()
        )
        best = min(best, time.perf_counter() - start)
    return model, theta, loglik, iterations, best


# --------------------------------------------------------------------------------------------
# choicelab


# --------------------------------------------------------------------------------------------


def main():
    args = parse_args()
    import numpy as np
    import scipy
    from scipy import optimize

    binary = args.binary.resolve() if args.binary else build_choicelab()
    if not binary.exists():
        sys.exit(f"error: {binary} does not exist")

    ids, states, replace = read_group4(np, args.data)
    OUT.mkdir(parents=True, exist_ok=True)
    panel_csv, json_out = OUT / "bus_g4.csv", OUT / "choicelab_ddc.json"
    write_panel(ids, states, replace, panel_csv)
    print(
        f"wrote {panel_csv.relative_to(ROOT)}: {states.shape[0]} buses × {states.shape[1]} "
        f"months, {int(replace.sum())} replacements",
        flush=True,
    )

    # ---- choicelab, one run per outer method
    choicelab = {}
    for outer in ["BHHH", "BFGS"]:
        fit_args = ["ddc", str(panel_csv), "--states", str(N_STATES), "--beta", repr(BETA),
                    "--outer", outer.lower()]  # fmt: skip
        fitted, fit_seconds, wall_seconds = time_choicelab_fit(
            binary, fit_args, json_out, args.repeats, args.threads
        )
        by_name = {p["name"]: p["estimate"] for p in fitted["parameters"]}
        theta = np.array([by_name.get("rc", np.nan), by_name.get("theta11", np.nan)])
        choicelab[outer] = (theta, fitted, fit_seconds, wall_seconds)
        print(
            f"  {outer}, least of {args.repeats}: {fit_seconds * 1e3:.3f} ms to fit, "
            f"{wall_seconds * 1e3:.1f} ms the whole process; {fitted.get('iterations')} "
            "outer iterations",
            flush=True,
        )
    cl_theta, fitted, cl_fit, cl_wall = choicelab["BHHH"]
    cl_ll, cl_it = fitted["loglik"], fitted.get("iterations")

    # ---- numpy
    print(f"numpy {np.__version__}, scipy {scipy.__version__}: {args.repeats}× each", flush=True)
    runs = {}
    for method in ["BFGS"] + ([] if args.no_bhhh else ["BHHH"]):
        model, theta, loglik, iterations, seconds = time_numpy(
            np, optimize, states, replace, method, args.repeats
        )
        runs[method] = (theta, loglik + model.loglik_transition, loglik, iterations, seconds)
        print(
            f"  {method}: {seconds * 1e3:.1f} ms, {iterations} iterations, "
            f"{model.evaluations} evaluations, {model.contractions} contraction and "
            f"{model.newton} NK steps",
            flush=True,
        )

    # ---- the table
    print()
    print(
        f"Rust's bus group 4: {model.n_obs} observations, {N_STATES} states, β = {BETA}, "
        f"θ₃ = {np.array2string(model.theta3, precision=6)}"
    )
    columns = [f"choicelab {m}" for m in choicelab] + [f"numpy {m}" for m in runs]
    print(f"{'':<22}" + "".join(f"{c:>18}" for c in columns))
    ours = list(choicelab.values())
    rows = [
        ("RC", [c[0][0] for c in ours] + [r[0][0] for r in runs.values()], "18.6f"),
        ("θ₁₁", [c[0][1] for c in ours] + [r[0][1] for r in runs.values()], "18.6f"),
        ("log-likelihood", [c[1]["loglik"] for c in ours] + [r[1] for r in runs.values()],
         "18.6f"),  # fmt: skip
        ("  choice", [c[1].get("loglik_choice") for c in ours] + [r[2] for r in runs.values()],
         "18.6f"),  # fmt: skip
        ("outer iterations", [c[1].get("iterations") for c in ours]
         + [r[3] for r in runs.values()], "18d"),  # fmt: skip
        ("seconds", [c[2] for c in ours] + [r[4] for r in runs.values()], "18.6f"),
    ]
    for label, cells, spec in rows:
        print(f"{label:<22}" + "".join("—".rjust(18) if c is None else format(c, spec)
                                       for c in cells))  # fmt: skip
    print(f"choicelab whole process (start, load, fit): {cl_wall * 1e3:.1f} ms")
    for method, (_, _, _, _, seconds) in runs.items():
        _, _, same_fit, same_wall = choicelab[method]
        for label, denominator in (("fit", same_fit), ("whole process", same_wall)):
            ratio = seconds / denominator if denominator > 0 else float("inf")
            verdict = "yes" if ratio >= 20 else "no"
            print(f"numpy {method} / choicelab {method} {label}: {ratio:,.1f}× (≥ 20×: {verdict})")

    # ---- checks
    failures, worst = [], 0.0
    bfgs_theta, bfgs_fitted, _, _ = choicelab["BFGS"]
    runs_to_check = {f"numpy {m}": run for m, run in runs.items()}
    runs_to_check["choicelab BFGS"] = (bfgs_theta, bfgs_fitted["loglik"], None, None, None)
    for method, (theta, ll, _, _, _) in runs_to_check.items():
        delta = float(np.abs(theta - cl_theta).max()) if np.isfinite(cl_theta).all() else np.inf
        worst = max(worst, delta)
        if not delta <= args.tolerance:
            failures.append(f"{method}'s estimates differ by {delta:.2e}")
        if not abs(ll - cl_ll) <= 1e-3:
            failures.append(f"{method}'s log-likelihood differs by {abs(ll - cl_ll):.2e}")
    if failures:
        print("FAIL: " + "; ".join(failures))
        sys.exit(1)
    print(f"OK: estimates agree within {worst:.1e}, log-likelihoods within 1e-3")


if __name__ == "__main__":
    if not in_venv():
        ensure_venv_and_reexec(REQUIREMENTS, __file__)
    main()
