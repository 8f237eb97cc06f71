"""A run's folder: configuration, tidy records appended as they are measured, checkpoints.

Layout::

    config.json        configuration, what "auto" resolved to (spectrum method), versions
    measurements.csv   step, epoch, layer, quantity, value, low, high — appended at every
                       checkpoint; low and high bound the confidence interval (NaN without
                       uncertainty; folders written before they existed have no such columns)
    training.csv       epoch, train_loss, train_accuracy, test_accuracy — appended per epoch
    timing.json        seconds spent training and measuring
    state.pt           model, optimizer and loop position after the last record (for --resume)
    sensitivity.csv    DPI verdicts per width rule and layer-kernel mode, at the end
    width_curves.csv   I(X;Y), each layer's quantities and the DPI verdicts per width rule with
                       every width scaled by a common factor (1/4 to 4), at the end
    plots/*.png, report.html

    run.lock           the process id of the run writing the folder, locked by it while it runs

Rows are flushed and synced as they are written, and ``state.pt`` is replaced atomically
after them, so a run killed at any moment keeps every record already measured; rows written
after the last state are dropped on resume and measured again, identically.

A run folder is in one of four states (:meth:`RunFolder.status`):

``new``
    absent or empty: a run may start there.
``running``
    a live process holds the operating system's lock on ``run.lock`` (``flock``; on Windows a
    byte-range lock), taken when the run starts and held until it ends: nothing else may write
    there. The lock dies with its process — also when it is killed with SIGKILL — so a
    ``run.lock`` left behind by a dead run reads as ``interrupted``, even when its process id
    has since been given to another live process. The id in the file only names the writer in
    messages.
``interrupted``
    ``config.json`` is written but the run has not finished (killed, Ctrl-C, an error) — also
    before its first ``state.pt``: ``--resume`` continues it (from the start if no state was
    saved) to records identical to an uninterrupted run's.
``finished``
    ``state.pt`` says the last epoch, the final measurement and the sensitivity table are done:
    resuming changes nothing.

A folder holding anything infoflow did not write (a stray ``measurements.csv`` without
``config.json``, any other file) is refused for a new run and for ``--resume``, with the names.
"""

from __future__ import annotations

import csv
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None
    import msvcrt

MEASUREMENT_FIELDS = ("step", "epoch", "layer", "quantity", "value", "low", "high")
TRAINING_FIELDS = ("epoch", "train_loss", "train_accuracy", "test_accuracy")
#: Headers of files written by earlier versions, still read (and continued in their own format).
EARLIER_HEADERS = {MEASUREMENT_FIELDS: (MEASUREMENT_FIELDS[:5],)}
SENSITIVITY_FIELDS = ("rule", "conv_mode", "dpi1", "dpi2", "dpi1_links_held", "dpi2_links_held")
WIDTH_CURVE_FIELDS = ("rule", "conv_mode", "scale", "layer", "quantity", "value")


def versions() -> dict[str, str]:
    from infoflow import __version__

    return {"infoflow": __version__, "python": platform.python_version(),
            "torch": torch.__version__, "numpy": np.__version__, "platform": platform.platform()}


def _header(path: Path) -> list[str] | None:
    with open(path, newline="") as f:
        return next(csv.reader(f), None)


def append_rows(path: Path, fields: tuple[str, ...], rows: list[dict[str, Any]]) -> None:
    """Append rows to a CSV file (header first if new), flushed and synced.

    An existing file keeps its own columns: a run folder written before a column existed is
    continued in its own format (the new column is dropped, and read back as missing).
    """
    new = not path.exists()
    if not new:
        fields = tuple(_header(path) or fields)
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields, extrasaction="ignore")
        if new:
            writer.writeheader()
        writer.writerows(rows)
        f.flush()
        os.fsync(f.fileno())


#: Where Windows' byte-range lock sits: past the process id, so that others can still read it.
_LOCK_OFFSET = 1 << 20


def _try_lock(handle: int) -> bool:
    """Take the exclusive lock on an open file without waiting; False if another holds it.
    The operating system releases it when the handle is closed or the process dies."""
    try:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            os.lseek(handle, _LOCK_OFFSET, os.SEEK_SET)
            msvcrt.locking(handle, msvcrt.LK_NBLCK, 1)
    except OSError:
        return False
    return True


def _release(handle: int) -> None:
    if fcntl is not None:
        fcntl.flock(handle, fcntl.LOCK_UN)
    else:
        os.lseek(handle, _LOCK_OFFSET, os.SEEK_SET)
        msvcrt.locking(handle, msvcrt.LK_UNLCK, 1)


