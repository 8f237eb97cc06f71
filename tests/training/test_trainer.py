"""Runs: records, bounds, determinism, and resume after a kill."""

from __future__ import annotations

import csv
import math
import warnings

import pytest

from infoflow.storage import RunFolder, RunFolderError
from infoflow.training import RunConfig, Trainer

TINY = dict(epochs=2, batch_size=128, probe_size=60, measure_every=4, filters=[2, 3])


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def run(folder, **overrides):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Trainer(RunConfig(**{**TINY, **overrides}), folder).run()


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return run(tmp_path_factory.mktemp("runs") / "a")


def test_run_folder_holds_everything(finished):
    for name in ("config.json", "measurements.csv", "training.csv", "timing.json", "state.pt",
                 "sensitivity.csv", "width_curves.csv"):
        assert finished.file(name).exists(), name
    assert len(finished.training()) == 2
    steps = sorted({int(r["step"]) for r in finished.measurements()})
    assert steps == [0, 4, 8, 12, 16, 20]  # 10 batches per epoch, 2 epochs, then the last step
    assert len(rows(finished.file("sensitivity.csv"))) == 10  # 5 rules x 2 modes
    curves = rows(finished.file("width_curves.csv"))
    # 5 rules x 9 scales x (I(X;Y), 4 layers x 3 quantities, 2 verdicts)
    assert len(curves) == 5 * 9 * (1 + 4 * 3 + 2)
    assert {r["conv_mode"] for r in curves} == {"tensor"}


def test_measured_values_obey_the_estimator_bounds(finished):
    by_step = {}
    for r in finished.measurements():
        by_step.setdefault(r["step"], {})[(r["layer"], r["quantity"])] = float(r["value"])
    top = math.log2(60)
    for v in by_step.values():
        hx, hy = v[("input", "H(X)")], v[("input", "H(Y)")]
        assert 0 <= v[("input", "I(X;Y)")] <= min(hx, hy) + 1e-9
        for layer in ("conv1", "conv2", "fc1", "fc2"):
            ht = v[(layer, "H(T)")]
            assert 0 <= ht <= top + 1e-9
            assert -1e-9 <= v[(layer, "I(X;T)")] <= min(hx, ht) + 1e-9
            assert -1e-9 <= v[(layer, "I(T;Y)")] <= min(ht, hy) + 1e-9


def test_same_seed_same_records(finished, tmp_path):
    again = run(tmp_path / "b")
    assert again.measurements() == finished.measurements()
    assert again.training() == finished.training()


def test_resume_after_a_kill_continues_to_the_same_records(finished, tmp_path):
    folder = tmp_path / "killed"
    calls = []

    def kill(checkpoint):
        calls.append(checkpoint.step)
        if checkpoint.step == 12:
            raise KeyboardInterrupt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trainer = Trainer(RunConfig(**TINY), folder, on_checkpoint=kill)
        with pytest.raises(KeyboardInterrupt):
            trainer.run()
        kept = RunFolder(folder).measurements()
        assert max(int(r["step"]) for r in kept) == 12  # nothing measured is lost
        Trainer(None, folder, resume=True).run()
    assert RunFolder(folder).measurements() == finished.measurements()
    assert RunFolder(folder).training() == finished.training()


def test_rows_written_after_the_last_state_are_dropped_on_resume(finished, tmp_path):
    import shutil

    folder = tmp_path / "copy"
    shutil.copytree(finished.path, folder)
    copy = RunFolder(folder)
    copy.append_measurements([{"step": 999, "epoch": 9, "layer": "x", "quantity": "q", "value": 1}])
    copy.truncate_after(20, 2)
    assert copy.measurements() == finished.measurements()


def test_a_new_run_refuses_an_existing_folder(finished):
    with pytest.raises(RunFolderError, match="already holds a finished run.*--resume"):
        Trainer(RunConfig(**TINY), finished.path)


