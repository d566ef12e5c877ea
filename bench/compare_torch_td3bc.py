#!/usr/bin/env python3
"""TD3+BC gradient-step throughput: choicelab-nn (candle, CPU) against PyTorch (CPU).

Both sides run CORL's TD3+BC update with the same sizes: actor and two critics with
256x256 ReLU hidden layers, batch 256, Adam lr 3e-4, alpha 2.5, discount 0.99, tau 0.005,
policy noise 0.2, noise clip 0.5, actor and targets every 2 steps, on synthetic transitions
(100k, uniform). Two shapes: hopper (17 observation, 6 action dimensions) and Pendulum (3, 1).
Both get the same thread count: torch.set_num_threads(N) and RAYON_NUM_THREADS=N for candle;
`--threads 2` (the default) is the headline, `--threads 1,2` adds a one-thread row.

    python3 bench/compare_torch_td3bc.py [--steps 500] [--repeats 1] [--threads 2] [--profile]

The first run creates bench/.venv-torch and installs torch from PyPI there. On Linux x86_64
the PyPI wheel is a CUDA build whose `import torch` loads the CUDA runtime libraries even when
no GPU is used, so `pip install --no-deps torch` alone cannot be imported; the script then adds
the CUDA library wheels that torch names (never used here: every tensor stays on the CPU).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / "bench" / ".venv-torch"
VENV_PY = VENV / "bin" / "python"
TORCH = "torch==2.15.0"
PURE_DEPS = ["filelock", "typing-extensions", "sympy", "mpmath", "networkx", "jinja2",
             "MarkupSafe", "fsspec", "setuptools>=77.0.3"]
# What torch 2.15.0's PyPI wheel loads at import on Linux (its Requires-Dist, less triton and
# cuda-bindings, which import does not need).
CUDA_IMPORT_DEPS = [
    "cuda-toolkit[cublas,cudart,cufft,cufile,cupti,cusolver,cusparse,nvjitlink,nvrtc,nvtx]==13.2.2",
    "nvidia-cudnn-cu13==9.26.0.51", "nvidia-cusparselt-cu13==0.8.1",
    "nvidia-nccl-cu13==2.30.7", "nvidia-nvshmem-cu13==3.7.2",
]
SHAPES = [("hopper", 17, 6), ("pendulum", 3, 1)]


def torch_imports() -> bool:
    probe = subprocess.run([str(VENV_PY), "-c", "import torch"], capture_output=True, text=True)
    return probe.returncode == 0


def ensure_venv() -> None:
    if not VENV_PY.exists():
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    if torch_imports():
        return
    pip = [str(VENV_PY), "-m", "pip", "install", "-q"]
    subprocess.run(pip + ["--no-deps", TORCH], check=True)
    subprocess.run(pip + PURE_DEPS, check=True)
    if not torch_imports():
        print("import torch needs the CUDA runtime libraries; installing them (CPU use only)")
        subprocess.run(pip + CUDA_IMPORT_DEPS, check=True)
    if not torch_imports():
        sys.exit("import torch still fails in bench/.venv-torch")


def torch_worker(obs_dim: int, act_dim: int, steps: int) -> None:
    """CORL's TD3+BC update, timed; runs inside the venv."""
    import warnings

    warnings.filterwarnings("ignore")
    import torch
    import torch.nn as nn
    import torch.nn.functional as F

    torch.set_num_threads(int(os.environ.get("BENCH_THREADS", "2")))
    torch.manual_seed(0)
    max_action, discount, tau, alpha = 1.0, 0.99, 0.005, 2.5
    policy_noise, noise_clip, policy_freq, batch = 0.2 * max_action, 0.5 * max_action, 2, 256

    def mlp(inp, out, tanh):
        layers = [nn.Linear(inp, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, out)]
        return nn.Sequential(*(layers + [nn.Tanh()] if tanh else layers))

    actor = mlp(obs_dim, act_dim, True)
    critic1, critic2 = mlp(obs_dim + act_dim, 1, False), mlp(obs_dim + act_dim, 1, False)
    import copy

    actor_t, critic1_t, critic2_t = copy.deepcopy(actor), copy.deepcopy(critic1), copy.deepcopy(critic2)
    actor_opt = torch.optim.Adam(actor.parameters(), lr=3e-4)
    critic1_opt = torch.optim.Adam(critic1.parameters(), lr=3e-4)
    critic2_opt = torch.optim.Adam(critic2.parameters(), lr=3e-4)

    n = 100_000
    states = torch.rand(n, obs_dim) * 6 - 3
    next_states = torch.rand(n, obs_dim) * 6 - 3
    states = (states - states.mean(0)) / (states.std(0) + 1e-3)
    next_states = (next_states - next_states.mean(0)) / (next_states.std(0) + 1e-3)
    actions = torch.rand(n, act_dim) * 2 - 1
    rewards = torch.rand(n, 1) * 2 - 1
    dones = (torch.arange(n) % 200 == 199).float().unsqueeze(1)

    def soft_update(target, source):
        for tp, sp in zip(target.parameters(), source.parameters()):
            tp.data.copy_((1 - tau) * tp.data + tau * sp.data)

    it = 0

    def step():
        nonlocal it
        it += 1
        idx = torch.randint(0, n, (batch,))
        s, a, r, s2, d = states[idx], actions[idx], rewards[idx], next_states[idx], dones[idx]
        not_done = 1 - d
        with torch.no_grad():
            noise = (torch.randn_like(a) * policy_noise).clamp(-noise_clip, noise_clip)
            a2 = (max_action * actor_t(s2) + noise).clamp(-max_action, max_action)
            sa2 = torch.cat([s2, a2], 1)
            target_q = torch.min(critic1_t(sa2), critic2_t(sa2))
            target_q = r + not_done * discount * target_q
        sa = torch.cat([s, a], 1)
        q1, q2 = critic1(sa), critic2(sa)
        critic_loss = F.mse_loss(q1, target_q) + F.mse_loss(q2, target_q)
        critic1_opt.zero_grad()
        critic2_opt.zero_grad()
        critic_loss.backward()
        critic1_opt.step()
        critic2_opt.step()
        if it % policy_freq == 0:
            pi = max_action * actor(s)
            q = critic1(torch.cat([s, pi], 1))
            lmbda = alpha / q.abs().mean().detach()
            actor_loss = -lmbda * q.mean() + F.mse_loss(pi, a)
            actor_opt.zero_grad()
            actor_loss.backward()
            actor_opt.step()
            soft_update(critic1_t, critic1)
            soft_update(critic2_t, critic2)
            soft_update(actor_t, actor)

    for _ in range(20):
        step()
    t = time.perf_counter()
    for _ in range(steps):
        step()
    secs = time.perf_counter() - t
    print(json.dumps({"steps_per_s": steps / secs, "seconds": secs, "torch": torch.__version__,
                      "threads": torch.get_num_threads()}))


