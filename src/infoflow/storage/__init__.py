"""The on-disk formats below both training and reporting: the run folder (records, state)."""

from infoflow.storage.run_folder import RunFolder, RunFolderError, append_rows, read_rows

__all__ = ["RunFolder", "RunFolderError", "append_rows", "read_rows"]