@pytest.mark.parametrize(
    ("overrides", "match"),
    [({"epochs": 0}, "epochs must be >= 1, got 0"), ({"model": "resnet50"}, "model must be"),
     ({"rule": "x"}, "rule must be one of"), ({"lr": -1}, "lr must be > 0, got -1"),
     ({"filters": [0]}, "filters\\[0\\] must be >= 1, got 0"), ({"conv_mode": "x"}, "conv_mode must be")],
)
def test_config_validation(overrides, match):
    with pytest.raises(ValueError, match=match):
        RunConfig(**overrides)


def test_config_files(tmp_path):
    (tmp_path / "c.toml").write_text('model = "mlp"\nepochs = 3\nfilters = [8, 4]\n')
    assert RunConfig.from_file(tmp_path / "c.toml").filters == [8, 4]
    (tmp_path / "c.json").write_text('{"epochs": 2, "colour": "red"}')
    with pytest.raises(ValueError, match=r"unknown configuration keys \['colour'\]"):
        RunConfig.from_file(tmp_path / "c.json")


def test_probe_larger_than_the_test_split(tmp_path):
    with pytest.raises(ValueError, match="probe_size must be at most"):
        Trainer(RunConfig(probe_size=10_000), tmp_path / "r")


def test_resuming_a_finished_run_adds_nothing(finished, tmp_path):
    import shutil

    folder = tmp_path / "done"
    shutil.copytree(finished.path, folder)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Trainer(None, folder, resume=True).run(sensitivity=False)
    assert RunFolder(folder).measurements() == finished.measurements()


def test_a_kill_before_the_final_measurement_is_measured_on_resume(finished, tmp_path):
    import shutil

    folder = tmp_path / "almost"
    shutil.copytree(finished.path, folder)
    copy = RunFolder(folder)
    copy.truncate_after(16, 2)  # the records lose the final checkpoint (step 20)
    state = copy.load_state()
    state.pop("finished")  # the kill came before the run was marked finished
    copy.save_state(state)
    assert copy.last_measured_step() == 16 and copy.status() == "interrupted"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Trainer(None, folder, resume=True).run(sensitivity=False)
    assert copy.measurements() == finished.measurements()


#: Records of runs with different torch thread counts agree to this many bits (README,
#: "Reproducibility"); with the same thread count they are bitwise identical.
THREAD_BOUND = 1e-6


def test_records_across_thread_counts_agree_to_the_stated_bound(finished, tmp_path, monkeypatch):
    import torch

    monkeypatch.delenv("OMP_NUM_THREADS")  # finished ran on one thread (conftest); this on two
    threads = torch.get_num_threads()
    other = 2
    try:
        torch.set_num_threads(other)
        again = run(tmp_path / "threads")
    finally:
        torch.set_num_threads(threads)
    ours = {(r["step"], r["layer"], r["quantity"]): float(r["value"])
            for r in finished.measurements()}
    theirs = {(r["step"], r["layer"], r["quantity"]): float(r["value"])
              for r in again.measurements()}
    assert ours.keys() == theirs.keys()
    assert max(abs(ours[k] - theirs[k]) for k in ours) <= THREAD_BOUND


def test_a_folder_from_before_the_interval_columns_reads_and_resumes(finished, tmp_path):
    """measurements.csv with the five columns of earlier versions: read back without bounds
    (two-valued verdicts), and appended to in its own format."""
    import shutil

    from infoflow.reporting import load_records
    from infoflow.storage.run_folder import append_rows

    old = RunFolder(shutil.copytree(finished.path, tmp_path / "old"))
    columns = ("step", "epoch", "layer", "quantity", "value")
    kept = [{k: r[k] for k in columns} for r in old.measurements()]
    old.file("measurements.csv").unlink()
    append_rows(old.file("measurements.csv"), columns, kept)
    records = load_records(old)
    assert not records.bounds and records.verdicts
    assert {r.status for v in records.verdicts for r in v.links} <= {"holds", "broken"}
    old.append_measurements([{**kept[0], "step": 999, "low": 0.1, "high": 0.2}])
    assert list(old.measurements()[-1]) == list(columns)
    assert old.measurements()[-1]["step"] == "999"
