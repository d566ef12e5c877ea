#!/usr/bin/env python3
"""NARMA10 with a 200-unit echo-state network: choicelab against reservoirpy 0.4.2, side by side.

    python3 bench/compare_reservoirpy.py [--seeds 5] [--units 200] [--binary PATH] [--venv DIR]

The first run creates a virtual environment (default bench/.venv-reservoirpy) with
reservoirpy==0.4.2 from PyPI and re-executes itself inside it; it builds choicelab in release
unless --binary is given. Both sides run the same task with the same settings:

* data: reservoirpy's `narma(order=10, a1=0.3, a2=0.05, b=1.5, c=0.1)` recursion (the shifted
  one: y[t+1] = 0.3 y[t] + 0.05 y[t] sum(y[t-10..t-1]) + 1.5 u[t-10] u[t] + 0.1), inputs
  Uniform[0, 0.5), target y[t] paired with input u[t+10]; 2,000 training rows (the first 100
  only warm the reservoir up) and 1,000 test rows, the state running on from training;
* network: 200 tanh units, leak 1, spectral radius 0.9 (W: 10% non-zero Normal(0, 1) entries,
  rescaled by its largest |eigenvalue|; reservoirpy uses ARPACK, choicelab the full dense
  eigenvalue decomposition), W_in: 10% non-zero ±1 entries, input scaling 1, no bias;
* readout: ridge 1e-6 with an unpenalised bias (both centre states and targets);
* score: NRMSE = RMSE / population std of the test targets.

Two times per side and seed, data generation excluded from both:

* train + evaluate (the compared time): run the network over the 2,000 training rows, fit the
  readout, run it over the 1,000 test rows and predict them;
* end to end: the same plus building the network (random weights and the spectral radius:
  ARPACK's `eigs` in reservoirpy, a dense O(n³) eigenvalue decomposition in choicelab).

reservoirpy runs in this process (one untimed run first, so imports and caches are warm; its
lazy initialisation is forced before the train + evaluate clock starts); choicelab's
`choicelab esn narma10 --seeds N` times itself and prints one JSON line per seed, and the script
also reports that process's whole wall time. The seeds differ between the two libraries
(different generators), so NRMSEs agree within seed noise, not bit for bit. Exit status 1 if
the median train + evaluate speed-up is below --min-speedup (5) or the mean NRMSEs differ by
more than 3 combined standard errors.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import venv
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
REQUIREMENT = "reservoirpy==0.4.2"


def ensure_venv_and_reexec(path: Path) -> None:
    """Creates the environment with reservoirpy if needed, then re-runs this script in it."""
    python = path / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if Path(sys.prefix).resolve() == path.resolve():
        return
    if not python.exists():
        print(f"creating virtual environment {path}", flush=True)
        venv.EnvBuilder(with_pip=True).create(path)
    check = subprocess.run(
        [str(python), "-c", "import reservoirpy; assert reservoirpy.__version__ == '0.4.2'"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if check.returncode != 0:
        print(f"installing {REQUIREMENT} into {path}", flush=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", REQUIREMENT], check=True)
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])


def parse_args():
    p = argparse.ArgumentParser(description="NARMA10 ESN: choicelab against reservoirpy 0.4.2.")
    p.add_argument("--seeds", type=int, default=5, help="seeds per library (default 5)")
    p.add_argument("--units", type=int, default=200, help="reservoir units (default 200)")
    p.add_argument("--train", type=int, default=2000, help="training rows incl. warm-up")
    p.add_argument("--test", type=int, default=1000, help="test rows")
    p.add_argument("--warmup", type=int, default=100, help="warm-up rows")
    p.add_argument("--binary", type=Path, help="choicelab binary (default: build in release)")
    p.add_argument(
        "--venv",
        type=Path,
        default=BENCH / ".venv-reservoirpy",
        help="virtual environment with reservoirpy (default bench/.venv-reservoirpy)",
    )
    p.add_argument("--min-speedup", type=float, default=5.0, help="required speed-up (5)")
    return p.parse_args()


def reservoirpy_run(seed: int, args) -> tuple[float, float, float]:
    """One reservoirpy network on one NARMA10 draw: (train + evaluate s, end-to-end s, NRMSE)."""
    import numpy as np
    from reservoirpy.datasets import narma
    from reservoirpy.nodes import Reservoir, Ridge

    order = 10
    u, y = narma(
        args.train + args.test, order=order, a1=0.3, a2=0.05, b=1.5, c=0.1,
        seed=np.random.default_rng(seed),
    )
    x = u[order:]
    start = time.perf_counter()
    reservoir = Reservoir(units=args.units, sr=0.9, lr=1.0, input_scaling=1.0, seed=seed)
    model = reservoir >> Ridge(ridge=1e-6)
    reservoir.initialize(x[:1])
    built = time.perf_counter()
    model.fit(x[: args.train], y[: args.train], warmup=args.warmup)
    predicted = model.run(x[args.train :])
    done = time.perf_counter()
    target = y[args.train :]
    nrmse = float(np.sqrt(np.mean((predicted - target) ** 2)) / np.std(target))
    return done - built, done - start, nrmse


def choicelab_binary(args) -> Path:
    if args.binary:
        return args.binary
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    print("building choicelab (release)", flush=True)
    subprocess.run(["cargo", "build", "--release", "-p", "choicelab-cli"], cwd=ROOT, check=True)
    return target / "release" / "choicelab"


def choicelab_runs(binary: Path, args) -> tuple[list[dict], float]:
    command = [
        str(binary), "esn", "narma10", "--units", str(args.units), "--spectral-radius", "0.9",
        "--leak", "1", "--input-scaling", "1", "--ridge", "1e-6", "--train", str(args.train),
        "--test", str(args.test), "--warmup", str(args.warmup), "--seeds", str(args.seeds),
    ]
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - start
    return [json.loads(line) for line in done.stdout.splitlines() if line.strip()], wall


def summary(xs: list[float]) -> tuple[float, float]:
    return statistics.mean(xs), (statistics.stdev(xs) if len(xs) > 1 else 0.0)


def main() -> int:
    args = parse_args()
    ensure_venv_and_reexec(args.venv)
    binary = choicelab_binary(args)
    reservoirpy_run(10_000, args)  # untimed: imports, caches
    rpy = [reservoirpy_run(seed, args) for seed in range(args.seeds)]
    cl, wall = choicelab_runs(binary, args)
    rpy_t = [t for t, _, _ in rpy]
    rpy_all = [t for _, t, _ in rpy]
    rpy_e = [e for _, _, e in rpy]
    cl_t = [r["seconds"] - r["build_seconds"] for r in cl]
    cl_all = [r["seconds"] for r in cl]
    cl_e = [r["nrmse"] for r in cl]
    print(f"\nNARMA10 (reservoirpy's recursion), {args.units} units, sr 0.9, leak 1, ridge 1e-6, "
          f"{args.train} train (warm-up {args.warmup}) / {args.test} test, {args.seeds} seeds")
    print("seconds: train + evaluate (end to end, with building the network)")
    print(f"{'seed':>4}  {'reservoirpy':>20}  {'NRMSE':>7}  {'choicelab':>20}  {'NRMSE':>7}")
    for seed in range(args.seeds):
        print(f"{seed:>4}  {rpy_t[seed]:>9.4f} ({rpy_all[seed]:.4f})  {rpy_e[seed]:>7.4f}  "
              f"{cl_t[seed]:>9.4f} ({cl_all[seed]:.4f})  {cl_e[seed]:>7.4f}")
    med_r, med_c = statistics.median(rpy_t), statistics.median(cl_t)
    speedup = med_r / med_c
    end_to_end = statistics.median(rpy_all) / statistics.median(cl_all)
    (mr, sr), (mc, sc) = summary(rpy_e), summary(cl_e)
    se = ((sr**2 + sc**2) / args.seeds) ** 0.5
    z = (mr - mc) / se if se > 0 else 0.0
    print(f"\nmedian train + evaluate: reservoirpy {med_r:.4f} s, choicelab {med_c:.4f} s; "
          f"speed-up {speedup:.1f}x")
    print(f"median end to end: reservoirpy {statistics.median(rpy_all):.4f} s, choicelab "
          f"{statistics.median(cl_all):.4f} s (build "
          f"{statistics.median(r['build_seconds'] for r in cl):.4f} s); speed-up {end_to_end:.1f}x")
    print(f"choicelab whole process, {args.seeds} seeds incl. start-up and data: {wall:.3f} s; "
          f"reservoirpy total {sum(rpy_t):.3f} s (timed parts only)")
    print(f"NRMSE (RMSE/std): reservoirpy {mr:.4f} ± {sr:.4f}, choicelab {mc:.4f} ± {sc:.4f} "
          f"(mean ± sd over seeds; z = {z:+.2f})")
    ok = speedup >= args.min_speedup and abs(z) <= 3.0
    print("OK" if ok else "FAIL: speed-up below the bar or NRMSEs differ beyond seed noise")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