def run_torch(obs_dim: int, act_dim: int, steps: int, threads: int) -> dict:
    env = dict(os.environ, BENCH_THREADS=str(threads))
    out = subprocess.run([str(VENV_PY), __file__, "--torch-worker", str(obs_dim), str(act_dim),
                          str(steps)], env=env, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def run_choicelab(obs_dim: int, act_dim: int, steps: int, threads: int, profile: bool,
                  elementwise: int) -> dict:
    # RAYON_NUM_THREADS sizes gemm's pool; CANDLE_NUM_THREADS candle's element-wise barrier pool.
    env = dict(os.environ, RAYON_NUM_THREADS=str(threads), CANDLE_NUM_THREADS=str(elementwise))
    cmd = ["cargo", "run", "-q", "--release", "-p", "choicelab-nn", "--example",
           "td3bc_throughput", "--", str(obs_dim), str(act_dim), str(steps)]
    if profile:
        cmd.append("--profile")
    out = subprocess.run(cmd, cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout
    result = {"steps_per_s": float(re.search(r"steps_per_s=([0-9.]+)", out).group(1))}
    prof = re.search(r"profile_ms (.*)", out)
    if prof:
        result["profile_ms"] = dict(kv.split("=") for kv in prof.group(1).split())
    return result


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--torch-worker":
        torch_worker(int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--threads", default="2", help="comma-separated thread counts")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--profile", action="store_true", help="also time candle's parts of a step")
    args = parser.parse_args()
    ensure_venv()
    subprocess.run(["cargo", "build", "-q", "--release", "-p", "choicelab-nn", "--example",
                    "td3bc_throughput"], cwd=ROOT, check=True)
    print(f"TD3+BC, batch 256, 256x256 networks, {args.steps} gradient steps per run")
    with open("/proc/loadavg") as f:
        print("load average before:", " ".join(f.read().split()[:3]), f"on {os.cpu_count()} cores")
    print(f"{'shape':<16}{'threads':>8}{'choicelab':>11}{'choicelab*':>12}{'torch':>9}"
          f"{'ratio':>8}{'ratio*':>8}   (gradient steps/s)")
    results = []
    for threads in [int(t) for t in args.threads.split(",")]:
        for name, obs_dim, act_dim in SHAPES:
            for _ in range(args.repeats):
                ours = run_choicelab(obs_dim, act_dim, args.steps, threads, args.profile, threads)
                tuned = (run_choicelab(obs_dim, act_dim, args.steps, threads, False, 1)
                         if threads > 1 else ours)
                theirs = run_torch(obs_dim, act_dim, args.steps, threads)
                ratio = ours["steps_per_s"] / theirs["steps_per_s"]
                ratio_tuned = tuned["steps_per_s"] / theirs["steps_per_s"]
                label = f"{name} {obs_dim}x{act_dim}"
                print(f"{label:<16}{threads:>8}{ours['steps_per_s']:>11.1f}"
                      f"{tuned['steps_per_s']:>12.1f}{theirs['steps_per_s']:>9.1f}"
                      f"{ratio:>8.2f}{ratio_tuned:>8.2f}")
                if "profile_ms" in ours:
                    print("  candle parts (ms per call):", ours["profile_ms"])
                results.append({"shape": label, "threads": threads, "choicelab": ours,
                                "choicelab_elementwise_1": tuned, "torch": theirs,
                                "ratio": ratio, "ratio_elementwise_1": ratio_tuned})
    print("choicelab*: CANDLE_NUM_THREADS=1 (element-wise ops on one thread, gemm on all)")
    with open("/proc/loadavg") as f:
        print("load average after:", " ".join(f.read().split()[:3]))
    print("ratio = choicelab steps/s ÷ torch steps/s (above 1: choicelab faster)")
    out_dir = ROOT / "bench" / "out"
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "td3bc_torch.json").write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
