#!/usr/bin/env python3
"""Replay fixtures for choicelab's classic-control worlds, recorded with gymnasium.

    python3 bench/gen_gym_fixtures.py [--out crates/envs/tests/fixtures/gym]

The first run creates bench/.venv-gym and installs gymnasium 1.4.0 and numpy into it from
PyPI; the script then re-executes itself inside it. For each world (CartPole-v1, Pendulum-v1,
MountainCarContinuous-v0, Acrobot-v1, each from `gymnasium.make`, so with its TimeLimit) it
runs episodes with reset seeds 42, 43, ...: `reset(seed=s)`, then actions drawn from the
world's `action_space` seeded with the same s, until the episode terminates or is truncated,
and stops after the first episode that reaches the world's step budget. It writes one CSV per
world:

    kind,seed,action,s0,...,s{k-1},reward,terminated,truncated
    reset,42,,<env.unwrapped.state after reset>,,,
    step,42,<action>,<env.unwrapped.state after the step>,<reward>,<0|1>,<0|1>

Floats are written with Python's repr of the float64 value (shortest round trip; float32
actions and states are widened exactly first), so a reader that parses to float64 gets the
stored bits back. The Rust tests (crates/envs/tests/classic_control.rs) copy each reset state
into the Rust world and replay the actions; gymnasium's reset draws from numpy's PCG64, which
choicelab does not reimplement.
"""

import argparse
import os
import subprocess
import sys
import venv
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
VENV = BENCH / ".venv-gym"
REQUIREMENTS = ["gymnasium==1.4.0", "numpy"]
DEFAULT_OUT = ROOT / "crates" / "envs" / "tests" / "fixtures" / "gym"

# World, state width, step budget (whole episodes, stopping once the budget is reached).
WORLDS = [
    ("CartPole-v1", 4, 4000),
    ("Pendulum-v1", 2, 4000),
    ("MountainCarContinuous-v0", 2, 4995),
    ("Acrobot-v1", 4, 4000),
]
FIRST_SEED = 42


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def in_venv() -> bool:
    return Path(sys.prefix).resolve() == VENV.resolve()


def ensure_venv_and_reexec() -> None:
    """Creates bench/.venv-gym with gymnasium and numpy if needed, then re-runs this script."""
    python = venv_python()
    if not python.exists():
        print(f"creating virtual environment {VENV.relative_to(ROOT)}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    check = subprocess.run(
        [str(python), "-c", "import gymnasium, numpy; assert gymnasium.__version__ == '1.4.0'"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    if check.returncode != 0:
        print(f"installing {' '.join(REQUIREMENTS)} into {VENV.relative_to(ROOT)}", flush=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *REQUIREMENTS], check=True
        )
    os.execv(str(python), [str(python), str(Path(__file__).resolve()), *sys.argv[1:]])


def fmt(x) -> str:
    """The shortest decimal that parses back to the float64 value of x."""
    return repr(float(x))


def fmt_action(action) -> str:
    import numpy as np

    a = np.asarray(action)
    if a.dtype.kind in "iu":
        return str(int(a))
    return ";".join(fmt(v) for v in a.ravel())


def record(world: str, width: int, budget: int, out: Path) -> None:
    import gymnasium as gym
    import numpy as np

    env = gym.make(world)
    rows = []
    steps = 0
    seed = FIRST_SEED
    episodes = 0
    while steps < budget:
        env.reset(seed=seed)
        env.action_space.seed(seed)
        state = np.asarray(env.unwrapped.state)
        assert state.shape == (width,)
        rows.append(f"reset,{seed},," + ",".join(fmt(v) for v in state) + ",,,")
        done = False
        while not done:
            action = env.action_space.sample()
            _, reward, terminated, truncated, _ = env.step(action)
            state = np.asarray(env.unwrapped.state)
            rows.append(
                f"step,{seed},{fmt_action(action)},"
                + ",".join(fmt(v) for v in state)
                + f",{fmt(reward)},{int(terminated)},{int(truncated)}"
            )
            steps += 1
            done = terminated or truncated
        episodes += 1
        seed += 1
    env.close()
    header = (
        f"# {world}: gymnasium {gym.__version__}, numpy {np.__version__}, "
        f"made by bench/gen_gym_fixtures.py; {episodes} episodes, {steps} steps\n"
        "kind,seed,action,"
        + ",".join(f"s{i}" for i in range(width))
        + ",reward,terminated,truncated\n"
    )
    path = out / f"{world}.csv"
    path.write_text(header + "\n".join(rows) + "\n")
    print(f"{path.relative_to(ROOT)}: {episodes} episodes, {steps} steps, "
          f"{path.stat().st_size / 1024:.0f} KiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    if not in_venv():
        ensure_venv_and_reexec()
    args.out.mkdir(parents=True, exist_ok=True)
    for world, width, budget in WORLDS:
        record(world, width, budget, args.out.resolve())


if __name__ == "__main__":
    main()
