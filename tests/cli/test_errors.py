"""The CLI never shows a traceback for a user's mistake or an interrupt.

Each case: one line naming the file, row or option and what to do, and a non-zero exit status
(2 for a mistake, 130 for Ctrl-C), at every stage of every command.
"""

from __future__ import annotations

import json
import shutil

import pytest
import torch

from infoflow import _memory
from infoflow.cli import main

TINY = ["--epochs", "1", "--batch-size", "256", "--probe-size", "40", "--measure-every", "4",
        "--filters", "2", "2", "--no-progress"]


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "run"
    assert main(["run", "--out", str(out), *TINY]) == 0
    return out


def _fails(argv, capsys, message, code=2):
    assert main([str(a) for a in argv]) == code
    captured = capsys.readouterr()
    assert message in captured.err, captured.err
    assert "Traceback" not in captured.err + captured.out
    return captured.err


@pytest.mark.parametrize(("flags", "message"), [
    (["--lr", "inf"], "argument --lr: lr must be finite and > 0, got inf"),
    (["--dpi-tolerance", "nan"], "argument --dpi-tolerance: dpi_tolerance must be >= 0, got nan"),
    (["--epochs", "0"], "argument --epochs: epochs must be >= 1, got 0"),
    (["--batch-size", "2.5"], "argument --batch-size: batch_size must be an integer >= 1"),
    (["--filters", "4", "-1"], "argument --filters: filters must be >= 1, got -1"),
    (["--rule", "mean"], "argument --rule: rule must be one of"),
    (["--device", "gpu"], "device must be a torch device such as cpu, cuda"),
])
def test_bad_options(tmp_path, capsys, flags, message):
    _fails(["run", "--out", tmp_path / "x", *TINY, *flags], capsys, message)
    assert not (tmp_path / "x").exists()


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda(tmp_path, capsys):
    _fails(["run", "--out", tmp_path / "x", *TINY, "--device", "cuda"], capsys,
           "device 'cuda' is not available on this machine")


@pytest.mark.parametrize(("text", "message"), [
    ("null", "must be a mapping of option names to values, got NoneType"),
    ('{"data_dir": 5}', "data_dir must be a string, got int 5"),
    ('{"epochs": null}', "epochs must be an integer >= 1, got None"),
    ('{"epochs": "3"}', "epochs must be an integer >= 1, got str '3'"),
    ('{"epoch": 3}', "unknown configuration keys ['epoch']"),
    ("{not json", "is not valid JSON"),
])
def test_bad_config_files(tmp_path, capsys, text, message):
    config = tmp_path / "c.json"
    config.write_text(text)
    _fails(["run", "--config", config, "--out", tmp_path / "x", *TINY], capsys, message)


def test_binary_config_file(tmp_path, capsys):
    config = tmp_path / "c.toml"
    config.write_bytes(b"\xff\xfe\x00binary")
    _fails(["run", "--config", config, "--out", tmp_path / "x"], capsys, "is not valid TOML")


@pytest.mark.parametrize(("name", "content", "message"), [
    ("measurements.csv", b"\x00\xff\xfe", "measurements.csv is damaged"),
    ("measurements.csv", b"step,epoch,layer,quantity,value\n0,0,conv1", "at row 2"),
    ("measurements.csv", b"0,0,conv1,H(T),1.0\n", "header is"),
    ("config.json", b"{", "config.json is damaged"),
])
def test_report_of_a_damaged_folder(tmp_path, capsys, finished, name, content, message):
    folder = shutil.copytree(finished, tmp_path / "copy")
    (folder / name).write_bytes(content)
    _fails(["report", folder], capsys, message)


def test_resume_of_a_damaged_state(tmp_path, capsys, finished):
    folder = shutil.copytree(finished, tmp_path / "copy")
    (folder / "state.pt").write_bytes(b"\x80truncated")
    _fails(["run", "--resume", folder], capsys, "state.pt is damaged")


def test_stray_files_and_finished_runs(tmp_path, capsys, finished):
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "measurements.csv").write_text("foreign rows\n")
    _fails(["run", "--out", stray, *TINY], capsys, "no config.json: not a run infoflow wrote")
    assert (stray / "measurements.csv").read_text() == "foreign rows\n"
    _fails(["run", "--out", finished, *TINY], capsys, "already holds a finished run")
    _fails(["report", tmp_path / "nothing"], capsys, "not a run folder")
    assert main(["run", "--resume", str(finished)]) == 0
    assert "finished run; nothing to resume" in capsys.readouterr().err


def test_resume_with_contradicting_options_lists_them(capsys, finished):
    err = _fails(["run", "--resume", finished, "--epochs", "3", "--rule", "median",
                  "--seed", "0"], capsys, "these differ")
    assert "epochs (saved 1, given 3)" in err and "rule (saved 'silverman', given 'median')" in err
    assert "seed" not in err  # the same as saved: no contradiction


def test_memory_budget_is_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setitem(_memory._options, "memory_limit", 1024)
    _fails(["run", "--out", tmp_path / "x", *TINY], capsys, "needs about")


def test_read_only_folder_is_one_line(tmp_path, capsys, monkeypatch):
    from infoflow.storage import RunFolder

    def read_only(self, *args, **kwargs):
        raise OSError(30, "Read-only file system", str(self.path / "config.json"))

    monkeypatch.setattr(RunFolder, "create", read_only)
    _fails(["run", "--out", tmp_path / "x", *TINY], capsys,
           "config.json: Read-only file system (choose a writable folder)")


def test_ctrl_c_in_set_up_and_in_the_report(tmp_path, capsys, monkeypatch, finished):
    import infoflow.reporting
    import infoflow.training.trainer

    with monkeypatch.context() as patch:
        patch.setattr(infoflow.training.trainer, "load_dataset",
                      lambda *a, **k: (_ for _ in ()).throw(KeyboardInterrupt))
        _fails(["run", "--out", tmp_path / "x", *TINY], capsys, "infoflow run: interrupted", 130)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(infoflow.reporting, "write_report", interrupted)
    _fails(["report", finished], capsys, "infoflow report: interrupted", 130)
    _fails(["run", "--out", tmp_path / "y", *TINY], capsys,
           "interrupted while drawing the report", 130)
    assert json.loads((tmp_path / "y" / "config.json").read_text())  # the records are kept


def test_demo_counts(capsys):
    for n in ("0", "-5", "1.5", "x"):
        _fails(["demo", "--n", n], capsys, "argument --n: n must be")
