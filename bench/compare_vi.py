#!/usr/bin/env python3
"""Value iteration: choicelab against scipy CSR matrices (pymdptoolbox's formulation).

    python3 bench/compare_vi.py [--states 100000 --actions 4 --successors 10
                                 --gamma 0.99 --epsilon 1e-6 --seed 0]

The first run creates bench/.venv and installs numpy and scipy into it from PyPI; the script
then re-executes itself inside it. It builds choicelab in release (unless --binary is given),
writes a seeded random sparse MDP in craam's long CSV format to bench/out/, solves it with
value iteration in scipy and with `choicelab solve --method vi`, checks that both give the same
policy and values, and prints the time per sweep of each. Exit status 1 if they disagree.

Both sides start from V = 0 and stop when ||V_{k+1} - V_k||_inf < eps (1 - gamma) / (2 gamma),
choicelab's rule. scipy's sweeps are timed alone (not building the matrices); choicelab's time
is the one it prints, which excludes loading the file.
"""

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv"
OUT = BENCH / "out"
REQUIREMENTS = ["numpy", "scipy"]


# --------------------------------------------------------------------------------------------
# Virtual environment


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_venv_and_reexec(requirements=REQUIREMENTS, script=__file__) -> None:
    """Creates bench/.venv with `requirements` if needed, then re-runs `script` in it."""
    python = venv_python()
    if not python.exists():
        print(f"creating virtual environment {VENV.relative_to(ROOT)}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    check = subprocess.run(
        [str(python), "-c", "import " + ", ".join(requirements)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if check.returncode != 0:
        print(f"installing {' '.join(requirements)} into {VENV.relative_to(ROOT)}", flush=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *requirements], check=True
        )
    os.execv(str(python), [str(python), str(Path(script).resolve()), *sys.argv[1:]])


# --------------------------------------------------------------------------------------------
# Arguments


def parse_args():
    p = argparse.ArgumentParser(
        description="Compare value iteration in choicelab with scipy CSR matrices."
    )
    p.add_argument("--states", type=int, default=100_000, help="S (default 100000)")
    p.add_argument("--actions", type=int, default=4, help="A (default 4)")
    p.add_argument("--successors", type=int, default=10, help="K per state-action (default 10)")
    p.add_argument("--gamma", type=float, default=0.99, help="discount (default 0.99)")
    p.add_argument("--epsilon", type=float, default=1e-6, help="accuracy ε (default 1e-6)")
    p.add_argument("--seed", type=int, default=0, help="numpy seed of the MDP (default 0)")
    p.add_argument(
        "--binary",
        type=Path,
        help="choicelab binary to run (default: build target/release/choicelab)",
    )
    p.add_argument(
        "--threads",
        type=int,
        help="choicelab worker threads (default: one per core; scipy always uses one)",
    )
    p.add_argument(
        "--value-tolerance",
        type=float,
        default=1e-6,
        help="largest accepted max |V_scipy - V_choicelab| (default 1e-6)",
    )
    args = p.parse_args()
    if args.states < 1 or args.actions < 1:
        p.error("--states and --actions must be at least 1")
    if not 1 <= args.successors <= args.states:
        p.error("--successors must be in 1..=states")
    if not 0.0 < args.gamma < 1.0:
        p.error("--gamma must be in (0, 1)")
    if args.epsilon <= 0.0:
        p.error("--epsilon must be positive")
    return args


# --------------------------------------------------------------------------------------------
# choicelab


def build_choicelab() -> Path:
    print("building choicelab (cargo build --release -p choicelab-cli)", flush=True)
    subprocess.run(["cargo", "build", "--release", "-p", "choicelab-cli"], cwd=ROOT, check=True)
    meta = subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    target = Path(json.loads(meta.stdout)["target_directory"])
    binary = target / "release" / ("choicelab.exe" if os.name == "nt" else "choicelab")
    if not binary.exists():
        sys.exit(f"error: {binary} not found after the build")
    return binary


def run_choicelab(binary: Path, mdp_csv: Path, values_csv: Path, args):
    command = [str(binary), "--quiet"]
    if args.threads is not None:
        command += ["--threads", str(args.threads)]
    command += [
        "solve", str(mdp_csv),
        "--gamma", repr(args.gamma),
        "--method", "vi",
        "--epsilon", repr(args.epsilon),
        "--out", str(values_csv),
    ]  # fmt: skip
    print("running " + " ".join(command), flush=True)
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        sys.stderr.write(result.stdout + result.stderr)
        sys.exit(f"error: choicelab exited with status {result.returncode}")
    iterations = seconds = per_sweep_ms = None
    for line in result.stdout.splitlines():
        line = line.strip()
        if line.startswith("iterations:"):
            iterations = int(line.split(":", 1)[1])
        elif line.startswith("time:"):
            # time: T s (X ms per iteration)
            words = line.split()
            seconds = float(words[1])
            per_sweep_ms = float(words[3].lstrip("("))
        elif line.startswith("model:"):
            print("  " + line)
    if iterations is None or seconds is None:
        sys.stderr.write(result.stdout)
        sys.exit("error: could not find `iterations:` and `time:` in choicelab's output")
    return iterations, seconds, per_sweep_ms


# --------------------------------------------------------------------------------------------
# The MDP


def time_choicelab_fit(binary: Path, fit_args: list, json_out: Path, repeats: int, threads=None):
    """Runs `choicelab fit FIT_ARGS --out JSON_OUT` `repeats` times (shared by the fit
    comparisons). Returns (JSON of the last run, least fit seconds, least wall seconds), or
    exits 1 if a run fails or the fit reports no convergence."""
    command = [str(binary), "--quiet"]
    if threads is not None:
        command += ["--threads", str(threads)]
    command += ["fit", *fit_args, "--out", str(json_out)]
    print("running " + " ".join(command) + f"  ({repeats}×)", flush=True)
    fit_times, wall_times = [], []
    for _ in range(repeats):
        json_out.unlink(missing_ok=True)
        start = time.perf_counter()
        result = subprocess.run(command, capture_output=True, text=True)
        wall_times.append(time.perf_counter() - start)
        if result.returncode != 0 or not json_out.exists():
            sys.stderr.write(result.stdout[-4000:] + result.stderr[-4000:])
            print(f"FAIL: choicelab exited with status {result.returncode}")
            sys.exit(1)
        with open(json_out) as f:
            fitted = json.load(f)
        fit_times.append(fitted["fit_seconds"])
    if not fitted.get("converged", False):
        print("FAIL: choicelab reports that its fit did not converge")
        sys.exit(1)
    return fitted, min(fit_times), min(wall_times)


def random_sparse_mdp(np, S, A, K, seed):
    """Rows (s, a) in order s-major; for each, K distinct successors in increasing order,
    probabilities proportional to Uniform(0, 1] weights, and r(s, a) ~ Uniform[0, 1)."""
    rng = np.random.default_rng(seed)
    rows = S * A
    succ = rng.integers(0, S, size=(rows, K), dtype=np.int64)
    succ.sort(axis=1)
    # Redraw rows with a repeated successor: i.i.d. draws conditioned on being distinct are a
    # uniform K-subset. Dense rows (K close to S) fall back to sampling without replacement.
    for _ in range(20):
        bad = np.flatnonzero((np.diff(succ, axis=1) == 0).any(axis=1)) if K > 1 else []
        if len(bad) == 0:
            break
        fresh = rng.integers(0, S, size=(len(bad), K), dtype=np.int64)
        fresh.sort(axis=1)
        succ[bad] = fresh
    else:
        bad = np.flatnonzero((np.diff(succ, axis=1) == 0).any(axis=1))
        for i in bad:
            succ[i] = np.sort(rng.choice(S, size=K, replace=False))
    weights = 1.0 - rng.random((rows, K))  # in (0, 1]
    prob = weights / weights.sum(axis=1, keepdims=True)
    reward = rng.random(rows)
    return succ, prob, reward


def write_craam_csv(np, path, S, A, K, succ, prob, reward, chunk_pairs=20_000):
    """idstatefrom,idaction,idstateto,probability,reward; floats as repr (shortest exact).

    The text of `s,a,` and `,reward` is made once per state-action pair; per row only the
    successor and its probability are formatted, by one `%` on a repeated template per chunk
    (the conversion to Python objects happens in C through an object array)."""
    rows = S * A
    prefix = np.array([f"{s},{a}," for s in range(S) for a in range(A)], dtype=object)
    suffix = np.array([f",{r!r}\n" for r in reward.tolist()], dtype=object)
    with open(path, "w", newline="\n") as f:
        f.write("idstatefrom,idaction,idstateto,probability,reward\n")
        for start in range(0, rows, chunk_pairs):
            end = min(start + chunk_pairs, rows)
            table = np.empty((end - start, K, 4), dtype=object)
            table[:, :, 0] = prefix[start:end, None]
            table[:, :, 1] = succ[start:end].tolist()
            table[:, :, 2] = prob[start:end].tolist()
            table[:, :, 3] = suffix[start:end, None]
            f.write(("%s%d,%r%s" * table.shape[0] * K) % tuple(table.ravel().tolist()))


def fingerprint(np, S, A, K, succ, prob, reward):
    """A digest of the MDP's arrays and of this writer's format, to reuse a file written before."""
    digest = hashlib.sha256(f"craam-csv v1 {S} {A} {K}".encode())
    for array in (succ, prob, reward):
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()


# --------------------------------------------------------------------------------------------
# scipy value iteration


def scipy_value_iteration(np, sparse, S, A, K, succ, prob, reward, gamma, epsilon):
    """pymdptoolbox's value iteration on one CSR matrix per action, choicelab's stopping rule.

    Returns (values, policy, iterations, seconds of sweeps)."""
    succ3 = succ.reshape(S, A, K)
    prob3 = prob.reshape(S, A, K)
    indptr = np.arange(0, S * K + 1, K, dtype=np.int64)
    P = []
    for a in range(A):
        P.append(
            sparse.csr_matrix(
                (
                    np.ascontiguousarray(prob3[:, a, :]).reshape(-1),
                    np.ascontiguousarray(succ3[:, a, :]).reshape(-1),
                    indptr,
                ),
                shape=(S, S),
            )
        )
    # The expected reward the CSV file implies, Σ_s' P(s'|s,a)·r(s,a), summed in the order
    # choicelab's reader sums it, so both sides solve bit-for-bit the same MDP (it differs
    # from r(s,a) by a few ulp).
    terms = prob * reward[:, None]
    implied = terms[:, 0].copy()
    for k in range(1, K):
        implied = implied + terms[:, k]
    R = np.ascontiguousarray(implied.reshape(S, A).T)  # R[a] is r(·, a)

    threshold = epsilon * (1.0 - gamma) / (2.0 * gamma)
    V = np.zeros(S)
    Q = np.empty((A, S))
    iterations = 0
    seconds = 0.0
    while True:
        start = time.perf_counter()
        for a in range(A):
            Q[a] = R[a] + gamma * P[a].dot(V)
        policy = Q.argmax(axis=0)  # ties go to the lowest action, as in choicelab
        V_new = Q.max(axis=0)
        variation = np.abs(V_new - V).max()
        seconds += time.perf_counter() - start
        V = V_new
        iterations += 1
        if variation < threshold:
            return V, policy, iterations, seconds
        if iterations >= 1_000_000:
            sys.exit("error: scipy value iteration did not converge in 1e6 sweeps")


# --------------------------------------------------------------------------------------------


def main():
    args = parse_args()
    import numpy as np
    import scipy
    from scipy import sparse

    S, A, K = args.states, args.actions, args.successors
    binary = args.binary.resolve() if args.binary else build_choicelab()
    if not binary.exists():
        sys.exit(f"error: {binary} does not exist")

    OUT.mkdir(parents=True, exist_ok=True)
    mdp_csv = OUT / f"random_S{S}_A{A}_K{K}_seed{args.seed}.csv"
    values_csv = OUT / "choicelab_values.csv"

    start = time.perf_counter()
    succ, prob, reward = random_sparse_mdp(np, S, A, K, args.seed)
    digest = fingerprint(np, S, A, K, succ, prob, reward)
    stamp = mdp_csv.with_name(mdp_csv.name + ".sha256")
    if mdp_csv.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        print(f"reusing {mdp_csv.relative_to(ROOT)} (same MDP)", flush=True)
    else:
        stamp.unlink(missing_ok=True)
        write_craam_csv(np, mdp_csv, S, A, K, succ, prob, reward)
        stamp.write_text(digest + "\n")
        print(
            f"wrote {mdp_csv.relative_to(ROOT)}: S={S} A={A} K={K} seed={args.seed}, "
            f"{S * A * K} rows, {mdp_csv.stat().st_size / 1e6:.0f} MB "
            f"in {time.perf_counter() - start:.1f} s",
            flush=True,
        )

    print(
        f"scipy {scipy.__version__}, numpy {np.__version__}: value iteration on {A} CSR "
        "matrices; sparse matvec is single-threaded, so numpy's BLAS and its threads play "
        "no part",
        flush=True,
    )
    v_py, pi_py, it_py, sec_py = scipy_value_iteration(
        np, sparse, S, A, K, succ, prob, reward, args.gamma, args.epsilon
    )
    print(f"  {it_py} sweeps in {sec_py:.3f} s", flush=True)

    it_cl, sec_cl, ms_cl = run_choicelab(binary, mdp_csv, values_csv, args)
    print(f"  {it_cl} sweeps in {sec_cl:.3f} s", flush=True)

    table = np.loadtxt(values_csv, delimiter=",", skiprows=1, ndmin=2)
    if table.shape[0] != S:
        sys.exit(f"error: {values_csv} has {table.shape[0]} rows, expected {S}")
    order = np.argsort(table[:, 0], kind="stable")
    pi_cl = table[order, 1].astype(np.int64)
    v_cl = table[order, 2]

    max_dv = float(np.abs(v_py - v_cl).max())
    mismatches = int((pi_py != pi_cl).sum())
    ms_py = 1e3 * sec_py / it_py
    # From the total (µs resolution), which is finer than the printed per-iteration figure.
    ms_cl = 1e3 * sec_cl / it_cl if sec_cl > 0 else ms_cl
    ratio = ms_py / ms_cl if ms_cl > 0 else float("inf")
    threads = args.threads if args.threads is not None else os.cpu_count()

    print()
    print(f"S={S} A={A} K={K} nnz={S * A * K} gamma={args.gamma} epsilon={args.epsilon:g}")
    width = 38
    print(f"{'':{width}} {'ms/sweep':>10} {'sweeps':>8} {'total s':>9}")
    print(f"{'scipy CSR VI (1 thread)':{width}} {ms_py:10.4g} {it_py:8d} {sec_py:9.3f}")
    label = f"choicelab vi ({threads} thread{'' if threads == 1 else 's'})"
    print(f"{label:{width}} {ms_cl:10.4g} {it_cl:8d} {sec_cl:9.3f}")
    print(f"{'ratio scipy / choicelab (per sweep)':{width}} {ratio:10.2f}")
    print(f"max |V_scipy - V_choicelab|: {max_dv:.3e}")
    print(f"policy mismatches: {mismatches} of {S}")

    failures = []
    if mismatches:
        failures.append(f"policies differ in {mismatches} states")
    if not max_dv <= args.value_tolerance:
        failures.append(f"values differ by {max_dv:.3e} > {args.value_tolerance:g}")
    if abs(it_py - it_cl) > 1:
        failures.append(f"iteration counts differ: scipy {it_py}, choicelab {it_cl}")
    if failures:
        print("FAIL: " + "; ".join(failures))
        sys.exit(1)
    print("OK: same policy, values agree")


if __name__ == "__main__":
    if not in_venv():
        ensure_venv_and_reexec()
    main()