def _written_pid(handle: int) -> int:
    """The process id written in a held ``run.lock``; its holder writes it right after taking
    the lock, so an empty file is read again for up to a second (0 if it stays empty)."""
    for _ in range(100):
        os.lseek(handle, 0, os.SEEK_SET)
        text = os.read(handle, 32)
        if text.strip().isdigit():
            return int(text)
        time.sleep(0.01)
    return 0


class RunFolderError(ValueError):
    """A run folder that cannot be used as asked; the message names the file and what to do."""


#: What infoflow writes in a run folder (besides temporary ``*.tmp`` twins while replacing).
RUN_FILES = ("config.json", "measurements.csv", "training.csv", "timing.json", "state.pt",
             "sensitivity.csv", "width_curves.csv", "plots", "report.html", "run.lock")


def read_rows(path: Path, fields: tuple[str, ...] | None = None,
              numbers: tuple[str, ...] = ()) -> list[dict[str, str]]:
    """The rows of a CSV file ([] if it does not exist). With ``fields``, the header must be
    exactly those and each field in ``numbers`` must parse as a number; a damaged file (binary,
    truncated, lost header) raises :class:`RunFolderError` naming the file and row."""
    if not path.exists():
        return []
    try:
        with open(path, newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            header = tuple(reader.fieldnames or ())
    except (UnicodeDecodeError, csv.Error) as error:
        raise RunFolderError(f"{path} is damaged ({error}); it is not a CSV file infoflow "
                             "wrote") from None
    if fields is None:
        return rows
    if header != fields and header not in EARLIER_HEADERS.get(fields, ()):
        raise RunFolderError(f"{path} is damaged: its header is {list(header)}, expected "
                             f"{list(fields)} (a lost or edited header)")
    for i, row in enumerate(rows, start=2):
        if None in row or any(row[name] is None for name in header):
            raise RunFolderError(f"{path} is damaged at row {i}: expected {len(fields)} fields "
                                 "(a truncated or edited row)")
        for name in numbers:
            try:
                float(row[name])
            except ValueError:
                raise RunFolderError(f"{path} is damaged at row {i}: {name} {row[name]!r} is "
                                     "not a number") from None
    return rows


def keep_rows(path: Path, fields: tuple[str, ...], keep) -> None:
    """Rewrite a CSV file with only the rows ``keep(row)`` accepts (atomically), in its own
    columns."""
    fields = tuple(_header(path) or fields)
    rows = [r for r in read_rows(path, fields) if keep(r)]
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)


