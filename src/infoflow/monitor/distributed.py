"""The monitor in a distributed job: wrapped models, and a checkpoint's entropies spread across ranks.

A checkpoint's cost is its eigendecompositions, one per joint entropy (method.md §7). With a
``torch.distributed`` process group every rank builds the same Gram matrices (each holds a
replica of the model and the probe set), the entropies the checkpoint needs are planned by a
dry run of the very function that computes the values (:meth:`EntropyCache.pending`), dealt
round-robin to the ranks, computed there, gathered with
:func:`torch.distributed.all_gather_object` and given to every rank's cache
(:meth:`EntropyCache.add_entropies`). Every rank then computes the values
from the same entropies, so they equal a single process's bit for bit.

A rank that fails sends its error instead of its share: every rank then raises
:class:`DistributedMeasurementError` naming it. A rank that never arrives is caught by a
monitored barrier (gloo) after ``timeout`` seconds; on other backends the process group's own
timeout applies.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import torch
from torch import nn

from infoflow._deferred import as_floats
from infoflow.measures import EntropyCache

Precompute = Callable[[EntropyCache, Callable[[EntropyCache], Any]], None]
"""Called with a checkpoint's cache and the function computing its values from the cache."""


class DistributedMeasurementError(RuntimeError):
    """A distributed measurement failed on some rank, or ranks did not meet in time."""


def unwrap_model(model: nn.Module) -> nn.Module:
    """The user's module inside DistributedDataParallel or DataParallel (layer names as the user
    wrote them, and a forward pass that starts no collective communication)."""
    wrappers = (nn.parallel.DistributedDataParallel, nn.DataParallel)
    while isinstance(model, wrappers):
        model = model.module
    return model


def process_group(distributed: Any) -> Any:
    """The process group named by the monitor's ``distributed`` option (None when off)."""
    if distributed is False or distributed is None:
        return None
    if not (torch.distributed.is_available() and torch.distributed.is_initialized()):
        raise ValueError(
            "distributed=True needs an initialised process group "
            "(torch.distributed.init_process_group), but none is initialised"
        )
    return torch.distributed.group.WORLD if distributed is True else distributed


class _Exchange:
    """The one collective of a distributed checkpoint: every rank's share, or its error."""

    def __init__(self, group: Any, timeout: float, what: str) -> None:
        self.group, self.timeout, self.what = group, timeout, what
        self.done = False

    def __call__(self, share: dict[int, float] | None, error: BaseException | None = None
                 ) -> list[dict[int, float]]:
        dist = torch.distributed
        self.done = True
        if dist.get_backend(self.group) == "gloo":
            try:
                dist.monitored_barrier(self.group, timeout=timedelta(seconds=self.timeout),
                                       wait_all_ranks=True)
            except RuntimeError as barrier_error:
                raise DistributedMeasurementError(
                    f"{self.what}: the ranks did not all arrive within {self.timeout:g} s "
                    f"(a rank failed outside the measurement or is still busy): {barrier_error}"
                ) from error or barrier_error
        message = None if error is None else f"{type(error).__name__}: {error}"
        gathered: list[Any] = [None] * dist.get_world_size(self.group)
        dist.all_gather_object(gathered, (message, share), group=self.group)
        failures = [f"rank {rank}: {failure}" for rank, (failure, _) in enumerate(gathered)
                    if failure is not None]
        if failures:
            raise DistributedMeasurementError(
                f"{self.what} failed on " + "; ".join(failures)
            ) from error
        return [received for _, received in gathered]


def measure_across_ranks(
    values: Callable[[Precompute], dict],
    *,
    group: Any,
    timeout: float,
    what: str = "a distributed measurement",
) -> dict:
    """Run ``values(precompute)`` on every rank, with the entropies spread across the ranks.

    ``values`` builds a checkpoint's cache and calls ``precompute(cache, compute)`` before it
    computes the values with ``compute(cache)``; ``precompute`` computes this rank's share of the
    entropies ``compute`` needs and fills the cache with every rank's.
    """
    dist = torch.distributed
    rank, world = dist.get_rank(group), dist.get_world_size(group)
    exchange = _Exchange(group, timeout, what)

    def precompute(cache: EntropyCache, compute: Callable[[EntropyCache], Any]) -> None:
        keys = cache.pending(compute)
        share = [i for i in range(len(keys)) if i % world == rank]
        mine = dict(zip(share, as_floats(cache.entropies([keys[i] for i in share]))))
        for share in exchange(mine):
            cache.add_entropies({keys[i]: value for i, value in share.items()})

    try:
        return values(precompute)
    except DistributedMeasurementError:
        raise
    except Exception as error:
        if exchange.done:
            raise
        exchange(None, error)
        raise
