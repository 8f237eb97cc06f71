r"""Entropies of named variables and of their unions, each computed once (docs/method.md §7).

Every information quantity is a signed sum of joint entropies of sets of variables. When many
quantities share variables — I(X;T) and I(T;Y) for every layer share S(X), S(Y) and each S(T) —
the marginals should be computed once. :class:`EntropyCache` holds each variable's Gram
matrices (its Hadamard product formed once) and memoises the entropy of every set of
variables it is asked for.

Examples
--------
>>> import numpy as np
>>> from infoflow import EntropyCache, label_gram
>>> y = np.array([0, 0, 1, 1]); z = np.array([0, 1, 0, 1])
>>> cache = EntropyCache({"y": label_gram(y), "z": label_gram(z)}, alpha=1)
>>> round(cache.entropy("y", "z"), 12), round(cache.mutual_information("y", "z"), 12)
(2.0, 0.0)
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from typing import Any

import numpy as np

from infoflow._array import host_arrays, is_torch, to_scalar
from infoflow._deferred import error_prefix
from infoflow._memory import available_memory, check_fits
from infoflow._threads import budget_for
from infoflow._validation import (
    NotPositiveSemidefiniteError,
    check_alpha,
    check_precision,
    check_same_samples,
    gram_list,
)
from infoflow.measures.approximation import resolve_method
from infoflow.measures.eigenproblems import Steps, batches, run, run_together
from infoflow.measures.entropy import needs_gradient
from infoflow.measures.resampling import sub_gram
from infoflow.measures.spectrum import (
    assume_no_structure,
    block_structures,
    common_blocks,
    delta_spectrum,
    entropy_of_normalized_steps,
    entropy_of_spectrum,
    normalized,
    unit_product,
)
from infoflow.options import ALPHA, DTYPE, METHOD

Names = str | Iterable[str]
"""One variable's name, or several names taken together as one set variable."""


