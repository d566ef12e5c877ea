#!/usr/bin/env python3
"""Conditional logit: choicelab against Biogeme on Swissmetro (Biogeme's example 01, logit).

    python3 bench/compare_biogeme.py [--data DIR] [--repeats 5] [--biogeme-repeats 3]
                                     [--binary PATH] [--threads N]

The first run adds pandas and Biogeme (with numpy) from PyPI to bench/.venv, the environment
compare_vi.py uses, and re-executes itself inside it. It builds choicelab in release (unless
--binary is given), reads $CHOICELAB_DATA/swissmetro/swissmetro.dat (default
../shared/data beside the repository, or --data DIR), keeps PURPOSE in {1, 3} and CHOICE != 0 (6,768
observations) and estimates example 01's model

    train  ASC_TRAIN        + B_TIME·TRAIN_TT/100 + B_COST·TRAIN_CO·(GA = 0)/100
    sm     ASC_SM (fixed 0) + B_TIME·SM_TT/100    + B_COST·SM_CO·(GA = 0)/100
    car    ASC_CAR          + B_TIME·CAR_TT/100   + B_COST·CAR_CO/100

(train available if TRAIN_AV and SP != 0, Swissmetro if SM_AV, car if CAR_AV and SP != 0)

- with `choicelab fit logit` on the same data written as a long CSV and a TOML spec in
  bench/out/, --repeats times (5); it keeps the least fit time choicelab reports (reading the
  CSV excluded) and the least wall time of the whole process (start, load and fit);
- with Biogeme in this process, from the pandas DataFrame, --biogeme-repeats times (3), each
  on a new BIOGEME object; only `estimate()` is timed, and its file outputs are switched off.

It prints estimates, classical and robust standard errors and log-likelihoods side by side
with Biogeme's published ones, the times and the ratios, and exits 1 if choicelab fails, if
either log-likelihood is more than 1e-3 from −5331.252, or if an estimate differs from
Biogeme's by more than --tolerance (1e-4). The speed ratio is reported, not checked.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import warnings
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

# No pins: biogeme 3.3.2, the newest release that installs on Python 3.11, works as is.
REQUIREMENTS = ["numpy", "pandas", "biogeme"]

GOLDEN_LOGLIK = -5331.252
GOLDEN = {"ASC_CAR": -0.154633, "ASC_TRAIN": -0.701188, "B_TIME": -1.27786, "B_COST": -1.08379}

# (name in the long CSV, CHOICE code, column prefix), in the order the CSV lists them.
ALTERNATIVES = [("train", 1, "TRAIN"), ("sm", 2, "SM"), ("car", 3, "CAR")]

SPEC_TOML = """\
[utilities]
train = ["ASC_TRAIN", "B_TIME * time", "B_COST * cost"]
sm = ["ASC_SM", "B_TIME * time", "B_COST * cost"]
car = ["ASC_CAR", "B_TIME * time", "B_COST * cost"]

