"""Partial information decomposition of feature maps about labels, on Gram matrices."""

from infoflow.pid.layer import LayerPID, layer_pid, layer_pid_from_cache
from infoflow.pid.mmi import MMIDecomposition, mmi

__all__ = ["LayerPID", "MMIDecomposition", "layer_pid", "layer_pid_from_cache", "mmi"]
