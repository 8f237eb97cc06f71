"""Partial information decomposition of feature maps about labels, on Gram matrices."""

from infoflow.pid.layer import LayerPID, layer_pid, layer_pid_from_cache
from infoflow.pid.mmi import MMIDecomposition, mmi, mmi_from_cache
from infoflow.pid.redundancy import MMI, MinimumMutualInformation

__all__ = ["MMI", "LayerPID", "MMIDecomposition", "MinimumMutualInformation", "layer_pid",
           "layer_pid_from_cache", "mmi", "mmi_from_cache"]
