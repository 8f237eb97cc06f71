"""Checks of device tensors read once per scope instead of one synchronisation each.

A check such as "every value is finite" or "the smallest eigenvalue is not below the round-off
tolerance" needs a boolean from the data. On an accelerator, reading it (``bool(tensor)``) makes
the host wait for all queued work: one synchronisation per check, dozens per monitor checkpoint.
Inside :func:`deferred_checks`, :func:`require` instead queues a check's boolean while it is
still a tensor, and the scope reads all of them with one transfer when it ends, raising the
error of the first check that failed — the same error, with the same message, that the check
raises outside a scope. Work done after a failed check and before the scope ends is discarded
with the exception.

Outside a scope, and for NumPy arrays and Python booleans, :func:`require` checks at once.

Examples
--------
>>> import torch
>>> from infoflow._deferred import deferred_checks, require
>>> def fail():
...     raise ValueError("x must hold only finite values, got NaN or infinity")
>>> with deferred_checks():
...     require(torch.isfinite(torch.tensor([1.0, 2.0])).all(), fail)  # queued, not read
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from infoflow._array import is_torch

_state = threading.local()


def _pending() -> list[tuple[Any, Callable[[], None], tuple[tuple[str, type], ...]]] | None:
    return getattr(_state, "pending", None)


def _prefixes() -> tuple[tuple[str, type], ...]:
    return getattr(_state, "prefixes", ())


@contextmanager
def deferred_checks() -> Iterator[None]:
    """Queue the checks of torch tensors made inside (:func:`require`) and read them all at the
    end with one synchronisation per device, raising the first failed check's error. Scopes
    nest: the outermost reads. An exception raised inside the scope (a solver that fails on the
    invalid data a queued check would have refused, say) is replaced by the failed check's
    error, the original chained as its cause."""
    if _pending() is not None:
        yield
        return
    _state.pending = []
    try:
        yield
    except BaseException as error:
        pending, _state.pending = _state.pending, None
        if isinstance(error, Exception):
            _raise_first_failure(pending, cause=error)
        raise
    pending, _state.pending = _state.pending, None
    _raise_first_failure(pending)


def require(ok: Any, fail: Callable[[], None]) -> None:
    """Call ``fail`` (which raises, or returns when a closer look finds nothing wrong) unless
    ``ok`` holds; inside :func:`deferred_checks` a torch ``ok`` is queued instead of read."""
    pending = _pending()
    if pending is not None and is_torch(ok):
        pending.append((ok.detach().reshape(()), fail, _prefixes()))
        return
    if not bool(ok):
        fail()


def read_with_checks(values: list[Any]) -> list[float]:
    """The values of 0-dim tensors of one device as floats, read in one transfer together with
    the checks queued so far on that device (inside :func:`deferred_checks`), which are then
    settled: a failed one raises its error now, as the scope's end would have, and the scope
    has nothing left to read for them. Outside a scope, just the values in one transfer."""
    import torch

    device = values[0].device
    pending = _pending() or []
    mine = [entry for entry in pending if entry[0].device == device]
    read = torch.stack([v.detach().reshape(()).double() for v in values]
                       + [ok.to(torch.float64) for ok, _, _ in mine]).tolist()
    if mine:
        settled = {id(entry) for entry in mine}
        pending[:] = [entry for entry in pending if id(entry) not in settled]
        failed = [entry for entry, ok in zip(mine, read[len(values):]) if not ok]
        if failed:
            _raise_first_failure(failed)
    return read[:len(values)]


def as_floats(values: Sequence[Any]) -> list[float]:
    """Values (floats, NumPy scalars or 0-dim tensors) as floats, the tensors of each device
    read together, and with them the checks queued on that device (:func:`read_with_checks`):
    one host round trip per checkpoint, not one per value."""
    import torch

    floats: list[Any] = [None if isinstance(v, torch.Tensor) else float(v) for v in values]
    by_device: dict[Any, list[int]] = {}
    for i, v in enumerate(values):
        if isinstance(v, torch.Tensor):
            by_device.setdefault(v.device, []).append(i)
    for indices in by_device.values():
        read = read_with_checks([values[i] for i in indices])
        for i, value in zip(indices, read):
            floats[i] = value
    return floats


@contextmanager
def error_prefix(prefix: str, kind: type[Exception]) -> Iterator[None]:
    """Errors of type ``kind`` raised inside — at once, or later by a check queued inside —
    read ``f"{prefix} {message}"``, keeping their own type (a subclass of ``kind`` stays
    itself): a check deep in a computation names what it was computing."""
    saved = _prefixes()
    _state.prefixes = (*saved, (prefix, kind))
    try:
        yield
    except kind as error:
        raise _prefixed(error, prefix, kind) from None
    finally:
        _state.prefixes = saved


def _prefixed(error: Exception, prefix: str, kind: type[Exception]) -> Exception:
    """``error`` with ``prefix`` before its message, of its own type where that type is built
    from a message alone, else of type ``kind``."""
    try:
        return type(error)(f"{prefix} {error}")
    except TypeError:
        return kind(f"{prefix} {error}")


def _raise_first_failure(pending: list, cause: BaseException | None = None) -> None:
    if not pending:
        return
    import torch

    by_device: dict[Any, list[int]] = {}
    for i, (ok, _, _) in enumerate(pending):
        by_device.setdefault(ok.device, []).append(i)
    failed = []
    for indices in by_device.values():
        flags = torch.stack([pending[i][0].to(torch.bool) for i in indices])
        if bool(flags.all()):  # the one synchronisation per device
            continue
        failed += [i for i, good in zip(indices, flags.tolist()) if not good]
    active = len(_prefixes())  # prefixes still open around this point add themselves
    for i in sorted(failed):
        _, fail, prefixes = pending[i]
        try:
            fail()
        except Exception as error:
            for prefix, kind in reversed(prefixes[active:]):
                if isinstance(error, kind):
                    error = _prefixed(error, prefix, kind)
            raise error from cause
