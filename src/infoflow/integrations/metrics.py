"""A checkpoint as flat metrics, named the same for every logger: ``infoflow/<layer>/<quantity>``.

>>> from infoflow.monitor import Checkpoint, DPIVerdict
>>> checkpoint = Checkpoint(5, 0, {("input", "I(X;Y)"): 3.1, ("fc1", "I(X;T)"): 2.5},
...                         DPIVerdict(), ())
>>> checkpoint_metrics(checkpoint)
{'infoflow/input/I(X;Y)': 3.1, 'infoflow/fc1/I(X;T)': 2.5, 'infoflow/DPI 1 holds': 1.0, 'infoflow/DPI 2 holds': 1.0}
"""

from __future__ import annotations

from infoflow.monitor import Checkpoint

#: The prefix of every metric infoflow logs.
PREFIX = "infoflow"


def checkpoint_metrics(checkpoint: Checkpoint) -> dict[str, float]:
    """Every quantity of a checkpoint in bits, and whether each DPI holds (1.0) or not (0.0)."""
    metrics = {f"{PREFIX}/{layer}/{quantity}": float(value)
               for (layer, quantity), value in checkpoint.values.items()}
    metrics[f"{PREFIX}/DPI 1 holds"] = float(checkpoint.verdict.dpi1)
    metrics[f"{PREFIX}/DPI 2 holds"] = float(checkpoint.verdict.dpi2)
    return metrics
