"""``infoflow run`` and ``infoflow report`` end to end on a tiny configuration."""

from __future__ import annotations

import csv
import html
import json

from infoflow.cli import main

TINY = ["--epochs", "1", "--batch-size", "256", "--probe-size", "40", "--measure-every", "2",
        "--filters", "2", "2", "--no-progress"]


def test_run_then_report(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "--out", str(out), *TINY]) == 0
    printed = capsys.readouterr().out
    assert "DPI 1: holds" in printed and "(no intervals: holds or broken)" in printed
    assert f"report: {out / 'report.html'}" in printed
    config = json.loads((out / "config.json").read_text())
    assert config["config"]["filters"] == [2, 2] and "torch" in config["versions"]
    page = (out / "report.html").read_text()
    for needed in ("Information plane", "Data-processing", "Sensitivity", "training",
                   "data:image/png;base64"):
        assert needed in page
    for name in ("information_plane", "mutual_information", "dpi", "training"):
        assert (out / "plots" / f"{name}.png").stat().st_size > 1000
    (out / "report.html").unlink()
    assert main(["report", str(out)]) == 0
    assert (out / "report.html").exists()


def test_config_file_and_flags(tmp_path, capsys):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"model": "mlp", "filters": [8], "epochs": 5}))
    out = tmp_path / "mlp"
    assert main(["run", "--config", str(config), "--out", str(out), *TINY]) == 0
    saved = json.loads((out / "config.json").read_text())["config"]
    assert saved["model"] == "mlp" and saved["epochs"] == 1 and saved["filters"] == [2, 2]


def test_errors_are_one_line(tmp_path, capsys):
    assert main(["run", "--out", str(tmp_path / "x"), "--alpha", "-2", *TINY]) == 2
    assert "argument --alpha: alpha must be > 0, got -2.0" in capsys.readouterr().err
    assert main(["run", "--data", "mnist", "--data-dir", str(tmp_path), "--out",
                 str(tmp_path / "y"), *TINY]) == 2
    assert "is missing" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nothing")]) == 2
    assert "not a run folder" in capsys.readouterr().err


def test_interrupted_run_says_how_to_resume(tmp_path, capsys, monkeypatch):
    from infoflow.training import Trainer

    original = Trainer._measure

    def interrupt_on_second(self):
        original(self)
        if self.state["step"] >= 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(Trainer, "_measure", interrupt_on_second)
    out = tmp_path / "cut"
    assert main(["run", "--out", str(out), *TINY]) == 130
    assert f"infoflow run --resume {out}" in capsys.readouterr().err
    monkeypatch.setattr(Trainer, "_measure", original)
    assert main(["run", "--resume", str(out), "--no-progress"]) == 0


def test_run_with_pid_layers_reports_the_decomposition(tmp_path, capsys):
    out = tmp_path / "pid"
    assert main(["run", "--out", str(out), *TINY, "--pid-layers", "conv2",
                 "--conv-mode", "feature_maps"]) == 0
    page = (out / "report.html").read_text()
    assert "Redundancy and synergy among feature maps" in page
    assert (out / "plots" / "pid.png").stat().st_size > 1000


def test_study_filters_end_to_end(tmp_path, capsys):
    out = tmp_path / "study"
    assert main(["study", "filters", "--counts", "2", "3", "--seeds", "0", "--epochs", "1",
                 "--probe-size", "40", "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "filters" in printed and f"plot: {out / 'plots' / 'filter_study.png'}" in printed
    assert main(["study", "filters", "--resume", str(out), "--no-progress"]) == 0
    assert main(["study", "filters", "--model", "mlp", "--out", str(tmp_path / "x")]) == 2
    assert "needs a CNN" in capsys.readouterr().err


def test_method_options_and_the_resolved_method_are_recorded(tmp_path, capsys):
    for method, resolved in (("auto", "Exact()"), ("lanczos", "Lanczos(")):
        out = tmp_path / method
        assert main(["run", "--out", str(out), *TINY, "--method", method,
                     "--dtype", "float32"]) == 0
        saved = json.loads((out / "config.json").read_text())
        assert saved["resolved"]["method"].startswith(resolved)
        assert saved["config"]["dtype"] == "float32"
        report = (out / "report.html").read_text()
        assert f"spectra\n<b>{html.escape(saved['resolved']['method'])}</b>" in report
    assert main(["run", "--out", str(tmp_path / "bad"), *TINY, "--method", "magic"]) == 2
    assert "method must be one of" in capsys.readouterr().err


def test_uncertainty_gives_intervals_and_three_valued_verdicts(tmp_path, capsys):
    out = tmp_path / "sure"
    assert main(["run", "--out", str(out), "--uncertainty", *TINY]) == 0
    printed = capsys.readouterr().out
    assert "with confidence intervals" in printed
    assert "within noise" in printed and "final:" in printed
    with open(out / "measurements.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    measured = [r for r in rows if r["quantity"] == "I(T;Y)"]
    assert measured and all(float(r["low"]) < float(r["high"]) for r in measured)
    excess = [r for r in rows if r["quantity"] == "DPI 2 excess"]
    assert {r["layer"] for r in excess} >= {"input->conv1", "conv1->conv2"}
    page = (out / "report.html").read_text()
    assert "jackknife over the probe" in page and "within noise" in page