class RunFolder:
    """Read and write one run's folder (its states are in the module documentation)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.plots = self.path / "plots"
        self._lock_handle: int | None = None

    def file(self, name: str) -> Path:
        return self.path / name

    # --- states ------------------------------------------------------------------------
    def foreign(self) -> list[str]:
        """Names in the folder that infoflow did not write."""
        if not self.path.is_dir():
            return []
        return sorted(p.name for p in self.path.iterdir()
                      if p.name not in RUN_FILES and not p.name.endswith(".tmp"))

    def status(self) -> str:
        """"new", "running", "interrupted" or "finished"; raises :class:`RunFolderError` for
        a folder infoflow did not write (or a path that is not a folder)."""
        if self.path.exists() and not self.path.is_dir():
            raise RunFolderError(f"{self.path} is a file, not a run folder")
        foreign = self.foreign()
        if foreign:
            raise RunFolderError(f"{self.path} holds files infoflow did not write: "
                                 f"{', '.join(foreign)}; choose an empty or new folder")
        present = [p.name for p in self.path.iterdir()] if self.path.is_dir() else []
        if not any(not name.endswith(".tmp") for name in present):
            return "new"
        if not self.file("config.json").exists():
            raise RunFolderError(
                f"{self.path} holds {', '.join(sorted(present))} but no config.json: not a run "
                "infoflow wrote; choose an empty or new folder"
            )
        if self.locked_by() is not None:
            return "running"
        state = self.load_state()
        return "finished" if state is not None and state.get("finished") else "interrupted"

    def locked_by(self) -> int | None:
        """The id of the live process writing this folder (holding the lock on ``run.lock``),
        or None; a ``run.lock`` no live process holds is left over from a dead run, whatever
        process id it names."""
        try:
            handle = os.open(self.file("run.lock"), os.O_RDONLY)
        except OSError:
            return None
        try:
            if _try_lock(handle):
                _release(handle)
                return None
            return _written_pid(handle)
        finally:
            os.close(handle)

    def lock(self) -> None:
        """Mark the folder as being written by this process until :meth:`unlock`: hold the
        operating system's lock on ``run.lock``, which names this process."""
        if self._lock_handle is not None:
            return
        while True:
            handle = os.open(self.file("run.lock"), os.O_RDWR | os.O_CREAT, 0o644)
            if not _try_lock(handle):
                owner = _written_pid(handle)
                os.close(handle)
                raise RunFolderError(f"{self.path} is being written by process {owner}; wait "
                                     "for it to finish or stop it first")
            try:  # the file we locked may have been removed by a run that just ended
                current = os.stat(self.file("run.lock")).st_ino
            except FileNotFoundError:
                current = None
            if current == os.fstat(handle).st_ino:
                break
            _release(handle)
            os.close(handle)
        os.ftruncate(handle, 0)
        os.write(handle, str(os.getpid()).encode())
        self._lock_handle = handle

    def unlock(self) -> None:
        """End :meth:`lock`: remove ``run.lock`` (while still holding it), then release it."""
        if self._lock_handle is None:
            return
        self.file("run.lock").unlink(missing_ok=True)
        _release(self._lock_handle)
        os.close(self._lock_handle)
        self._lock_handle = None

    def create(self, config: dict[str, Any], resolved: dict[str, Any] | None = None) -> None:
        """Start a run in a new folder: write config.json with the options, what "auto" options
        resolved to (the spectrum method actually used) and the library versions."""
        status = self.status()
        if status != "new":
            raise RunFolderError(
                f"{self.path} already holds a {status} run; resume it with --resume {self.path} "
                "or choose another --out"
            )
        self.path.mkdir(parents=True, exist_ok=True)
        self.write_json("config.json", {"config": config, "resolved": resolved or {},
                                        "versions": versions()})

    # --- reading and writing -------------------------------------------------------------
    def _saved(self) -> dict[str, Any]:
        path = self.file("config.json")
        if not path.exists():
            raise RunFolderError(f"{self.path} is not a run folder: it has no config.json")
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:  # JSON and UTF-8 decoding errors
            raise RunFolderError(f"{path} is damaged ({error}); it is not the JSON infoflow "
                                 "wrote") from None
        if not isinstance(saved, dict) or not isinstance(saved.get("config"), dict):
            raise RunFolderError(f"{path} is damaged: it holds no run configuration")
        return saved

    def resolved(self) -> dict[str, Any]:
        return self._saved().get("resolved", {})

    def config(self) -> dict[str, Any]:
        return self._saved()["config"]

    def write_json(self, name: str, value: Any) -> None:
        tmp = self.file(name + ".tmp")
        tmp.write_text(json.dumps(value, indent=2))
        tmp.replace(self.file(name))

    def read_json(self, name: str, default: Any = None) -> Any:
        path = self.file(name)
        if not path.exists():
            return default
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError as error:
            raise RunFolderError(f"{path} is damaged ({error})") from None

    def append_measurements(self, rows: list[dict[str, Any]]) -> None:
        append_rows(self.file("measurements.csv"), MEASUREMENT_FIELDS, rows)

    def append_training(self, row: dict[str, Any]) -> None:
        append_rows(self.file("training.csv"), TRAINING_FIELDS, [row])

    def measurements(self) -> list[dict[str, str]]:
        return read_rows(self.file("measurements.csv"), MEASUREMENT_FIELDS, ("step", "value"))

    def training(self) -> list[dict[str, str]]:
        return read_rows(self.file("training.csv"), TRAINING_FIELDS, TRAINING_FIELDS)

    def last_measured_step(self) -> int | None:
        """The step of the last checkpoint in the records, or None before the first."""
        rows = self.measurements()
        return max(int(r["step"]) for r in rows) if rows else None

    def save_state(self, state: dict[str, Any]) -> None:
        tmp = self.file("state.pt.tmp")
        torch.save(state, tmp)
        tmp.replace(self.file("state.pt"))

    def load_state(self) -> dict[str, Any] | None:
        path = self.file("state.pt")
        if not path.exists():
            return None
        try:
            state = torch.load(path, weights_only=False)
        except Exception as error:  # torch raises many kinds for a damaged file
            raise RunFolderError(
                f"{path} is damaged ({type(error).__name__}: {str(error)[:80]}); delete it to "
                "resume the run from its start"
            ) from None
        if not isinstance(state, dict):
            raise RunFolderError(f"{path} is damaged: it holds no training state")
        return state

    def truncate_after(self, step: int, epoch: int) -> None:
        """Drop records written after the saved state (measured again on resume); ``step``
        -1 drops every record (a run resumed before its first saved state)."""
        if self.file("measurements.csv").exists():
            keep_rows(self.file("measurements.csv"), MEASUREMENT_FIELDS,
                      lambda r: int(r["step"]) <= step)
        if self.file("training.csv").exists():
            keep_rows(self.file("training.csv"), TRAINING_FIELDS,
                      lambda r: int(r["epoch"]) < epoch)
