"""Model instrumentation: capture layer outputs on a probe set and measure the information plane."""

from infoflow.monitor.activations import (
    LayerInfo,
    capture_activations,
    format_layers,
    list_layers,
)
from infoflow.monitor.chains import ChainWarning, find_chains
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
from infoflow.monitor.layer_specs import Layer, LayerSpec, resolve_layers
from infoflow.monitor.monitor import Checkpoint, InformationMonitor, SaturationWarning
from infoflow.monitor.sensitivity import dpi_sensitivity, width_curves

__all__ = [
    "CONV_MODES",
    "DPI_TOLERANCE",
    "ChainWarning",
    "Chains",
    "Checkpoint",
    "DPIVerdict",
    "InformationMonitor",
    "Layer",
    "LayerInfo",
    "LayerSpec",
    "Link",
    "LinkResult",
    "SaturationWarning",
    "capture_activations",
    "check_dpi",
    "dpi_sensitivity",
    "dpi_shares",
    "find_chains",
    "format_layers",
    "information_plane",
    "layer_grams",
    "list_layers",
    "probe_cache",
    "resolve_layers",
    "width_curves",
]
