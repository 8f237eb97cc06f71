"""Fairness under contention: two default ``infoflow run`` side by side against one alone.

Starts the runs itself (``python -m infoflow.cli.main run --no-progress`` into temporary
folders, the child processes inheriting this environment): first one alone, then two at the
same time, and prints each wall time and its ratio to the solo time. On a machine with c CPUs
and two runs of c threads each, a fair share is about twice the solo time; the target is each
within 2.5x. Oversubscribed thread pools (torch's and OpenBLAS's, each sized to all cores and
spinning against each other) showed as 285 s and over 300 s against 45-68 s alone before
infoflow held one thread budget in a scope (``infoflow.thread_budget``).

Run: ``python benchmarks/bench_contention.py [--repeats 1]`` (a few minutes on 2 cores). Other
work on the machine inflates every number; run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def start(folder: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "infoflow.cli.main", "run", "--out", str(folder), "--no-progress"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=os.environ.copy(), text=True)


def wait(process: subprocess.Popen, started: float) -> float:
    _, errors = process.communicate()
    if process.returncode:
        raise SystemExit(f"infoflow run failed ({process.returncode}):\n{errors}")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="solo runs and pairs (best of)")
    args = parser.parse_args()
    print(f"CPUs this process may use: {len(os.sched_getaffinity(0))}, load average "
          f"{os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        solo = []
        for i in range(args.repeats):
            began = time.perf_counter()
            solo.append(wait(start(root / f"solo{i}"), began))
            print(f"alone      : {solo[-1]:7.1f} s", flush=True)
        pairs = []
        for i in range(args.repeats):
            began = time.perf_counter()
            processes = [start(root / f"pair{i}-{j}") for j in range(2)]
            pairs.append([wait(p, began) for p in processes])
            print(f"side by side: {pairs[-1][0]:7.1f} s and {pairs[-1][1]:7.1f} s", flush=True)
    best = min(solo)
    worst = min(max(pair) for pair in pairs)
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    print(f"slower of the pair / solo: {worst / best:.2f}x (target <= 2.5x)")


if __name__ == "__main__":
    main()
