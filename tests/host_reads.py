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
