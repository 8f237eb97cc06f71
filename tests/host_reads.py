"""Counting the calls that take a tensor's value to the host: on an accelerator each one is a
synchronisation, so tests of the device's path (run on the CPU) count them."""

from __future__ import annotations

import pytest
import torch

#: The tensor methods that bring a value from the tensor's memory to the host.
LEAVING_TORCH = ("item", "tolist", "numpy", "cpu", "__bool__", "__float__", "__int__")


def count_host_reads(patch: pytest.MonkeyPatch, names: tuple[str, ...] = LEAVING_TORCH,
                     ) -> list[str]:
    """A list that grows by the method's name at every call of one of ``names`` on a tensor,
    for as long as ``patch`` (a monkeypatch or one of its contexts) holds."""
    calls: list[str] = []
    for name in names:
        original = getattr(torch.Tensor, name)

        def counting(*args, _name=name, _original=original, **kwargs):
            calls.append(_name)
            return _original(*args, **kwargs)

        patch.setattr(torch.Tensor, name, counting)
    return calls


#: Operations whose result's size depends on the data: on an accelerator the host waits to
#: learn it.
SIZED_BY_DATA = ("nonzero", "unique", "masked_select", "repeat_interleave", "argwhere")


def count_data_sized_results(patch: pytest.MonkeyPatch) -> list[str]:
    """A list that grows at every operation whose result's size depends on the data — indexing
    by a boolean tensor, or one of :data:`SIZED_BY_DATA` — for as long as ``patch`` holds."""
    calls: list[str] = []
    original_getitem = torch.Tensor.__getitem__

    def getitem(self, index):
        parts = index if isinstance(index, tuple) else (index,)
        if any(isinstance(p, torch.Tensor) and p.dtype == torch.bool for p in parts):
            calls.append("boolean index")
        return original_getitem(self, index)

    patch.setattr(torch.Tensor, "__getitem__", getitem)
    for name in SIZED_BY_DATA:
        for owner in (torch, torch.Tensor):
            original = getattr(owner, name, None)
            if original is None:
                continue

            def counting(*args, _name=name, _original=original, **kwargs):
                calls.append(_name)
                return _original(*args, **kwargs)

            patch.setattr(owner, name, counting)
    return calls