[fixed]
ASC_SM = 0.0
"""


# --------------------------------------------------------------------------------------------
# Arguments


def parse_args():
    p = argparse.ArgumentParser(
        description="Compare choicelab's conditional logit with Biogeme's on Swissmetro."
    )
    p.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("CHOICELAB_DATA", ROOT.parent / "shared" / "data")),
        help="folder holding swissmetro/swissmetro.dat (default $CHOICELAB_DATA or "
        "../shared/data beside the repository)",
    )
    p.add_argument("--repeats", type=int, default=5, help="choicelab runs (default 5)")
    p.add_argument(
        "--biogeme-repeats",
        type=int,
        default=3,
        help="Biogeme estimations (default 3; the first in a process is much slower)",
    )
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
        help="largest accepted |estimate_choicelab − estimate_Biogeme| (default 1e-4)",
    )
    args = p.parse_args()
    if args.repeats < 1 or args.biogeme_repeats < 1:
        p.error("--repeats and --biogeme-repeats must be at least 1")
    return args


# --------------------------------------------------------------------------------------------
# The data


def load_swissmetro(pd, data_dir: Path):
    """The rows example 01 keeps: PURPOSE in {1, 3} and CHOICE != 0, renumbered from 0."""
    path = data_dir / "swissmetro" / "swissmetro.dat"
    if not path.exists():
        sys.exit(f"error: {path} not found (set --data or $CHOICELAB_DATA)")
    df = pd.read_csv(path, sep="\t")
    keep = df["PURPOSE"].isin([1, 3]) & (df["CHOICE"] != 0)
    return df[keep].reset_index(drop=True)


def write_long_csv(df, path: Path) -> None:
    """`obs,alt,chosen,available,time,cost`, one row per observation and alternative in the
    order train, sm, car; floats as repr (shortest exact)."""
    sp = df["SP"].to_numpy() != 0
    ga_free = (df["GA"].to_numpy() == 0).astype(float)
    columns = {}  # alt -> (chosen, available, time, cost) as lists
    for alt, code, prefix in ALTERNATIVES:
        available = df[f"{prefix}_AV"].to_numpy() != 0
        if alt != "sm":
            available &= sp
        cost = df[f"{prefix}_CO"].to_numpy(dtype=float)
        if alt != "car":
            cost = cost * ga_free  # GA holders pay nothing by train or Swissmetro
        columns[alt] = (
            (df["CHOICE"].to_numpy() == code).astype(int).tolist(),
            available.astype(int).tolist(),
            (df[f"{prefix}_TT"].to_numpy(dtype=float) / 100).tolist(),
            (cost / 100).tolist(),
        )
    with open(path, "w", newline="\n") as f:
        f.write("obs,alt,chosen,available,time,cost\n")
        for obs in range(len(df)):
            for alt, _, _ in ALTERNATIVES:
                chosen, available, tt, co = (column[obs] for column in columns[alt])
                f.write(f"{obs},{alt},{chosen},{available},{tt!r},{co!r}\n")


# --------------------------------------------------------------------------------------------
# choicelab


# --------------------------------------------------------------------------------------------
# Biogeme


def biogeme_logit(df):
    """A new BIOGEME object for example 01 on `df`, its file outputs switched off."""
    import biogeme.biogeme as bio
    import biogeme.database as db
    from biogeme import models
    from biogeme.expressions import Beta, Variable
    from biogeme.parameters import Parameters

    database = db.Database("swissmetro", df)
    V = Variable
    asc_car = Beta("ASC_CAR", 0, None, None, 0)
    asc_train = Beta("ASC_TRAIN", 0, None, None, 0)
    asc_sm = Beta("ASC_SM", 0, None, None, 1)  # fixed at 0
    b_time = Beta("B_TIME", 0, None, None, 0)
    b_cost = Beta("B_COST", 0, None, None, 0)
    train_cost = V("TRAIN_CO") * (V("GA") == 0)
    sm_cost = V("SM_CO") * (V("GA") == 0)
    utilities = {
        1: asc_train + b_time * V("TRAIN_TT") / 100 + b_cost * train_cost / 100,
        2: asc_sm + b_time * V("SM_TT") / 100 + b_cost * sm_cost / 100,
        3: asc_car + b_time * V("CAR_TT") / 100 + b_cost * V("CAR_CO") / 100,
    }
    availability = {
        1: V("TRAIN_AV") * (V("SP") != 0),
        2: V("SM_AV"),
        3: V("CAR_AV") * (V("SP") != 0),
    }
    logprob = models.loglogit(utilities, availability, V("CHOICE"))
    # A Parameters object rather than the default, which reads (or writes) ./biogeme.toml.
    model = bio.BIOGEME(
        database,
        logprob,
        parameters=Parameters(),
        generate_html=False,
        generate_yaml=False,
        save_iterations=False,
    )
    model.model_name = "swissmetro_logit"
    return model


def run_biogeme(df, repeats: int):
    """Estimates `repeats` times, each on a new BIOGEME (estimate() writes its estimates back
    into the formulas, so a reused object would not start from 0 again). Returns the last
    results and the seconds of each estimate()."""
    seconds = []
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="compare_biogeme_") as tmp:
        os.chdir(tmp)  # whatever Biogeme still writes lands here, never in the repository
        try:
            for k in range(repeats):
                model = biogeme_logit(df)
                start = time.perf_counter()
                results = model.estimate()
                seconds.append(time.perf_counter() - start)
                print(f"  estimate() {k + 1}: {seconds[-1]:.3f} s", flush=True)
        finally:
            os.chdir(cwd)
    return results, seconds


def biogeme_summary(results, names):
    """{name: (estimate, classical se, robust se)} and the final log-likelihood."""
    from biogeme.results_processing.variance_covariance import EstimateVarianceCovariance

    values = results.get_beta_values()
    table = {}
    for name in names:
        se = results.get_parameter_std_err(name, EstimateVarianceCovariance.RAO_CRAMER)
        robust = results.get_parameter_std_err(name, EstimateVarianceCovariance.ROBUST)
        table[name] = (values[name], float(se), float(robust))
    return table, float(results.final_loglikelihood)


# --------------------------------------------------------------------------------------------


def main():
    args = parse_args()
    os.environ.setdefault("JAX_PLATFORMS", "cpu")  # Biogeme 3.3 computes with JAX
    import numpy as np
    import pandas as pd
    from importlib.metadata import version

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # arviz's notice, imported by Biogeme
        import biogeme.biogeme  # noqa: F401

    binary = args.binary.resolve() if args.binary else build_choicelab()
    if not binary.exists():
        sys.exit(f"error: {binary} does not exist")

    df = load_swissmetro(pd, args.data)
    OUT.mkdir(parents=True, exist_ok=True)
    data_csv = OUT / "swissmetro_long.csv"
    spec = OUT / "swissmetro_spec.toml"
    json_out = OUT / "choicelab_logit.json"
    write_long_csv(df, data_csv)
    spec.write_text(SPEC_TOML)
    print(
        f"wrote {data_csv.relative_to(ROOT)} ({len(df)} observations, {3 * len(df)} rows) "
        f"and {spec.relative_to(ROOT)}",
        flush=True,
    )

    # ---- choicelab
    fitted, cl_fit, cl_wall = time_choicelab_fit(
        binary, ["logit", str(data_csv), "--spec", str(spec)], json_out, args.repeats, args.threads
    )
    robust = fitted.get("robust_se") or [None] * len(fitted["parameters"])
    cl = {
        p["name"]: (p["estimate"], p["se"], r) for p, r in zip(fitted["parameters"], robust)
    }
    cl_ll = fitted["loglik"]
    print(
        f"  least of {args.repeats}: {cl_fit * 1e3:.3f} ms to fit, {cl_wall * 1e3:.1f} ms "
        f"the whole process; {fitted.get('iterations')} iterations",
        flush=True,
    )

    # ---- Biogeme
    print(
        f"biogeme {version('biogeme')}, pandas {pd.__version__}, numpy {np.__version__}: "
        f"estimate() {args.biogeme_repeats}× on a new BIOGEME each time",
        flush=True,
    )
    results, bg_times = run_biogeme(df, args.biogeme_repeats)
    bg, bg_ll = biogeme_summary(results, list(GOLDEN))
    bg_best = min(bg_times)

    # ---- the table
    def fmt(x, spec=".6f"):
        return "—" if x is None else format(x, spec)

    print()
    print(f"Swissmetro logit (Biogeme example 01): {len(df)} observations, ASC_SM fixed at 0")
    head = (
        f"{'parameter':<10} {'golden':>10} {'Biogeme':>10} {'choicelab':>10} {'|Δ|':>9} "
        f"{'se Bio':>9} {'se cl':>9} {'robust Bio':>10} {'robust cl':>10}"
    )
    print(head)
    print("-" * len(head))
    deltas = {}
    for name, golden in GOLDEN.items():
        b_est, b_se, b_rob = bg[name]
        c_est, c_se, c_rob = cl.get(name, (None, None, None))
        deltas[name] = None if c_est is None else abs(c_est - b_est)
        print(
            f"{name:<10} {golden:10.6f} {b_est:10.6f} {fmt(c_est, '10.6f'):>10} "
            f"{fmt(deltas[name], '9.2e'):>9} {b_se:9.6f} {fmt(c_se, '9.6f'):>9} "
            f"{b_rob:10.6f} {fmt(c_rob, '10.6f'):>10}"
        )
    print(f"log-likelihood: golden {GOLDEN_LOGLIK}, Biogeme {bg_ll:.6f}, choicelab {cl_ll:.6f}")
    for label, col in (("classical se", 1), ("robust se", 2)):
        gaps = [abs(cl[n][col] / bg[n][col] - 1) for n in GOLDEN if cl.get(n, (0, 0, 0))[col]]
        if gaps:
            print(f"max relative difference of the {label}: {max(gaps):.2e}")

    print()
    cold = f"; the first, {bg_times[0]:.2f} s, compiles with JAX" if len(bg_times) > 1 else ""
    print(f"Biogeme estimate(): least of {len(bg_times)} {bg_best:.3f} s{cold}")
    print(f"choicelab fit (its fit_seconds): {cl_fit * 1e3:.3f} ms, least of {args.repeats}")
    print(f"choicelab whole process (start, load, fit): {cl_wall * 1e3:.1f} ms")
    for label, denominator in (("fit", cl_fit), ("whole process", cl_wall)):
        ratio = bg_best / denominator if denominator > 0 else float("inf")
        verdict = "yes" if ratio >= 10 else "no"
        print(f"Biogeme estimate() / choicelab {label}: {ratio:,.0f}× (≥ 10×: {verdict})")

    # ---- checks
    failures = []
    missing = [n for n in GOLDEN if n not in cl]
    if missing:
        failures.append(f"choicelab's JSON lacks {', '.join(missing)}")
    if not abs(cl_ll - GOLDEN_LOGLIK) <= 1e-3:
        failures.append(f"choicelab's log-likelihood {cl_ll:.6f} is not {GOLDEN_LOGLIK} ± 1e-3")
    if not abs(bg_ll - GOLDEN_LOGLIK) <= 1e-3:
        failures.append(f"Biogeme's log-likelihood {bg_ll:.6f} is not {GOLDEN_LOGLIK} ± 1e-3")
    worst = max((d for d in deltas.values() if d is not None), default=0.0)
    if not worst <= args.tolerance:
        failures.append(f"estimates differ from Biogeme's by {worst:.2e} > {args.tolerance:g}")
    if failures:
        print("FAIL: " + "; ".join(failures))
        sys.exit(1)
    print(f"OK: same log-likelihood, estimates within {worst:.1e} of Biogeme's")


if __name__ == "__main__":
    if not in_venv():
        ensure_venv_and_reexec(REQUIREMENTS, __file__)
    main()
