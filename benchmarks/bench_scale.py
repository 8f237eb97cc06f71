"""Scale: time and error of each spectrum method against exact float64, measured in one run.

For n in {1000, 2000, 4000, 8000} and two kinds of Gaussian Gram matrix —
* ``lenet``: digits through a LeNet-5 trained for 30 epochs (its fc1 activations), resampled with
  small noise (5 % of the activations' standard deviation) to reach n;
* ``random``: standard normal data in 10 dimensions —
prints, for alpha = 1.01 and alpha = 2, each method's time and absolute error in bits against the
exact float64 entropy — for the random methods the largest error and the RMS over 5 seeds, since
one seed can be lucky. alpha = 2 is exact for every method (-log2 ||A||_F^2, no spectrum).

Then the LeNet-5 information-plane workload of ``bench_estimators.py`` (n = 1000) with float32
spectra and with the Lanczos approximation, against the naive float64 reference.

Times are the best of 3 calls (of 2 for exact float64, of 1 for exact at n = 8000).

Run: ``python benchmarks/bench_scale.py [--sizes 1000 2000 4000 8000]`` (about 8 minutes on
2 cores).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from infoflow import Lanczos, Nystrom, gaussian_gram, kernel_width, renyi_entropy

sys.path.insert(0, str(Path(__file__).parent))
import bench_estimators as ip  # noqa: E402

METHODS = {
    "exact float32": dict(method="exact", dtype="float32"),
    "lanczos float64": dict(method=Lanczos(), dtype="float64"),
    "lanczos float32": dict(method=Lanczos(), dtype="float32"),
    "nystrom float32": dict(method=Nystrom(), dtype="float32"),
}


def trained_activations() -> np.ndarray:
    """fc1 activations of the 1797 digits through a LeNet-5 trained with infoflow's trainer."""
    from infoflow.data import load_digits
    from infoflow.monitor import capture_activations
    from infoflow.training import RunConfig, Trainer

    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = Trainer(RunConfig(measure_every=10**9, probe_size=50), Path(folder) / "run")
        trainer.run(sensitivity=False)
        images, _ = load_digits()
        acts = capture_activations(trainer.model, torch.tensor(images), ["fc1"])["fc1"]
    return acts.double().numpy()


#: Seeds over which a random method's error is measured (the table prints the largest and the RMS).
SEEDS = 5


def scale_table(sizes: list[int]) -> None:
    rng = np.random.default_rng(0)
    activations = trained_activations()
    print(f"{'data':<7}{'n':>6}  {'method':<17}{'time s':>9}{'speed-up':>10}"
          f"{'err a=1.01':>12}{'(rms)':>9}{'err a=2':>10}")
    for n in sizes:
        picks = activations[rng.integers(0, len(activations), n)]
        data = {
            "lenet": picks + 0.05 * activations.std() * rng.normal(size=picks.shape),
            "random": rng.normal(size=(n, 10)),
        }
        for name, x in data.items():
            k = gaussian_gram(x, kernel_width(x))
            t_exact, exact = ip.timed(lambda: renyi_entropy(k, alpha=1.01), 2 if n <= 4000 else 1)
            exact2 = renyi_entropy(k, alpha=2)
            print(f"{name:<7}{n:>6}  {'exact float64':<17}{t_exact:>9.3f}{1:>10.1f}"
                  f"{'(S=' + format(exact, '.3f') + ')':>12}{'':>10}")
            for label, options in METHODS.items():
                cheap = n <= 4000 or options["method"] != "exact"
                t, value = ip.timed(lambda: renyi_entropy(k, alpha=1.01, **options),
                                    3 if cheap else 1)
                value2 = renyi_entropy(k, alpha=2, **options)
                errors = [value - exact]
                if options["method"] != "exact":  # a random method: its error over SEEDS seeds
                    errors += [
                        renyi_entropy(k, alpha=1.01, **{
                            **options, "method": replace(options["method"], seed=seed)}) - exact
                        for seed in range(1, SEEDS)
                    ]
                rms = float(np.sqrt(np.mean(np.square(errors))))
                print(f"{'':<7}{'':>6}  {label:<17}{t:>9.3f}{t_exact / t:>10.1f}"
                      f"{max(map(abs, errors)):>12.1e}{rms:>9.1e}{abs(value2 - exact2):>10.1e}")
            sys.stdout.flush()


PLANE_VARIANTS = {
    # label: (estimator options, activations cast to float32 before the Gram matrices)
    "exact float64": ({}, False),
    "float32 Grams, exact float64 spectra": ({}, True),
    "float32 Grams and spectra": ({"dtype": "float32"}, True),
    "lanczos, float32 Grams and products": ({"method": Lanczos(), "dtype": "float32"}, True),
    "nystrom, float32 Grams and products": ({"method": Nystrom(), "dtype": "float32"}, True),
}


def plane_workload(repeats: int = 3) -> None:
    x, layers, y = ip.lenet_activations(1000)
    sigmas = {"x": kernel_width(x)}
    for name, t in layers.items():
        sigmas[name] = [kernel_width(m) for m in ip.split_maps(t)]
    t_naive, naive = ip.timed(lambda: ip.run_naive(x, layers, y, sigmas, ip.ALPHA), repeats)
    print(f"\nLeNet-5 information plane, n = 1000, alpha = {ip.ALPHA}: naive float64 "
          f"{t_naive:.3f} s (best of {repeats})")
    for label, (options, single) in PLANE_VARIANTS.items():
        xs = x.astype(np.float32) if single else x
        ls = {k: v.astype(np.float32) for k, v in layers.items()} if single else layers
        t, fast = ip.timed(lambda: ip.run_infoflow(xs, ls, y, sigmas, ip.ALPHA, **options),
                           repeats)
        err = max(abs(naive[key] - fast[key]) for key in naive)
        print(f"  {label:<38}{t:>7.3f} s  speed-up {t_naive / t:5.2f}x  "
              f"largest |diff| {err:.2e} bits")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 8000])
    parser.add_argument("--plane-only", action="store_true", help="only the LeNet-5 workload")
    args = parser.parse_args()
    if not args.plane_only:
        scale_table(args.sizes)
    plane_workload()


if __name__ == "__main__":
    main()
