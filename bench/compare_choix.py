#!/usr/bin/env python3
"""Bradley–Terry: choicelab's fit against choix's, side by side.

    python3 bench/compare_choix.py [--items 10000 --comparisons 1000000 --alpha 1e-6
                                    --seed 0] [--budget 600] [--tight-budget 1200]
                                   [--binary PATH] [--threads N]

The first run creates bench/.venv (shared with compare_vi.py) and installs numpy, scipy and
choix into it from PyPI; the script then re-executes itself inside it. It builds choicelab in
release (unless --binary is given), plants utilities θ ~ N(0, 1) (centred), draws pairs of
distinct items uniformly with P(i beats j) = σ(θ_i − θ_j), writes them as a `winner,loser` CSV
to bench/out/ (reused while the data are unchanged), and fits them with

- `choicelab fit bt FILE --alpha A` (its own fit time, which excludes reading the CSV);
- choix's `opt_pairwise` (Newton-CG, the same objective NLL + α·Σθ²), once with choix's
  default tolerance and once with a tight one, `ilsr_pairwise` and `mm_pairwise` (both
  unpenalised ML with their default α = 0) and `lsr_pairwise` (one spectral step: a different
  estimator). Each runs in its own subprocess with a time budget; only the fit call is timed.

It prints, per method, the fit seconds, the ratio to choicelab's, max |Δθ| against choicelab
(all estimates centred to mean 0) and the penalised objective's excess over choicelab's, and
exits 1 if choicelab fails or if choicelab and the tight `opt_pairwise` differ by more than
--tolerance (1e-5).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Shared with compare_vi.py (imported, not changed): paths, the venv test and the build.
from compare_vi import OUT, ROOT, build_choicelab, ensure_venv_and_reexec, in_venv

REQUIREMENTS = ["numpy", "scipy", "choix"]
WORKER_FLAG = "--worker"


# --------------------------------------------------------------------------------------------
# Arguments


def parse_args():
    p = argparse.ArgumentParser(
        description="Compare choicelab's Bradley–Terry fit with choix's estimators."
    )
    p.add_argument("--items", type=int, default=10_000, help="number of items (default 10000)")
    p.add_argument(
        "--comparisons", type=int, default=1_000_000, help="number of comparisons (default 1e6)"
    )
    p.add_argument("--alpha", type=float, default=1e-6, help="ridge penalty α (default 1e-6)")
    p.add_argument("--seed", type=int, default=0, help="numpy seed of the data (default 0)")
    p.add_argument(
        "--budget",
        type=float,
        default=600.0,
        help="seconds each fit may take before it is stopped and reported as skipped "
        "(default 600; choicelab gets the same limit)",
    )
    p.add_argument(
        "--binary",
        type=Path,
        help="choicelab binary to run (default: build target/release/choicelab)",
    )
    p.add_argument(
        "--threads",
        type=int,
        help="worker threads for choicelab and for numpy's BLAS in choix's processes "
        "(default: their own defaults, one per core)",
    )
    p.add_argument(
        "--tight-budget",
        type=float,
        help="budget of the tight opt_pairwise run (default: twice --budget; at the default "
        "size it takes about twice choix's default run)",
    )
    p.add_argument(
        "--tight-tol",
        type=float,
        default=1e-10,
        help="`tol` of the second opt_pairwise run, used for the agreement check "
        "(default 1e-10; choix's default is 1e-5)",
    )
    p.add_argument(
        "--tolerance",
        type=float,
        default=1e-5,
        help="largest accepted max |θ_choicelab − θ_opt_pairwise(tight)| (default 1e-5)",
    )
    p.add_argument(
        "--max-memory-gb",
        type=float,
        help="skip a method whose estimated peak memory exceeds this "
        "(default: 80%% of MemAvailable)",
    )
    p.add_argument(
        "--methods",
        default=",".join(METHODS),
        help=f"comma-separated choix methods to run (default: all of {','.join(METHODS)})",
    )
    args = p.parse_args()
    if args.items < 2:
        p.error("--items must be at least 2")
    if args.comparisons < 1:
        p.error("--comparisons must be at least 1")
    if not (args.alpha >= 0.0):
        p.error("--alpha must be ≥ 0")
    if args.budget <= 0:
        p.error("--budget must be positive")
    if args.tight_budget is None:
        args.tight_budget = 2 * args.budget
    elif args.tight_budget <= 0:
        p.error("--tight-budget must be positive")
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in args.methods if m not in METHODS]
    if unknown:
        p.error(f"unknown method(s) {', '.join(unknown)}; known: {', '.join(METHODS)}")
    return args


# --------------------------------------------------------------------------------------------
# choix's methods
#
# What `alpha` means in choix 0.4 (read in the installed source):
#   opt.py   PairwiseFcts.objective: `val = self._penalty * np.sum(params**2)` plus
#            Σ logaddexp(0, −(θ_w − θ_l)); opt_pairwise passes `alpha` as that penalty, so it
#            minimises NLL + α·Σθ², choicelab's objective. Its Newton-CG hands `tol` to scipy
#            as `xtol` (stop when the L1 norm of a step ≤ n·tol); its Hessian is a dense n×n
#            matrix (`2 * self._penalty * np.identity(len(params))`).
#   lsr.py   _init_lsr: `chain = alpha * np.ones((n_items, n_items))`: α is a rate added to
#            every pair of the LSR Markov chain (a dense n×n matrix; statdist LU-factorises
#            it), a different regulariser; with the default α = 0 I-LSR's fixed point is the
#            ML estimate and lsr_pairwise is one spectral step from equal weights.
#   mm.py    _mm: `params = log_transform((nums + alpha) / (denoms + alpha))`: α is a
#            pseudo-count (a Dirichlet/Gamma-like prior), again a different regulariser; with
#            the default α = 0 the fixed point is the ML estimate. Its signature is
#            mm_pairwise(n_items, data, initial_params=None, alpha=0.0, ...): alpha is the
#            fourth positional argument, so it must be passed by name.
#   I-LSR and MM stop when the L1 norm of the change of the centred θ ≤ n·tol (tol = 1e-8).


class Method:
    def __init__(self, label, call, same, estimator, dense):
        self.label = label  # shown in the table
        self.call = call  # shown in the notes
        self.same = same  # "yes", "ml" (unpenalised ML) or "no"
        self.estimator = estimator
        self.dense = dense  # builds dense n×n matrices


METHODS = {
    "opt": Method(
        "choix opt_pairwise", "opt_pairwise(n, data, alpha=A)", "yes",
        "penalised ML, NLL + α·Σθ² (choicelab's objective), Newton-CG, tol 1e-5", True,
    ),
    "opt-tight": Method(
        "choix opt_pairwise tight", "opt_pairwise(n, data, alpha=A, tol=T)", "yes",
        "the same, with a tight tol (the agreement check)", True,
    ),
    "ilsr": Method(
        "choix ilsr_pairwise", "ilsr_pairwise(n, data)", "ml",
        "ML (α = 0) by iterative LSR", True,
    ),
    "mm": Method(
        "choix mm_pairwise", "mm_pairwise(n, data)", "ml",
        "ML (α = 0) by minorisation–maximisation", False,
    ),
    "lsr": Method(
        "choix lsr_pairwise", "lsr_pairwise(n, data)", "no",
        "one LSR step: a spectral estimator, not ML", True,
    ),
}  # fmt: skip


def estimated_peak_bytes(method: str, n: int, m: int) -> int:
    """A rough upper bound of a method's peak memory: about three n×n float64 matrices alive at
    once for the dense ones (Hessian or LSR chain, the next one or its diagonal, LU's copy),
    plus the list of tuples (~150 bytes a comparison)."""
    dense = 3 * 8 * n * n if METHODS[method].dense else 0
    return dense + 150 * m + 64 * n + 200 * 2**20


def available_bytes() -> int | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def worker(spec: dict) -> None:
    """Runs one choix method in this process and writes {seconds, status, ...} to stdout's
    last line and θ to spec["theta"]. Only the fit call is timed; the budget is a SIGALRM
    (checked between Python bytecodes, so a long LAPACK call is stopped by the parent)."""
    import resource

    import choix
    import numpy as np

    pairs = np.load(spec["pairs"])
    data = list(zip(pairs[:, 0].tolist(), pairs[:, 1].tolist()))  # tuples of Python ints
    del pairs
    n, alpha, method = spec["n"], spec["alpha"], spec["method"]
    calls = {
        "opt": lambda: choix.opt_pairwise(n, data, alpha=alpha),
        "opt-tight": lambda: choix.opt_pairwise(n, data, alpha=alpha, tol=spec["tight_tol"]),
        "ilsr": lambda: choix.ilsr_pairwise(n, data),
        "mm": lambda: choix.mm_pairwise(n, data),
        "lsr": lambda: choix.lsr_pairwise(n, data),
    }

    def on_alarm(signum, frame):
        raise TimeoutError

    signal.signal(signal.SIGALRM, on_alarm)
    result = {"status": "ok"}
    start = time.perf_counter()
    signal.setitimer(signal.ITIMER_REAL, spec["budget"])
    try:
        theta = calls[method]()
        seconds = time.perf_counter() - start
        signal.setitimer(signal.ITIMER_REAL, 0)
        np.save(spec["theta"], np.asarray(theta, dtype=np.float64))
        result["seconds"] = seconds
    except TimeoutError:
        result = {"status": "timeout", "seconds": time.perf_counter() - start}
    except Exception as e:  # noqa: BLE001 - reported to the parent
        signal.setitimer(signal.ITIMER_REAL, 0)
        result = {
            "status": "error",
            "seconds": time.perf_counter() - start,
            "message": f"{type(e).__name__}: {e}",
        }
    result["max_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result), flush=True)


def budget_of(method: str, args) -> float:
    return args.tight_budget if method == "opt-tight" else args.budget


def run_choix_method(method, tmp, args, n, m):
    """Runs `method` in a subprocess. Returns (result dict, θ or None)."""
    import numpy as np

    spec = {
        "method": method,
        "pairs": str(tmp / "pairs.npy"),
        "theta": str(tmp / f"theta_{method}.npy"),
        "n": n,
        "alpha": args.alpha,
        "tight_tol": args.tight_tol,
    }
    spec["budget"] = budget_of(method, args)
    env = dict(os.environ)
    if args.threads is not None:
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            env[var] = str(args.threads)
    command = [sys.executable, str(Path(__file__).resolve()), WORKER_FLAG, json.dumps(spec)]
    # The worker stops itself at the budget; this is the backstop for a long C call, plus
    # the time to start Python and build the list of tuples.
    backstop = spec["budget"] + 60 + 5e-6 * m
    try:
        proc = subprocess.run(command, capture_output=True, text=True, timeout=backstop, env=env)
    except subprocess.TimeoutExpired:
        return {"status": "timeout", "seconds": None}, None
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        message = f"exit status {proc.returncode}" + (": " + " | ".join(tail) if tail else "")
        if proc.returncode in (-9, 137):
            message += " (killed: out of memory?)"
        return {"status": "error", "seconds": None, "message": message}, None
    result = json.loads(lines[-1])
    theta = np.load(spec["theta"]) if result["status"] == "ok" else None
    return result, theta


# --------------------------------------------------------------------------------------------
# choicelab


def run_choicelab(binary: Path, data_csv: Path, json_out: Path, args):
    """Returns (fit seconds, load seconds, parsed JSON) or exits 1."""
    command = [str(binary), "--quiet"]
    if args.threads is not None:
        command += ["--threads", str(args.threads)]
    command += ["fit", "bt", str(data_csv), "--alpha", repr(args.alpha), "--out", str(json_out)]
    print("running " + " ".join(command), flush=True)
    json_out.unlink(missing_ok=True)
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=args.budget)
    except subprocess.TimeoutExpired:
        print(f"FAIL: choicelab took longer than the budget of {args.budget:g} s")
        sys.exit(1)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
        print(f"FAIL: choicelab exited with status {result.returncode}")
        sys.exit(1)
    fit_s = load_s = None
    for line in result.stdout.splitlines():
        line = line.strip()
        if line.startswith("time:"):
            # time: X s to fit, Y s to load
            words = line.replace(",", " ").split()
            fit_s, load_s = float(words[1]), float(words[5])
        elif line.startswith(("model:", "iterations:", "log-likelihood:")):
            print("  " + line)
    if fit_s is None:
        sys.stderr.write(result.stdout[-4000:])
        print("FAIL: could not find `time: X s to fit, Y s to load` in choicelab's output")
        sys.exit(1)
    with open(json_out) as f:
        fitted = json.load(f)
    return fit_s, load_s, fitted


def choicelab_theta(np, fitted: dict, n: int):
    """θ indexed by item id: the JSON names items by their ids as text."""
    theta = np.full(n, np.nan)
    for p in fitted["parameters"]:
        theta[int(p["name"])] = p["estimate"]
    if np.isnan(theta).any():
        missing = np.flatnonzero(np.isnan(theta))[:5].tolist()
        print(f"FAIL: choicelab's JSON lacks items {missing}...")
        sys.exit(1)
    return theta


# --------------------------------------------------------------------------------------------
# The data


def planted_comparisons(np, n, m, seed):
    """θ ~ N(0, 1) centred; m pairs of distinct items drawn uniformly; i beats j with
    probability σ(θ_i − θ_j). Returns (θ, winners, losers)."""
    rng = np.random.default_rng(seed)
    theta = rng.standard_normal(n)
    theta -= theta.mean()
    i = rng.integers(0, n, size=m, dtype=np.int64)
    j = rng.integers(0, n - 1, size=m, dtype=np.int64)
    j += j >= i  # uniform over the items other than i
    p_i = 1.0 / (1.0 + np.exp(-(theta[i] - theta[j])))
    i_wins = rng.random(m) < p_i
    winners = np.where(i_wins, i, j)
    losers = np.where(i_wins, j, i)
    return theta, winners, losers


def write_pairs_csv(np, path, winners, losers, chunk=200_000):
    """`winner,loser` then one row per comparison, formatted by one `%` per chunk."""
    with open(path, "w", newline="\n") as f:
        f.write("winner,loser\n")
        for start in range(0, len(winners), chunk):
            block = np.column_stack((winners[start : start + chunk], losers[start : start + chunk]))
            f.write(("%d,%d\n" * block.shape[0]) % tuple(block.ravel().tolist()))


def fingerprint(np, n, m, winners, losers):
    """A digest of the pairs and of this writer's format, to reuse a file written before."""
    digest = hashlib.sha256(f"bt-winner-loser-csv v1 {n} {m}".encode())
    for array in (winners, losers):
        digest.update(np.ascontiguousarray(array, dtype=np.int64).tobytes())
    return digest.hexdigest()


def penalised_nll(np, theta, winners, losers, alpha):
    """Σ ln(1 + e^{−(θ_w − θ_l)}) + α·Σθ², choix's and choicelab's objective."""
    return float(np.logaddexp(0.0, -(theta[winners] - theta[losers])).sum() + alpha * (theta**2).sum())


# --------------------------------------------------------------------------------------------


def main():
    args = parse_args()
    import choix  # noqa: F401 - fail early if missing
    import numpy as np
    import scipy
    from importlib.metadata import version

    n, m = args.items, args.comparisons
    binary = args.binary.resolve() if args.binary else build_choicelab()
    if not binary.exists():
        sys.exit(f"error: {binary} does not exist")

    OUT.mkdir(parents=True, exist_ok=True)
    data_csv = OUT / f"bt_{n}_{m}_seed{args.seed}.csv"
    json_out = OUT / "choicelab_bt.json"

    start = time.perf_counter()
    planted, winners, losers = planted_comparisons(np, n, m, args.seed)
    appearances = np.bincount(winners, minlength=n) + np.bincount(losers, minlength=n)
    if (appearances == 0).any():
        sys.exit(
            f"error: {(appearances == 0).sum()} items appear in no comparison; "
            "use more --comparisons"
        )
    digest = fingerprint(np, n, m, winners, losers)
    stamp = data_csv.with_name(data_csv.name + ".sha256")
    if data_csv.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        print(f"reusing {data_csv.relative_to(ROOT)} (same data)", flush=True)
    else:
        stamp.unlink(missing_ok=True)
        write_pairs_csv(np, data_csv, winners, losers)
        stamp.write_text(digest + "\n")
        print(
            f"wrote {data_csv.relative_to(ROOT)}: {n} items, {m} comparisons, seed {args.seed}, "
            f"{data_csv.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - start:.1f} s",
            flush=True,
        )

    # ---- choicelab
    cl_fit, cl_load, fitted = run_choicelab(binary, data_csv, json_out, args)
    print(f"  {cl_fit:.3f} s to fit, {cl_load:.3f} s to load", flush=True)
    theta_cl = choicelab_theta(np, fitted, n)
    theta_cl -= theta_cl.mean()
    f_cl = penalised_nll(np, theta_cl, winners, losers, args.alpha)

    # ---- choix
    threads = args.threads if args.threads is not None else os.cpu_count()
    print(
        f"choix {version('choix')}, scipy {scipy.__version__}, numpy {np.__version__}; "
        f"data as a list of (winner, loser) tuples; BLAS threads: "
        f"{args.threads if args.threads is not None else 'default'}",
        flush=True,
    )
    limit = (
        args.max_memory_gb * 2**30
        if args.max_memory_gb is not None
        else (0.8 * available_bytes() if available_bytes() else None)
    )
    rows = []  # (key, result, theta)
    with tempfile.TemporaryDirectory(prefix="compare_choix_") as tmp:
        tmp = Path(tmp)
        np.save(tmp / "pairs.npy", np.column_stack((winners, losers)))
        for key in args.methods:
            method = METHODS[key]
            need = estimated_peak_bytes(key, n, m)
            if limit is not None and need > limit:
                result = {
                    "status": "skipped",
                    "message": f"needs ~{need / 2**30:.1f} GiB, limit {limit / 2**30:.1f} GiB",
                }
                print(f"{method.label}: skipped ({result['message']})", flush=True)
                rows.append((key, result, None))
                continue
            print(f"{method.label}: {method.call} ...", flush=True)
            result, theta = run_choix_method(key, tmp, args, n, m)
            if theta is not None:
                theta = theta - theta.mean()
            status = result["status"]
            if status == "ok":
                print(
                    f"  {result['seconds']:.3f} s (peak RSS {result['max_rss_mb']:.0f} MB)",
                    flush=True,
                )
            elif status == "timeout":
                print(f"  stopped: over its budget of {budget_of(key, args):g} s", flush=True)
            else:
                print(f"  failed: {result.get('message', '')}", flush=True)
            rows.append((key, result, theta))

    # ---- the table
    print()
    print(
        f"Bradley–Terry: {n} items, {m} comparisons, alpha {args.alpha:g}, seed {args.seed}; "
        f"{threads} cores"
    )
    head = (
        f"{'method':<26} {'fit s':>9} {'ratio':>8} {'max |Δθ|':>10} "
        f"{'Δ objective':>12} {'same objective':<16} notes"
    )
    print(head)
    print("-" * len(head))
    rmse = float(np.sqrt(np.mean((theta_cl - planted) ** 2)))
    print(
        f"{'choicelab fit bt':<26} {cl_fit:9.3f} {1.0:8.2f} {0.0:10.2e} {0.0:12.3e} "
        f"{'yes':<16} {fitted.get('iterations')} Newton steps; load {cl_load:.3f} s; "
        f"RMSE vs planted {rmse:.3f}"
    )
    same_text = {
        "yes": "yes",
        "ml": "yes (α = 0)" if args.alpha == 0 else "≈ ML, α = 0",
        "no": "no",
    }
    deltas = {}
    fastest = None  # (seconds, key)
    for key, result, theta in rows:
        method = METHODS[key]
        status = result["status"]
        if status == "ok":
            seconds = result["seconds"]
            ratio = seconds / cl_fit if cl_fit > 0 else float("inf")
            delta = float(np.abs(theta - theta_cl).max())
            deltas[key] = delta
            excess = penalised_nll(np, theta, winners, losers, args.alpha) - f_cl
            note = f"peak RSS {result['max_rss_mb']:.0f} MB"
            print(
                f"{method.label:<26} {seconds:9.3f} {ratio:8.2f} {delta:10.2e} {excess:12.3e} "
                f"{same_text[method.same]:<16} {note}"
            )
            if method.same in ("yes", "ml") and (fastest is None or seconds < fastest[0]):
                fastest = (seconds, key)
        else:
            if status == "timeout":
                note = f"stopped after its {budget_of(key, args):g} s budget"
            else:
                note = f"{status}: {result.get('message', '')}"
            print(
                f"{method.label:<26} {'—':>9} {'—':>8} {'—':>10} {'—':>12} "
                f"{same_text[method.same]:<16} {note}"
            )
    print()
    print("Δ objective: penalised NLL + α·Σθ² at the method's θ minus at choicelab's (> 0: worse).")
    for key in args.methods:
        print(f"  {METHODS[key].label}: {METHODS[key].estimator}")
    if fastest is not None:
        seconds, key = fastest
        ratio = seconds / cl_fit if cl_fit > 0 else float("inf")
        print(
            f"fastest choix method computing the same (penalised) ML estimate: "
            f"{METHODS[key].label}, {seconds:.3f} s (max |Δθ| {deltas[key]:.2e})"
        )
        print(f"choix fastest / choicelab: {ratio:.2f}x (target ≥ 10x)")
    else:
        print("choix fastest / choicelab: — (no ML method of choix finished)")

    # ---- agreement
    failures = []
    if "opt-tight" in deltas:
        delta = deltas["opt-tight"]
        verdict = "OK" if delta <= args.tolerance else "too large"
        print(
            f"agreement: max |θ_choicelab − θ_opt_pairwise(tol={args.tight_tol:g})| = "
            f"{delta:.3e} (≤ {args.tolerance:g}: {verdict})"
        )
        if not delta <= args.tolerance:
            failures.append(f"θ differs from tight opt_pairwise by {delta:.3e} > {args.tolerance:g}")
    else:
        failures.append("the tight opt_pairwise did not run, so agreement is unchecked")
    for key in ("ilsr", "mm"):
        if key in deltas:
            print(f"  vs {METHODS[key].label} (ML, α = 0): max |Δθ| = {deltas[key]:.3e}")
    if failures:
        print("FAIL: " + "; ".join(failures))
        sys.exit(1)
    print("OK: choicelab agrees with choix's opt_pairwise")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == WORKER_FLAG:
        worker(json.loads(sys.argv[2]))
    else:
        if not in_venv():
            ensure_venv_and_reexec(REQUIREMENTS, __file__)
        main()
