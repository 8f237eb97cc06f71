"""The ``infoflow`` command: a thin adapter over the Python API."""

from infoflow.cli.main import main

__all__ = ["main"]
