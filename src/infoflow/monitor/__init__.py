"""Model instrumentation: capture layer outputs on a probe set and measure the information plane."""

from infoflow.monitor.activations import capture_activations, resolve_layers
from infoflow.monitor.dpi import (
    DPI_TOLERANCE,
    Chains,
    DPIVerdict,
    Link,
    LinkResult,
    check_dpi,
    dpi_shares,
)
from infoflow.monitor.information_plane import information_plane, probe_cache
from infoflow.monitor.layer_grams import CONV_MODES, layer_grams
from infoflow.monitor.monitor import Checkpoint, InformationMonitor, SaturationWarning
from infoflow.monitor.sensitivity import dpi_sensitivity

__all__ = [
    "CONV_MODES",
    "DPI_TOLERANCE",
    "Chains",
    "Checkpoint",
    "DPIVerdict",
    "InformationMonitor",
    "Link",
    "LinkResult",
    "SaturationWarning",
    "capture_activations",
    "check_dpi",
    "dpi_sensitivity",
    "dpi_shares",
    "information_plane",
    "layer_grams",
    "probe_cache",
    "resolve_layers",
]
