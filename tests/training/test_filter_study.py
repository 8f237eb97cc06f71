"""The filter-count study: records per run, the identities they obey, resume, validation."""

from __future__ import annotations

import csv
import warnings

import pytest

from infoflow.reporting.study_plots import write_study_plot
from infoflow.storage import RunFolder
from infoflow.training import RunConfig
from infoflow.training.filter_study import FilterStudyConfig, run_filter_study

BASE = dict(epochs=1, batch_size=256, probe_size=40, conv_mode="feature_maps",
            measure_every=10**9)


def study(path, **kwargs):
    config = FilterStudyConfig(counts=(2, 3), seeds=(0,), base=RunConfig(**BASE), **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_filter_study(config, path)
    write_study_plot(path)
    return path


def results(path):
    with open(path / "results.csv", newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return study(tmp_path_factory.mktemp("study") / "s")


def test_one_run_per_count_and_seed_with_its_results(finished):
    rows = results(finished)
    assert [(r["count"], r["seed"]) for r in rows] == [("2", "0"), ("3", "0")]
    assert (finished / "plots" / "filter_study.png").stat().st_size > 1000
    for row in rows:
        folder = RunFolder(finished / "runs" / f"c{row['count']}-s0")
        assert folder.config()["filters"][0] == int(row["count"])
        last = {r["quantity"]: float(r["value"]) for r in folder.measurements()
                if r["layer"] == "conv1" and int(r["step"]) > 0}
        per_map = [last[f"I(T{c};Y)"] for c in range(int(row["count"]))]
        i = float(row["I(T;Y)"])
        assert float(row["RST"]) == pytest.approx(i - sum(per_map), abs=1e-9)
        assert float(row["MMI redundancy"]) == pytest.approx(min(per_map), abs=1e-9)
        assert float(row["MMI synergy"]) == pytest.approx(i - max(per_map), abs=1e-9)


def test_resume_keeps_finished_runs_and_gives_the_same_results(finished, tmp_path):
    path = tmp_path / "cut"
    config = FilterStudyConfig(counts=(2, 3), seeds=(0,), base=RunConfig(**BASE))

    def stop(count, seed):
        raise KeyboardInterrupt

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(KeyboardInterrupt):
            run_filter_study(config, path, on_run=stop)
        assert (path / "runs" / "c2-s0" / "state.pt").exists()
        run_filter_study(None, path, resume=True)
    assert results(path) == results(finished)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"base": RunConfig(model="mlp")}, "needs a CNN"),
     ({"layer": "conv3"}, "layer must be one of"),
     ({"counts": (1, 2)}, "counts must be filter counts >= 2"),
     ({"seeds": ()}, "at least one seed")],
)
def test_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        FilterStudyConfig(**kwargs)


def test_new_study_refuses_an_existing_folder(finished):
    with pytest.raises(FileExistsError, match="--resume"):
        study(finished)


def test_parallel_runs_give_the_serial_records(finished, tmp_path):
    config = FilterStudyConfig(counts=(2, 3), seeds=(0,), base=RunConfig(**BASE))
    seen = []
    run_filter_study(config, tmp_path / "parallel", jobs=2,
                     on_run=lambda count, seed: seen.append((count, seed)))
    assert sorted(seen) == [(2, 0), (3, 0)]
    assert (tmp_path / "parallel" / "results.csv").read_text() == \
        (finished / "results.csv").read_text()
    for run in ("c2-s0", "c3-s0"):
        for name in ("measurements.csv", "training.csv"):
            assert (tmp_path / "parallel" / "runs" / run / name).read_text() == \
                (finished / "runs" / run / name).read_text(), (run, name)
    with pytest.raises(ValueError, match="jobs must be a positive integer, got 0"):
        run_filter_study(config, tmp_path / "other", jobs=0)


def test_study_runs_train_on_one_thread_alone_or_side_by_side(tmp_path, monkeypatch):
    """Whatever the CPUs (4 here) and OMP_NUM_THREADS (unset here), a study run trains on
    STUDY_RUN_THREADS threads, so that --jobs N gives the serial records byte for byte."""
    import torch

    from infoflow import _threads
    from infoflow.training import filter_study
    from infoflow.training.trainer import Trainer

    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(_threads, "available_cpus", lambda: 4)
    seen = []
    step = Trainer._train_batch
    monkeypatch.setattr(Trainer, "_train_batch",
                        lambda self, idx: seen.append(torch.get_num_threads()) or step(self, idx))
    config = FilterStudyConfig(counts=(2,), seeds=(0,), base=RunConfig(**BASE))
    run_filter_study(config, tmp_path / "study")
    assert seen and set(seen) == {filter_study.STUDY_RUN_THREADS} == {1}
