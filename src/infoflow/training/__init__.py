"""Training runs with information-flow measurement: configuration, run folder, trainer."""

from infoflow.training.config import RunConfig
from infoflow.training.trainer import Trainer

__all__ = ["RunConfig", "Trainer"]