class EntropyCache:
    """Joint entropies of named variables, computed once and shared.

    Parameters
    ----------
    grams : mapping of name to Gram matrix or sequence of Gram matrices
        Each variable's Gram matrix (n, n); a sequence (or (C, n, n) stack) makes the variable a
        set, joined by the Hadamard product (a conv layer as its C feature maps).
    alpha : float, default 1.01
        Rényi order, > 0.
    dtype : {"float64", "float32"}, default "float64"
        Precision of the spectra.
    method : {"exact", "lanczos", "nystrom", "auto"} or a method object, default "auto"
        How spectra are computed (:mod:`~infoflow.measures.approximation`); "auto" is exact up
        to 2000 samples. The resolved method is :attr:`method`.
    """

    def __init__(
        self,
        grams: Mapping[str, Any],
        *,
        alpha: float = ALPHA.default,
        dtype: str = DTYPE.default,
        method: Any = METHOD.default,
    ) -> None:
        self.alpha = check_alpha(alpha)
        self.precision = check_precision(dtype)
        if not grams:
            raise ValueError("grams must name at least one variable, got an empty mapping")
        self._factors: dict[str, Any] = {}
        self._blocks: dict[str, Any] = {}
        self._delta: dict[str, bool] = {}
        self._entropies: dict[frozenset[str], Any] = {}
        self._add(grams)
        self.method = resolve_method(method, self.n, needs_gradient(list(self._factors.values())))

    def _add(self, grams: Mapping[str, Any], assume_unstructured: Iterable[str] = ()) -> None:
        """Validate new variables against the held ones and form each one's factor once."""
        clash = set(grams) & set(self._factors)
        if clash:
            raise ValueError(f"grams names variables the cache already holds: {sorted(clash)}")
        held = bool(self._factors)
        # CPU tensors that need no gradient are computed on as NumPy arrays sharing their
        # memory (faster on the CPU: no torch dispatch per small operation), validated as such
        # too; each entropy is handed back as the 0-dim tensor the torch path gives
        views = {name: host_arrays(g) for name, g in grams.items()}
        plain = all(v is not None for v in views.values()) and (not held or self._host_torch)
        checked = {name: gram_list(views[name] if plain else g, name)
                   for name, g in grams.items()}
        first = next(iter(checked.values()))[0]
        # one factor per variable, a joint product and the solver's copy
        check_fits(first.shape[0], len(self._factors) + len(checked) + 2,
                   4 if self.precision == "float32" else 8, "an entropy cache",
                   getattr(first, "device", None))
        if held:  # the held variables as the kind they were given in
            like = self._like
            if self._host_torch and not plain:
                import torch

                like = torch.from_numpy(like)
            check_same_samples({"cache": [like], **checked})
        else:
            check_same_samples(checked)
        self.n = first.shape[0]
        self._like = first[:, :0]  # the kind computed on and n, holding no memory
        if held and self._host_torch and not plain:  # new tensors need a gradient: back to torch
            import torch

            self._factors = {name: torch.from_numpy(f) for name, f in self._factors.items()}
        self._host_torch = plain
        for name, ks in checked.items():
            self._factors[name] = unit_product(ks, self.precision)
        # a delta kernel's classes stay diagonal blocks in every joint it takes part in, and its
        # entropies (alone or joined with others) have a closed form
        # (a cache of CPU tensors holds NumPy arrays: nothing to assume there)
        take = set(assume_unstructured) if batches(self._like) else set()
        assumed = [name for name in checked if name in take]
        looked = [name for name in checked if name not in take]
        structures = dict(zip(looked, block_structures([self._factors[n] for n in looked])
                              if looked else []))
        structures.update(zip(assumed, assume_no_structure([self._factors[n] for n in assumed],
                                                           assumed)))
        for name in checked:
            self._blocks[name], self._delta[name] = structures[name]

    def extended(self, grams: Mapping[str, Any], *, assume_unstructured: Iterable[str] = (),
                 ) -> EntropyCache:
        """A cache with more variables that shares this one's factors and computed entropies.

        Used when fixed variables (a probe set's inputs and labels) meet new ones at every
        checkpoint: S(X), S(Y) and S(X, Y) are computed once, not once per checkpoint.

        The new variables named in ``assume_unstructured``, where they are tensors on an
        accelerator, are taken as having no zero entry and not all entries equal (Gaussian Grams
        of data that is not constant), without the host read that looks
        (:func:`~infoflow.measures.spectrum.assume_no_structure`): where that is wrong, reading
        the checks raises :class:`~infoflow.measures.spectrum.StructureAssumed`, and the caller
        redoes the work without the assumption.
        """
        child = object.__new__(EntropyCache)
        child.alpha, child.precision, child.n = self.alpha, self.precision, self.n
        child.method = self.method
        child._like, child._host_torch = self._like, self._host_torch
        child._factors = dict(self._factors)
        child._blocks = dict(self._blocks)
        child._delta = dict(self._delta)
        child._entropies = dict(self._entropies)
        child._add(grams, assume_unstructured)
        return child

    def subset(self, indices: Any) -> EntropyCache:
        """The same variables on the samples ``indices`` (no repeats): each variable's factor
        restricted to its principal submatrix, the widths and the method unchanged.

        Used for confidence intervals (:mod:`~infoflow.measures.resampling`): an entropy of the
        subset is the estimator itself applied to the subsample.
        """
        indices = np.asarray(indices)
        if indices.ndim != 1 or len(indices) < 2 or len(np.unique(indices)) != len(indices):
            raise ValueError("indices must hold at least 2 distinct sample indices")
        if indices.min() < 0 or indices.max() >= self.n:
            raise ValueError(f"indices must lie in [0, {self.n}), got {indices.min()}..{indices.max()}")
        child = object.__new__(EntropyCache)
        child.alpha, child.precision, child.n = self.alpha, self.precision, len(indices)
        child.method = self.method
        child._like, child._host_torch = self._like[: len(indices)], self._host_torch
        child._factors = {name: sub_gram(f, indices) for name, f in self._factors.items()}
        child._blocks = {
            name: None if labels is None else np.unique(labels[indices], return_inverse=True)[1]
            for name, labels in self._blocks.items()
        }
        child._delta = dict(self._delta)  # a delta kernel's principal submatrix is one too
        child._entropies = {}
        return child

    @property
    def names(self) -> tuple[str, ...]:
        """The variables' names, in the order given."""
        return tuple(self._factors)

    @property
    def computed(self) -> int:
        """How many distinct joint entropies have been computed so far."""
        return len(self._entropies)

    def pending(self, compute: Callable[[EntropyCache], Any]) -> list[frozenset[str]]:
        """The joint entropies ``compute(cache)`` asks for that this cache does not hold yet,
        each as the set of its variables' names, in the order first asked for.

        Found by a dry run of ``compute`` on a copy of the cache in which every entropy reads
        as 1 bit, a float (nothing is read from a device; the dry run's values, warnings and
        floating-point errors are discarded); this cache is unchanged. The entropies can then
        be computed together (:meth:`precompute`) or elsewhere (one share per process,
        :mod:`infoflow.monitor.distributed`), each with :meth:`entropy`, and given back with
        :meth:`add_entropies`.

        Examples
        --------
        >>> import numpy as np
        >>> from infoflow import EntropyCache, label_gram
        >>> y = np.array([0, 0, 1, 1]); z = np.array([0, 1, 0, 1])
        >>> cache = EntropyCache({"y": label_gram(y), "z": label_gram(z)}, alpha=1)
        >>> s_y = cache.entropy("y")
        >>> [sorted(key) for key in cache.pending(lambda c: c.mutual_information("y", "z"))]
        [['z'], ['y', 'z']]
        """
        asked: list[frozenset[str]] = []

        def dry_run(key: frozenset[str]) -> float:
            if key not in self._entropies and key not in asked:
                asked.append(key)
            return 1.0

        planner = copy.copy(self)
        planner._entropy = dry_run  # type: ignore[method-assign]
        planner._result = float  # type: ignore[method-assign]
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            compute(planner)
        return asked

    def add_entropies(self, entropies: Mapping[Names, float]) -> None:
        """Hold joint entropies computed elsewhere, in bits, keyed by their variables' names
        (one name or a set of names, as :meth:`pending` gives them). An entropy the cache
        already holds keeps its value; unknown names raise ``KeyError`` before any is added.
        """
        keyed = {self._key([names]): value for names, value in entropies.items()}
        for key, value in keyed.items():
            self._entropies.setdefault(key, value)

    def _key(self, names: Iterable[Names]) -> frozenset[str]:
        flat: set[str] = set()
        for item in names:
            flat.update([item] if isinstance(item, str) else item)
        unknown = flat - set(self._factors)
        if unknown:
            raise KeyError(f"unknown variable(s) {sorted(unknown)}; known: {list(self._factors)}")
        if not flat:
            raise ValueError("names must name at least one variable")
        return frozenset(flat)

    def _entropy(self, key: frozenset[str]) -> Any:
        if key not in self._entropies:
            with self._scope(key), budget_for(self.n):
                self._entropies[key] = run(self._steps(key))  # a float where NumPy computed it
        return self._entropies[key]

    def _scope(self, key: frozenset[str]) -> Any:
        """The error prefix that names the variables of ``key`` (also for checks read later)."""
        ordered = [name for name in self._factors if name in key]
        what = ordered[0] if len(ordered) == 1 else f"({', '.join(ordered)}) joined"
        return error_prefix(what, NotPositiveSemidefiniteError)

    def _steps(self, key: frozenset[str]) -> Steps[Any]:
        """The entropy of ``key`` as steps (:mod:`~infoflow.measures.eigenproblems`)."""
        ordered = [name for name in self._factors if name in key]
        blocks = common_blocks([self._blocks[name] for name in ordered])
        first = self._factors[ordered[0]]
        if all(self._delta[name] for name in ordered):
            return entropy_of_spectrum(delta_spectrum(blocks, self.n, first), self.alpha)
        product = first
        for name in ordered[1:]:
            product = product * self._factors[name]
        return (yield from entropy_of_normalized_steps(
            normalized(product, self.n, owned=len(ordered) > 1), self.alpha, self.method,
            blocks))

    def entropies(self, keys: Iterable[Names]) -> list[Any]:
        """Joint entropies in bits, one per item of ``keys`` (a name, or a set of names taken
        together), computed together.

        Where the cache holds tensors on an accelerator, the entropies it does not hold yet are
        computed in lockstep and their eigenvalue problems of one size solved in one batched
        call (:func:`~infoflow.measures.eigenproblems.run_together`): torch's solvers read an
        error flag on the host after every call, so this saves one synchronisation per
        entropy. As many run together as the device's free memory allows for four n × n
        matrices each (the joint product, the batch, the solver's copy and its workspace).
        Elsewhere each is computed as :meth:`entropy` would.
        """
        wanted = [self._key([names]) for names in keys]
        todo = [key for key in dict.fromkeys(wanted) if key not in self._entropies]
        if len(todo) > 1 and batches(self._like):
            per_entropy = 4 * self.n * self.n * 8
            together = max(1, available_memory(self._like.device) // per_entropy)
            for start in range(0, len(todo), together):
                part = todo[start:start + together]
                with budget_for(self.n):
                    values = run_together([self._steps(key) for key in part],
                                          [partial(self._scope, key) for key in part])
                self._entropies.update(zip(part, values))
        return [self._result(self._entropy(key)) for key in wanted]

    def precompute(self, compute: Callable[[EntropyCache], Any]) -> None:
        """Compute together (:meth:`entropies`) every entropy ``compute(cache)`` will ask for
        (:meth:`pending`), so that it then finds them held. Does nothing where nothing is
        gained: on the host (NumPy, CPU tensors) each entropy is computed when asked for."""
        if batches(self._like):
            self.entropies(self.pending(compute))

    def _result(self, value: Any) -> Any:
        """A public method's result: a 0-dim tensor when the cache holds tensors (entropies that
        NumPy computed are kept as floats and combined as floats, then wrapped once), else a
        float."""
        if not is_torch(value) and (self._host_torch or is_torch(self._like)):
            import torch

            return torch.from_numpy(np.array(value + 0.0))  # 0-dim; + 0.0 turns -0.0 into 0.0
        return to_scalar(value)

    def entropy(self, *names: Names) -> Any:
        """Joint entropy S(names...) in bits (one name: its marginal entropy)."""
        return self._result(self._entropy(self._key(names)))

    def mutual_information(self, a: Names, b: Names) -> Any:
        """I(a; b) = S(a) + S(b) − S(a, b), in bits; ``a`` and ``b`` may be sets of names."""
        return self._result(
            self._entropy(self._key([a])) + self._entropy(self._key([b]))
            - self._entropy(self._key([a, b]))
        )

    def conditional_entropy(self, a: Names, b: Names) -> Any:
        """S(a | b) = S(a, b) − S(b), in bits."""
        return self._result(self._entropy(self._key([a, b])) - self._entropy(self._key([b])))

    def conditional_mutual_information(self, a: Names, b: Names, c: Names) -> Any:
        """I(a; b | c) = S(a, c) + S(b, c) − S(a, b, c) − S(c), in bits."""
        return self._result(
            self._entropy(self._key([a, c])) + self._entropy(self._key([b, c]))
            - self._entropy(self._key([a, b, c])) - self._entropy(self._key([c]))
        )

    def total_correlation(self, names: Iterable[str]) -> Any:
        """TC = Σ_l S(l) − S(all), in bits."""
        names = list(names)
        marginals = sum(self._entropy(self._key([name])) for name in names)
        return self._result(marginals - self._entropy(self._key(names)))

    def dual_total_correlation(self, names: Iterable[str]) -> Any:
        """DTC = Σ_l S(all but l) − (L − 1)·S(all), in bits."""
        names = list(names)
        if len(names) < 2:
            raise ValueError(f"dual total correlation needs at least 2 variables, got {len(names)}")
        rest = sum(
            self._entropy(self._key(names[:i] + names[i + 1:])) for i in range(len(names))
        )
        return self._result(rest - (len(names) - 1) * self._entropy(self._key(names)))
