"""Memory bounds: Gram matrices built in blocks, and estimates refused up front when too large.

Two settings, changed with :func:`infoflow.set_memory_options`:

``block_bytes`` (default 256 MiB)
    A Gram matrix whose n·n·itemsize exceeds it is built in row blocks, so the temporaries of
    the distance computation stay below this size (the result itself is one n × n matrix).
``memory_limit`` (default: the memory available now)
    Before building Gram matrices or an entropy cache, infoflow estimates what it will hold and
    refuses with :class:`MemoryBudgetError` — naming n and the memory — rather than running out
    of memory midway. On a CUDA device the limit is the device's free memory.
"""

from __future__ import annotations

import os
from typing import Any

GiB = 1024**3
_options: dict[str, int | None] = {"block_bytes": 256 * 1024**2, "memory_limit": None}


class MemoryBudgetError(MemoryError):
    """An estimate would need more memory than the limit allows."""


def set_memory_options(*, block_bytes: int | None = None, memory_limit: int | None = None) -> None:
    """Set the Gram block size and the memory limit in bytes (``memory_limit=0`` resets it to
    the memory available at each check)."""
    for name, value in (("block_bytes", block_bytes), ("memory_limit", memory_limit)):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a number of bytes >= 0, got {value!r}")
        _options[name] = value or (None if name == "memory_limit" else _options[name])


def block_bytes() -> int:
    return int(_options["block_bytes"])


def available_memory(device: Any = None) -> int:
    """Bytes infoflow may use: the set limit, or what the machine (or CUDA device) has free."""
    if _options["memory_limit"]:
        return int(_options["memory_limit"])
    if device is not None and getattr(device, "type", "cpu") == "cuda":
        import torch

        return int(torch.cuda.mem_get_info(device)[0])
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def format_bytes(count: float) -> str:
    for unit, size in (("GiB", GiB), ("MiB", 1024**2), ("KiB", 1024)):
        if count >= size:
            return f"{count / size:.2f} {unit}"
    return f"{int(count)} bytes"


#: Without a set limit, estimates up to this size are never refused (they fit anywhere infoflow
#: runs), which saves reading /proc/meminfo (~1 ms) for every small Gram matrix.
_ALWAYS_FITS = 16 * 1024**2


def check_fits(n: int, matrices: int, itemsize: int, what: str, device: Any = None) -> None:
    """Refuse up front when ``matrices`` n × n arrays of ``itemsize`` bytes exceed the limit."""
    need = matrices * n * n * itemsize
    if need <= _ALWAYS_FITS and not _options["memory_limit"]:  # not worth reading /proc/meminfo
        return
    limit = available_memory(device)
    if need > limit:
        raise MemoryBudgetError(
            f"{what} for n = {n} samples needs about {format_bytes(need)} ({matrices} n×n "
            f"matrices of {itemsize} bytes per entry) but {format_bytes(limit)} is available"
            f"{' (the limit set with set_memory_options)' if _options['memory_limit'] else ''}. "
            f"Use fewer samples, dtype='float32', or fewer variables at once."
        )
