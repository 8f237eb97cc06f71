"""Scale: time and error of each spectrum method against exact float64, measured in one run.

For n in {1000, 2000, 4000, 8000} and two kinds of Gaussian Gram matrix —
* ``lenet``: digits through a LeNet-5 trained for 30 epochs (its fc1 activations), resampled with
  small noise (5 % of the activations' standard deviation) to reach n;
* ``random``: standard normal data in 10 dimensions —
prints, for alpha = 1.01 and alpha = 2, each method's time and absolute error in bits against the
exact float64 entropy — for the random methods the largest error and the RMS over 5 seeds, since
one seed can be lucky — and, for torch input, exact float64 and Lanczos float32 again (one seed),
timed against the exact float64 time of the tensor. alpha = 2 is exact for every method (-log2 ||A||_F^2, no spectrum).

Then the LeNet-5 information-plane workload of ``bench_estimators.py`` (n = 1000) with float32
spectra and with the Lanczos approximation, against the naive float64 reference.

Times are the best of 3 calls (of 2 for exact float64, of 1 for exact at n = 8000).

With ``--device DEVICE`` it measures instead one monitor checkpoint where the model lives
(``checkpoint_table``), as the monitor computes it: the layers' widths and Gram matrices, the
probe set's cache (X and Y, made once per run) extended with them, and every I(X;T), I(T;Y) and
H(T), as torch tensors on DEVICE, for exact float64/float32, Lanczos and Nyström — checkpoint
time, speed-up against
exact float64, the largest MI and entropy errors against it, the device→host transfers of one
checkpoint (torch's sync detector on CUDA; on the CPU the tensor methods that leave torch, with
the NumPy fast path turned off so that the CPU takes the device's path), the share of the
checkpoint spent in eigendecompositions and the number of solver calls (the checkpoint's
spectra are solved in one batched call per size: each call reads its error flag on the host).

With ``--mi-at N`` it prints instead the largest error over the workload's eight I(X;T) and
I(T;Y) at N samples (tensor mode) for Lanczos in float64 and float32 against exact float64, on
NumPy arrays, and each variant's time.

Run: ``python benchmarks/bench_scale.py [--sizes 1000 2000 4000 8000]`` (about 8 minutes on
2 cores); ``--mi-at 10000`` (about 9 minutes); ``python benchmarks/bench_scale.py --device
cuda`` (n = 1000 … 16,000) or ``--device cpu --sizes 1000 2000``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from infoflow import (
    EntropyCache,
    Lanczos,
    Nystrom,
    gaussian_gram,
    kernel_width,
    label_gram,
    renyi_entropy,
)

sys.path.insert(0, str(Path(__file__).parent))
import bench_estimators as ip  # noqa: E402

from infoflow._deferred import deferred_checks  # noqa: E402
from infoflow.kernels.gram import gaussian_gram_of_device_width  # noqa: E402
from infoflow.kernels.width import silverman_widths_on_device  # noqa: E402
from infoflow.monitor.information_plane import (  # noqa: E402
    information_plane,
    probe_cache,
)

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
            # method="exact": the default "auto" is Lanczos above 2000 samples
            t_exact, exact = ip.timed(lambda: renyi_entropy(k, alpha=1.01, method="exact"),
                                      2 if n <= 4000 else 1)
            exact2 = renyi_entropy(k, alpha=2, method="exact")
            print(f"{name:<7}{n:>6}  {'exact float64':<17}{t_exact:>9.3f}{1:>10.1f}"
                  f"{'(S=' + format(exact, '.3f') + ')':>12}{'':>10}")
            # torch input: the same rows for exact float64 and Lanczos float32, each against
            # the exact float64 time of the same input (issue: never slower than NumPy input)
            tensor = torch.from_numpy(k)
            t_exact_torch, _ = ip.timed(
                lambda: renyi_entropy(tensor, alpha=1.01, method="exact"), 2 if n <= 4000 else 1)
            print(f"{'':<7}{'':>6}  {'exact f64 torch':<17}{t_exact_torch:>9.3f}{1:>10.1f}")
            lanczos32 = METHODS["lanczos float32"]
            t, value = ip.timed(lambda: float(renyi_entropy(tensor, alpha=1.01, **lanczos32)), 3)
            print(f"{'':<7}{'':>6}  {'lanczos f32 torch':<17}{t:>9.3f}{t_exact_torch / t:>10.1f}"
                  f"{abs(value - exact):>12.1e}")
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


def mi_accuracy(n: int) -> None:
    """Every I(X;T) and I(T;Y) of the LeNet-5 workload at ``n`` samples (tensor mode, silverman
    widths, alpha = 1.01) by Lanczos in float64 and float32 against exact float64, on the CPU's
    own path (NumPy arrays): each variant's time for the whole workload (cache built, eight
    MIs) and its errors."""
    x, layers, y = ip.lenet_activations(n)
    grams = {"x": gaussian_gram(x, kernel_width(x)), "y": label_gram(y)}
    for name, t in layers.items():
        flat = t.reshape(n, -1)
        grams[name] = gaussian_gram(flat, kernel_width(flat))
    print(f"\nLeNet-5 information plane, n = {n}, tensor mode, alpha = 1.01, NumPy arrays")
    results, times = {}, {}
    for label, options in [("exact float64", dict(method="exact", dtype="float64")),
                           ("lanczos float64", dict(method=Lanczos(), dtype="float64")),
                           ("lanczos float32", dict(method=Lanczos(), dtype="float32"))]:
        began = time.perf_counter()
        cache = EntropyCache(grams, alpha=1.01, **options)
        results[label] = {(name, q): float(cache.mutual_information(*pair))
                          for name in layers
                          for q, pair in (("I(X;T)", ("x", name)), ("I(T;Y)", (name, "y")))}
        times[label] = time.perf_counter() - began
        del cache
    exact = results["exact float64"]
    for label, values in results.items():
        errors = {key: abs(values[key] - exact[key]) for key in exact}
        worst = max(errors, key=errors.get)
        print(f"  {label:<16}{times[label]:>8.1f} s  speed-up "
              f"{times['exact float64'] / times[label]:5.1f}x  largest MI error "
              f"{errors[worst]:.1e} bits ({worst[0]} {worst[1]})", flush=True)


# --- one monitor checkpoint where the model lives (--device) -------------------------------

CHECKPOINT_VARIANTS = {
    "exact float64": dict(method="exact", dtype="float64"),
    "exact float32": dict(method="exact", dtype="float32"),
    "lanczos float64": dict(method=Lanczos(), dtype="float64"),
    "lanczos float32": dict(method=Lanczos(), dtype="float32"),
    "nystrom float32": dict(method=Nystrom(), dtype="float32"),
}

#: Tensor methods that bring a value from the tensor's memory to the host (a device→host
#: synchronisation on an accelerator; on the CPU, a step out of torch).
_HOST_CONVERSIONS = ("item", "tolist", "numpy", "cpu", "__bool__", "__float__", "__int__",
                     "__index__")


class HostTransfers:
    """Counts device→host transfers inside a ``with`` block: on CUDA with torch's own detector
    (``torch.cuda.set_sync_debug_mode``: every synchronising call warns), elsewhere by counting
    the tensor methods that leave torch (:data:`_HOST_CONVERSIONS`) and ``torch.equal``."""

    def __init__(self, device: torch.device) -> None:
        self.device, self.count = device, 0

    def __enter__(self) -> HostTransfers:
        if self.device.type == "cuda":
            self._warnings = warnings.catch_warnings(record=True)
            self._caught = self._warnings.__enter__()
            warnings.simplefilter("always")
            torch.cuda.set_sync_debug_mode("warn")
            return self
        self._saved = {name: getattr(torch.Tensor, name) for name in _HOST_CONVERSIONS}
        self._saved_equal = torch.equal

        def counting(original):
            def wrapper(*args, **kwargs):
                self.count += 1
                return original(*args, **kwargs)
            return wrapper

        for name, original in self._saved.items():
            setattr(torch.Tensor, name, counting(original))
        torch.equal = counting(self._saved_equal)
        return self

    def __exit__(self, *exc) -> None:
        if self.device.type == "cuda":
            torch.cuda.set_sync_debug_mode("default")
            self.count = sum("synchroniz" in str(w.message) for w in self._caught)
            self._warnings.__exit__(*exc)
            return
        for name, original in self._saved.items():
            setattr(torch.Tensor, name, original)
        torch.equal = self._saved_equal


def _device_path_on_cpu() -> None:
    """Make CPU tensors take the accelerator's path (torch throughout) instead of the NumPy
    fast path, so that a CPU run shows what a device run would transfer."""
    from infoflow import _array
    from infoflow.measures import eigenproblems

    _array.CPU_TENSORS_AS_NUMPY = False
    eigenproblems.BATCH_ON_CPU = True  # the spectra of a checkpoint solved in batches
    for precision in _array.SCIPY_SOLVER_SIZES:  # torch's solver at every size, as on a device
        _array.SCIPY_SOLVER_SIZES[precision] = (0, 0)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def probe(x, y, **options):
    """The probe set's cache of X and Y, as the monitor makes it once per run (S(X), S(Y) and
    S(X, Y) computed here, not at every checkpoint)."""
    precision = options.get("dtype", "float64")
    cast = (lambda t: t.float()) if precision == "float32" else (lambda t: t)
    with deferred_checks():
        (width,) = silverman_widths_on_device([x])
        return probe_cache(gaussian_gram_of_device_width(cast(x), width), label_gram(y),
                           alpha=1.01, **options)


def checkpoint(probe_set, layers, precision):
    """One monitor checkpoint on tensors where they live, as the monitor computes it: the
    layers' widths (silverman, kept on the device) and Gram matrices (each layer as one
    tensor, taken as unstructured), the probe set's cache extended with them, I(X;T), I(T;Y)
    and H(T) per layer with the spectra solved in batches, and the final values read as floats
    together with every queued check (:func:`infoflow.monitor.information_plane`)."""
    cast = (lambda t: t.float()) if precision == "float32" else (lambda t: t)
    with deferred_checks():  # as the monitor: every validation flag read with the values
        widths = silverman_widths_on_device(list(layers.values()))
        grams = {name: gaussian_gram_of_device_width(cast(t), width)
                 for (name, t), width in zip(layers.items(), widths)}
        values = information_plane(probe_set, grams, assume_unstructured=list(layers))
    return {key: value for key, value in values.items() if key[0] in layers}


def _eigendecomposition_share(run, device: torch.device) -> tuple[float, float, int]:
    """(checkpoint seconds, seconds inside eigendecompositions, solver calls), timing each
    solver call with device synchronisation (a separate, instrumented run)."""
    from infoflow.measures import eigenproblems

    solve, spent, calls = eigenproblems.solve, [0.0], [0]

    def timed_solve(problem):
        _synchronize(device)
        began = time.perf_counter()
        result = solve(problem)
        _synchronize(device)
        spent[0] += time.perf_counter() - began
        calls[0] += 1
        return result

    eigenproblems.solve = timed_solve
    try:
        _synchronize(device)
        began = time.perf_counter()
        run()
        _synchronize(device)
        total = time.perf_counter() - began
    finally:
        eigenproblems.solve = solve
    return total, spent[0], calls[0]


def checkpoint_table(device: torch.device, sizes: list[int], repeats: int) -> None:
    """Per n: each variant's checkpoint time, speed-up against exact float64, the largest MI
    and entropy errors against exact float64, device→host transfers per checkpoint, the share
    of the checkpoint spent in eigendecompositions and the number of solver calls."""
    if device.type == "cpu":
        _device_path_on_cpu()
    print(f"\nOne monitor checkpoint (LeNet-5 activations, tensor mode, silverman widths, "
          f"alpha = 1.01) on {device}"
          + (f" ({torch.cuda.get_device_name(device)})" if device.type == "cuda" else
             ", torch path forced (no NumPy fast path)")
          + f"; best of {repeats}")
    print(f"{'n':>6}  {'variant':<16}{'time s':>9}{'speed-up':>9}{'MI err':>9}{'S err':>9}"
          f"{'syncs':>7}{'eig share':>10}{'eig calls':>10}")
    for n in sizes:
        xs, layers_np, ys = ip.lenet_activations(n)
        x = torch.tensor(xs, device=device)
        layers = {k: torch.tensor(v.reshape(n, -1), device=device) for k, v in layers_np.items()}
        y = torch.tensor(ys, device=device)
        reference, t_reference = None, None
        for label, options in CHECKPOINT_VARIANTS.items():
            probe_set = probe(x, y, **options)  # once per run, as the monitor

            def run():
                return checkpoint(probe_set, layers, options["dtype"])  # the final scalars

            run()  # warm-up (kernels, solver workspaces)
            t, values = ip.timed(lambda: (run(), _synchronize(device))[0], repeats)
            with HostTransfers(device) as transfers:
                run()
            total, spent, calls = _eigendecomposition_share(run, device)
            share = f"{spent / total:>10.0%}{calls:>10d}"
            if reference is None:
                reference, t_reference = values, t
            mi_err = max(abs(values[k] - reference[k]) for k in values if k[1] != "H(T)")
            s_err = max(abs(values[k] - reference[k]) for k in values if k[1] == "H(T)")
            print(f"{n:>6}  {label:<16}{t:>9.3f}{t_reference / t:>9.1f}{mi_err:>9.1e}"
                  f"{s_err:>9.1e}{transfers.count:>7d}{share}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=None,
                        help="default 1000 2000 4000 8000; with --device cuda up to 16000")
    parser.add_argument("--plane-only", action="store_true", help="only the LeNet-5 workload")
    parser.add_argument("--device", help="only the monitor checkpoint, on this torch device "
                        "(cuda, or cpu for the device path on the CPU)")
    parser.add_argument("--repeats", type=int, default=3, help="best of, for --device")
    parser.add_argument("--mi-at", type=int, metavar="N",
                        help="only the MI errors of the LeNet-5 workload at N samples")
    args = parser.parse_args()
    if args.mi_at:
        mi_accuracy(args.mi_at)
        return
    if args.device:
        device = torch.device(args.device)
        default = [1000, 2000, 4000, 8000, 16000] if device.type == "cuda" else [1000, 2000]
        checkpoint_table(device, args.sizes or default, args.repeats)
        return
    if not args.plane_only:
        scale_table(args.sizes or [1000, 2000, 4000, 8000])
    plane_workload()


if __name__ == "__main__":
    main()
