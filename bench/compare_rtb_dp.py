#!/usr/bin/env python3
"""The budget-constrained bidding value table V(n, b): choicelab against numpy.

    python3 bench/compare_rtb_dp.py [--data DIR] [--campaign 2997] [--c0 0.5] [--auctions 1000]
                                    [--binary PATH] [--threads N] [--skip-loop]

The first run creates bench/.venv (shared with compare_vi.py) with numpy and re-executes itself
inside it. It builds choicelab in release (unless --binary is given) and reads
$CHOICELAB_DATA/rtb/<campaign>.info.json (default ../shared/data beside the repository). Both
sides fill V(n, b) for n = 0..N−1 and b = 0..B, B = ⌊CPM_train·c₀·N⌋ (c₀ = 1/2, the largest
budget of the study: B = 31,508 for campaign 2997), by Cai et al.'s recursion with the
reference's conventions (add-one smoothed price law over 0..300, the pointer that finds the
largest non-negative bracket, V_n(0) = 0, the early exit within 1e-10 of V_max(n)):

- `choicelab solve INFO.json --method bidding --c0 C --horizon N` (its own timer, the table
  only);
- numpy, written two ways, each timed from the price histogram on:
  - "loop": the reference's structure, Python loops over n and b with the sum over bids as
    one `numpy.dot` per (n, b) (--skip-loop skips it: about a minute at c₀ = 1/2);
  - "vectorised": one Python loop over n; the bid bounds by `searchsorted` (valid because
    V(n, ·) is non-decreasing), the windowed sums as a full `numpy.convolve` of the row with
    the price law, minus the tails where the bound is below the highest price.

It prints the times, the ratios numpy / choicelab, V(N−1, B) and the checksum Σ V(n, b) of each,
and exits 1 if any value differs from choicelab's by more than 1e-9 relative. The speed ratios
(target ≥ 50× against the loop) are reported, never checked.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from compare_vi import ROOT, build_choicelab, ensure_venv_and_reexec, in_venv

REQUIREMENTS = ["numpy"]
MAX_BID, EXIT_PRECISION = 300, 1e-10


def parse_args():
    p = argparse.ArgumentParser(description="Compare choicelab's bidding DP with numpy.")
    p.add_argument(
        "--data",
        type=Path,
        default=Path(os.environ.get("CHOICELAB_DATA", ROOT.parent / "shared" / "data")),
        help="folder holding rtb/<campaign>.info.json (default $CHOICELAB_DATA or ../shared/data)",
    )
    p.add_argument("--campaign", default="2997", help="iPinYou campaign (default 2997)")
    p.add_argument("--c0", type=float, default=0.5, help="budget share c₀ (default 0.5)")
    p.add_argument("--auctions", type=int, default=1000, help="auctions per episode N")
    p.add_argument("--binary", type=Path, help="choicelab binary (default: build it)")
    p.add_argument("--threads", type=int, help="choicelab worker threads")
    p.add_argument("--skip-loop", action="store_true", help="skip the slow loop variant")
    return p.parse_args()


def landscape(np, info):
    counts = np.asarray(info["price_counter_train"], dtype=np.float64)
    return (counts + 1.0) / (counts.sum() + len(counts))


def pointer_bids(np, v, theta, budget):
    """a(b) for b = 1..B by the reference's downward pointer (clicks objective, γ = 1)."""
    bids = np.zeros(budget + 1, dtype=np.int64)
    pointer = budget - 1
    for b in range(budget, 0, -1):
        while pointer >= 0 and theta + (v[pointer] - v[b]) >= 0:
            pointer -= 1
        bids[b] = min(MAX_BID, b) if pointer < 0 else min(MAX_BID, b - pointer - 1)
    return bids


def table_loop(np, pdf, theta, auctions, budget):
    """Python loops over n and b; one numpy.dot per (n, b) for the sum over bids."""
    increment = float(pdf.sum() * theta)
    v = np.zeros(budget + 1)
    rows, v_max = [v.copy()], 0.0
    reversed_pdf = pdf[::-1].copy()
    cumulative = np.cumsum(pdf)
    for _ in range(1, auctions):
        bids = pointer_bids(np, v, theta, budget)
        cap = v_max + increment
        new = np.full(budget + 1, cap)
        new[0] = 0.0
        for b in range(1, budget + 1):
            a, here = bids[b], v[b]
            window = float(np.dot(reversed_pdf[MAX_BID - a :], v[b - a : b + 1]))
            new[b] = here + theta * cumulative[a] - here * cumulative[a] + window
            if abs(new[b] - cap) < EXIT_PRECISION:
                new[b + 1 :] = cap
                break
        v, v_max = new, cap
        rows.append(v)
    return rows


