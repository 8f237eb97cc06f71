"""What confidence intervals cost: one monitor checkpoint with and without ``uncertainty``.

LeNet-5 (untrained, seed 0) on a probe of held-out digits, the default run's settings
(tensor mode, silverman, alpha 1.01, exact float64 spectra); best of ``--repeats`` timings of
``monitor.measure`` on one thread, both monitors timed in the same run.

Run: ``python benchmarks/bench_uncertainty_cost.py [--n 500] [--repeats 3]``.
"""

from __future__ import annotations

import argparse
import time

import torch
from threadpoolctl import threadpool_limits

from infoflow.data import load_dataset
from infoflow.models import build_model
from infoflow.monitor import InformationMonitor


def best_of(repeats: int, run) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=500, help="probe size (500, the default run's)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    data = load_dataset("digits")
    torch.manual_seed(0)
    model = build_model("lenet5", in_channels=data.channels, image_size=data.image_size,
                        classes=data.classes)
    x, y = torch.tensor(data.test_x[: args.n]), data.test_y[: args.n]
    torch.set_num_threads(1)  # this script's own process: one thread for torch and BLAS
    timings = {}
    with threadpool_limits(1):
        for uncertainty in (False, True):
            monitor = InformationMonitor(model, x, y, conv_mode="tensor", uncertainty=uncertainty)
            timings[uncertainty] = best_of(args.repeats, lambda: monitor.measure(0))
    print(f"one checkpoint, LeNet-5 on digits, n = {args.n}, 1 thread, best of {args.repeats}:")
    print(f"  without uncertainty {timings[False]:.3f} s")
    print(f"  with uncertainty    {timings[True]:.3f} s  ({timings[True] / timings[False]:.1f}x)")


if __name__ == "__main__":
    main()
