"""A run folder is a small state machine: new, running, interrupted, finished.

A run interrupted at any moment — also before its first saved state, or while writing the
sensitivity table — resumes to records identical to an uninterrupted run's; a finished run
resumed changes nothing; a folder holding files infoflow did not write is refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from infoflow.storage import RunFolder, RunFolderError
from infoflow.training import RunConfig, Trainer

TINY = dict(epochs=2, batch_size=256, probe_size=40, measure_every=3, filters=[2, 2])


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Trainer(RunConfig(**TINY), tmp_path_factory.mktemp("runs") / "done").run()


def _same_records(folder: RunFolder, reference: RunFolder) -> None:
    assert folder.measurements() == reference.measurements()
    assert folder.training() == reference.training()
    assert folder.file("sensitivity.csv").read_bytes() == \
        reference.file("sensitivity.csv").read_bytes()
    assert folder.status() == "finished"


def test_states(tmp_path, finished):
    assert RunFolder(tmp_path / "absent").status() == "new"
    (tmp_path / "empty").mkdir()
    assert RunFolder(tmp_path / "empty").status() == "new"
    assert finished.status() == "finished"
    copy = RunFolder(shutil.copytree(finished.path, tmp_path / "copy"))
    copy.file("state.pt").unlink()
    assert copy.status() == "interrupted"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from infoflow.storage import RunFolder; "
         "RunFolder(sys.argv[1]).lock(); print('locked', flush=True); time.sleep(60)",
         str(copy.path)],
        stdout=subprocess.PIPE, text=True, env={**os.environ, "PYTHONPATH": _source()})
    try:
        assert holder.stdout.readline() == "locked\n"
        assert copy.status() == "running"
        assert copy.locked_by() == holder.pid
        with pytest.raises(RunFolderError, match=f"being written by process {holder.pid}"):
            Trainer(None, copy.path, resume=True)
        with pytest.raises(RunFolderError, match=f"being written by process {holder.pid}"):
            copy.lock()
    finally:
        holder.kill()  # SIGKILL: no clean-up runs, run.lock stays behind
        holder.wait()
    assert copy.file("run.lock").read_text() == str(holder.pid)
    assert copy.status() == "interrupted"  # a lock left by a dead process: killed, resumable


def _source() -> str:
    import infoflow

    return str(Path(infoflow.__file__).parents[1])


def test_a_stale_lock_naming_a_live_unrelated_process_is_resumable(tmp_path, finished):
    """The process id in a dead run's run.lock may be given to another process: the folder
    must not read as running then (only the lock the dead run held counts)."""
    copy = RunFolder(shutil.copytree(finished.path, tmp_path / "copy"))
    copy.file("state.pt").unlink()
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        for pid in (sleeper.pid, os.getppid(), os.getpid()):
            copy.file("run.lock").write_text(str(pid))
            assert copy.locked_by() is None
            assert copy.status() == "interrupted"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            Trainer(None, copy.path, resume=True).run()
    finally:
        sleeper.kill()
        sleeper.wait()
    _same_records(copy, finished)
    assert not copy.file("run.lock").exists()


def test_a_folder_with_files_infoflow_did_not_write_is_refused(tmp_path, finished):
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "measurements.csv").write_text("step,epoch,layer,quantity,value\n0,0,x,y,1\n")
    with pytest.raises(RunFolderError, match="holds measurements.csv but no config.json"):
        Trainer(RunConfig(**TINY), stray)
    assert (stray / "measurements.csv").read_text().count("\n") == 2  # untouched
    other = RunFolder(shutil.copytree(finished.path, tmp_path / "other"))
    other.file("notes.txt").write_text("mine")
    for call in (lambda: Trainer(None, other.path, resume=True),
                 lambda: Trainer(RunConfig(**TINY), other.path)):
        with pytest.raises(RunFolderError, match="files infoflow did not write: notes.txt"):
            call()


def test_interrupted_before_the_first_saved_state_resumes_identically(tmp_path, finished,
                                                                        monkeypatch):
    folder = tmp_path / "early"
    original = RunFolder.save_state

    def killed(self, state):
        raise KeyboardInterrupt  # after the step-0 rows, before state.pt

    monkeypatch.setattr(RunFolder, "save_state", killed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(KeyboardInterrupt):
            Trainer(RunConfig(**TINY), folder).run()
        assert RunFolder(folder).status() == "interrupted"
        assert not RunFolder(folder).file("state.pt").exists()
        assert RunFolder(folder).measurements()  # step 0 was written
        monkeypatch.setattr(RunFolder, "save_state", original)
        Trainer(None, folder, resume=True).run()
    _same_records(RunFolder(folder), finished)


def test_interrupted_right_after_the_folder_was_made_resumes(tmp_path, finished):
    folder = tmp_path / "bare"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Trainer(RunConfig(**TINY), folder)  # config.json written, then Ctrl-C before run()
        assert RunFolder(folder).status() == "interrupted"
        Trainer(None, folder, resume=True).run()
    _same_records(RunFolder(folder), finished)


def test_interrupted_while_writing_the_sensitivity_table_resumes(tmp_path, finished,
                                                                 monkeypatch):
    folder = tmp_path / "late"

    def killed(self):
        self.folder.file("sensitivity.csv").write_text("rule,conv")  # half written
        raise KeyboardInterrupt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with monkeypatch.context() as patch:
            patch.setattr(Trainer, "write_sensitivity", killed)
            with pytest.raises(KeyboardInterrupt):
                Trainer(RunConfig(**TINY), folder).run()
        assert RunFolder(folder).status() == "interrupted"
        assert not RunFolder(folder).file("run.lock").exists()
        Trainer(None, folder, resume=True).run()
    _same_records(RunFolder(folder), finished)


def test_resuming_a_finished_run_changes_nothing(tmp_path, finished):
    folder = RunFolder(shutil.copytree(finished.path, tmp_path / "again"))
    before = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.path.iterdir()
              if p.is_file()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = Trainer(None, folder.path, resume=True)
        assert trainer.status == "finished"
        trainer.run()
    after = {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.path.iterdir()
             if p.is_file()}
    assert after == before


@pytest.mark.parametrize(("name", "content", "message"), [
    ("measurements.csv", b"\x00\xff\xfe binary", "measurements.csv is damaged"),
    ("measurements.csv", b"0,0,conv1,H(T),1.0\n", "header is"),
    ("measurements.csv", b"step,epoch,layer,quantity,value\n0,0,conv1\n", "at row 2"),
    ("measurements.csv", b"step,epoch,layer,quantity,value\n0,0,a,b,oops\n",
     "row 2: value 'oops' is not a number"),
    ("training.csv", b"epoch,train_loss\n", "training.csv is damaged"),
    ("config.json", b"{not json", "config.json is damaged"),
    ("config.json", b"null", "holds no run configuration"),
    ("state.pt", b"truncated", "state.pt is damaged"),
])
def test_damaged_files_are_named(tmp_path, finished, name, content, message):
    folder = RunFolder(shutil.copytree(finished.path, tmp_path / "damaged"))
    folder.file(name).write_bytes(content)
    with pytest.raises(RunFolderError, match=message):
        folder.status()
        folder.config()
        folder.measurements()
        folder.training()
        folder.load_state()


def test_the_lock_names_this_process_while_running(tmp_path):
    seen = []

    def look(checkpoint):
        seen.append(RunFolder(tmp_path / "r").locked_by())

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Trainer(RunConfig(**{**TINY, "epochs": 1}), tmp_path / "r", on_checkpoint=look).run()
    assert seen and set(seen) == {os.getpid()}
    assert not (tmp_path / "r" / "run.lock").exists()