def table_vectorised(np, pdf, theta, auctions, budget):
    """One Python loop over n: searchsorted bounds, a full convolution, tails subtracted."""
    increment = float(pdf.sum() * theta)
    v = np.zeros(budget + 1)
    rows, v_max = [v.copy()], 0.0
    cumulative = np.cumsum(pdf)
    b = np.arange(1, budget + 1)
    for _ in range(1, auctions):
        # The pointer stops at the last p with θ + V(p) < V(b); V is non-decreasing in b.
        pointer = np.searchsorted(v + theta, v[1:], side="left") - 1
        bids = np.minimum(MAX_BID, b - pointer - 1)
        full = np.convolve(v, pdf)[1 : budget + 1]  # Σ_{δ ≤ 300, δ ≤ b} m(δ)V(b−δ)
        short = np.nonzero(bids < np.minimum(MAX_BID, b))[0]
        for i in short:  # tails δ > a(b) that the full window counted
            bb, a = i + 1, bids[i]
            top = min(MAX_BID, bb)
            full[i] -= np.dot(pdf[a + 1 : top + 1], v[bb - top : bb - a][::-1])
        here = v[1:]
        new_tail = here + theta * cumulative[bids] - here * cumulative[bids] + full
        cap = v_max + increment
        hit = np.nonzero(np.abs(new_tail - cap) < EXIT_PRECISION)[0]
        if hit.size:
            new_tail[hit[0] + 1 :] = cap
        v = np.concatenate(([0.0], new_tail))
        v_max = cap
        rows.append(v)
    return rows


def summary(np, rows, auctions, budget):
    return float(rows[auctions - 1][budget]), float(sum(r.sum() for r in rows))


def run_choicelab(binary, info_path, c0, auctions, threads):
    cmd = [str(binary), "solve", str(info_path), "--method", "bidding", "--c0", str(c0)]
    cmd += ["--horizon", str(auctions), "--quiet"]
    if threads:
        cmd += ["--threads", str(threads)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    value = float(re.search(r"value: V\([0-9]+, [0-9]+\) = (\S+)", out).group(1))
    checksum = float(re.search(r"checksum: (\S+)", out).group(1))
    seconds = float(re.search(r"time: (\S+) s", out).group(1))
    budget = int(re.search(r"budget: ([0-9]+)", out).group(1))
    return value, checksum, seconds, budget


def main():
    args = parse_args()
    if not in_venv():
        ensure_venv_and_reexec(REQUIREMENTS, __file__)
    import numpy as np

    info_path = args.data / "rtb" / f"{args.campaign}.info.json"
    if not info_path.exists():
        sys.exit(f"error: {info_path} not found (set --data or $CHOICELAB_DATA)")
    info = json.loads(info_path.read_text())
    theta = info["clk_train"] / info["imp_train"]
    budget = int(info["cost_train"] / info["imp_train"] * args.c0 * args.auctions)
    binary = args.binary or build_choicelab()
    value, checksum, rust_seconds, rust_budget = run_choicelab(
        binary, info_path, args.c0, args.auctions, args.threads
    )
    if rust_budget != budget:
        sys.exit(f"error: budgets differ: choicelab {rust_budget}, Python {budget}")
    print(f"campaign {args.campaign}: N = {args.auctions}, c0 = {args.c0}, B = {budget}")
    print(f"choicelab   {rust_seconds:10.3f} s   V(N-1,B) = {value!r}   checksum = {checksum!r}")
    failed = False
    variants = [("vectorised", table_vectorised)]
    if not args.skip_loop:
        variants.append(("loop", table_loop))
    for name, fill in variants:
        start = time.perf_counter()
        pdf = landscape(np, info)
        rows = fill(np, pdf, theta, args.auctions, budget)
        seconds = time.perf_counter() - start
        v, c = summary(np, rows, args.auctions, budget)
        ok = abs(v - value) <= 1e-9 * max(1.0, abs(value)) and abs(c - checksum) <= 1e-9 * abs(checksum)
        failed |= not ok
        print(
            f"numpy {name:<10} {seconds:9.3f} s   V(N-1,B) = {v!r}   checksum = {c!r}   "
            f"ratio numpy/choicelab = {seconds / rust_seconds:6.1f}x   {'agree' if ok else 'DIFFER'}"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
