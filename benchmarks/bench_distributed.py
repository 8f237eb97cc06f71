"""Spreading a checkpoint over ranks: one monitor checkpoint with ``distributed=True`` on 1 and
on 2 processes (gloo, CPU, one thread each), against the same checkpoint in one process.

A LeNet-5 with random weights on random 28 x 28 inputs of 10 classes, n probe samples, its four
layers in tensor mode: the checkpoint's eigendecompositions (9 full ones and the class blocks)
are dealt round-robin to the ranks. Prints each variant's time per checkpoint (best of
``--repeats``, every rank waiting for the slowest), the speed-up of 2 ranks over 1, and the
largest difference of any value from the single process's (it must be <= 1e-9 bits).

This is the CPU stand-in for several GPUs (one rank each): with R ranks a checkpoint whose time
is its eigendecompositions takes about 1/R of it, plus the Gram matrices every rank builds and
the gathering.

Run: ``python benchmarks/bench_distributed.py [--n 2000] [--repeats 2]`` (a few minutes on 2
cores; needs a quiet machine: each rank takes one core).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import warnings
from datetime import timedelta
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from infoflow.models import LeNet5
from infoflow.monitor import InformationMonitor

LAYERS = ["conv1", "conv2", "fc1", "fc2"]


def _probe(n: int) -> tuple[torch.Tensor, np.ndarray]:
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, size=n)
    prototypes = rng.uniform(size=(10, 1, 28, 28))
    x = np.clip(prototypes[y] + 0.3 * rng.normal(size=(n, 1, 28, 28)), 0, 1)
    return torch.tensor(x, dtype=torch.float32), y


def _monitor(n: int, distributed: bool) -> InformationMonitor:
    torch.manual_seed(0)
    model = LeNet5(1, 28, filters=(6, 16))
    x, y = _probe(n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return InformationMonitor(model, x, y, layers=LAYERS, conv_mode="tensor",
                                  method="exact", distributed=distributed, timeout=600)


def _timed(monitor: InformationMonitor, repeats: int) -> tuple[float, dict, list]:
    """(best seconds per checkpoint, the last values, the last checkpoint's solver calls as
    (rows, seconds))."""
    from infoflow.measures import eigenproblems

    solve, calls = eigenproblems.solve, []

    def counted(problem):
        start = time.perf_counter()
        result = solve(problem)
        calls.append((problem.matrix.shape[-1], time.perf_counter() - start))
        return result

    best, values = float("inf"), {}
    eigenproblems.solve = counted
    try:
        for step in range(repeats):
            calls.clear()
            if dist.is_initialized():
                dist.barrier()
            start = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                values = monitor.measure(step).values
            if dist.is_initialized():
                dist.barrier()  # the checkpoint is done when the slowest rank is
            best = min(best, time.perf_counter() - start)
    finally:
        eigenproblems.solve = solve
    return best, {f"{k[0]}|{k[1]}": v for k, v in values.items()}, list(calls)


def _solves(calls: list, n: int) -> str:
    full = [seconds for rows, seconds in calls if rows == n]
    return (f"{len(full)} full {n} x {n} eigendecompositions, {sum(full):.2f} s "
            f"({sum(full) / max(len(full), 1):.2f} s each)")


def _rank(rank: int, world: int, init: str, out: str, n: int, repeats: int) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{init}", rank=rank, world_size=world,
                            timeout=timedelta(seconds=900))
    try:
        seconds, values, calls = _timed(_monitor(n, distributed=True), repeats)
        Path(f"{out}.{rank}").write_text(json.dumps(calls))
        if rank == 0:
            Path(out).write_text(json.dumps({"seconds": seconds, "values": values}))
    finally:
        dist.destroy_process_group()


def _spread(world: int, n: int, repeats: int) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        out = str(Path(folder) / "result.json")
        mp.start_processes(_rank, args=(world, str(Path(folder) / "init"), out, n, repeats),
                           nprocs=world, join=True, start_method="spawn")
        result = json.loads(Path(out).read_text())
        result["calls"] = [json.loads(Path(f"{out}.{r}").read_text()) for r in range(world)]
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="probe samples")
    parser.add_argument("--repeats", type=int, default=2, help="checkpoints timed (best of)")
    args = parser.parse_args()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        alone_seconds, alone, alone_calls = _timed(_monitor(args.n, distributed=False),
                                                   args.repeats)
    finally:
        torch.set_num_threads(threads)
    print(f"one checkpoint, LeNet-5 (4 layers, tensor mode), n = {args.n}, exact float64, "
          f"one thread per process, best of {args.repeats}")
    print(f"  one process, not distributed : {alone_seconds:8.2f} s   "
          f"{_solves(alone_calls, args.n)}")
    spread = {}
    for world in (1, 2):
        result = _spread(world, args.n, args.repeats)
        spread[world] = result["seconds"]
        diff = max(abs(result["values"][k] - v) for k, v in alone.items()
                   if np.isfinite(v))
        print(f"  distributed over {world} rank(s)   : {result['seconds']:8.2f} s   largest "
              f"|diff| from one process {diff:.1e} bits", flush=True)
        for rank, calls in enumerate(result["calls"]):
            print(f"      rank {rank}: {_solves(calls, args.n)}")
    print(f"  2 ranks against 1: {spread[1] / spread[2]:.2f}x faster")


if __name__ == "__main__":
    main()
