"""The filter-count study: the same model trained with several filter counts in one conv layer.

For each filter count and seed, one run (its own run folder, resumable) measures the chosen
layer's information plane and partial information decomposition at initialisation and after
training. The study then tabulates, per run, the final test accuracy, I(T;Y), the
redundancy–synergy trade-off, the weighted non-redundant information and the MMI redundancy and
synergy (docs/method.md §6) — the paper expects more filters to bring more redundancy.

Study folder::

    study.json     the study's configuration
    runs/c{count}-s{seed}/   one run folder each (see :mod:`infoflow.storage.run_folder`)
    results.csv    count, seed and the final quantities, one row per run
    plots/filter_study.png   drawn by :func:`infoflow.reporting.study_plots.write_study_plot`
"""

from __future__ import annotations

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor, as_completed
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from infoflow._threads import thread_budget
from infoflow.storage.run_folder import RunFolder, append_rows
from infoflow.training.config import RunConfig
from infoflow.training.trainer import Trainer

RESULT_FIELDS = ("count", "seed", "test_accuracy", "I(T;Y)", "RST", "RST/I", "WNI",
                 "MMI redundancy", "MMI synergy")


def _default_base() -> RunConfig:
    return RunConfig(conv_mode="feature_maps", measure_every=10**9)


@dataclass
class FilterStudyConfig:
    """Which layer, which counts, which seeds; ``base`` holds every other run option.

    The default base measures only at initialisation and after training, in the paper's
    feature-map mode (each map its own width), so that each map's own information is meaningful.
    """

    layer: str = "conv1"
    counts: Sequence[int] = (2, 4, 6, 8, 16, 32)
    seeds: Sequence[int] = (0, 1, 2, 3, 4)
    base: RunConfig = field(default_factory=_default_base)

    def __post_init__(self) -> None:
        if self.base.model not in ("lenet5", "vgg"):
            raise ValueError(f"the filter study needs a CNN (lenet5 or vgg), got {self.base.model!r}")
        layers = ("conv1", "conv2") if self.base.model == "lenet5" else tuple(
            f"conv{i + 1}" for i in range(len(self.base.filters or (16, 32, 64)))
        )
        if self.layer not in layers:
            raise ValueError(f"layer must be one of {layers} for {self.base.model}, got {self.layer!r}")
        if not self.counts or any(isinstance(c, bool) or int(c) < 2 for c in self.counts):
            raise ValueError(f"counts must be filter counts >= 2, got {list(self.counts)}")
        if not self.seeds:
            raise ValueError("seeds must name at least one seed")

    def filters(self, count: int) -> list[int]:
        """The model's filter list with ``count`` in the studied layer."""
        defaults = [6, 16] if self.base.model == "lenet5" else [16, 32, 64]
        filters = list(self.base.filters or defaults)
        filters[int(self.layer.removeprefix("conv")) - 1] = int(count)
        return filters

    def run_config(self, count: int, seed: int) -> RunConfig:
        values = self.base.to_dict()
        values.update(filters=self.filters(count), seed=int(seed), pid_layers=[self.layer])
        return RunConfig.from_dict(values)

    def to_dict(self) -> dict[str, Any]:
        return {"layer": self.layer, "counts": [int(c) for c in self.counts],
                "seeds": [int(s) for s in self.seeds], "base": self.base.to_dict()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> FilterStudyConfig:
        return cls(layer=values["layer"], counts=values["counts"], seeds=values["seeds"],
                   base=RunConfig.from_dict(values["base"]))


def _finished(folder: RunFolder, epochs: int) -> bool:
    """Trained to the end and measured at the last step (a kill can fall between the two)."""
    state = folder.load_state()
    return (state is not None and state["epoch"] >= epochs
            and folder.last_measured_step() == state["step"])


def _final(folder: RunFolder, layer: str) -> dict[str, float]:
    rows = folder.measurements()
    last = max(int(r["step"]) for r in rows)
    values = {r["quantity"]: float(r["value"]) for r in rows
              if int(r["step"]) == last and r["layer"] == layer}
    values["test_accuracy"] = float(folder.training()[-1]["test_accuracy"])
    return values


def run_filter_study(
    config: FilterStudyConfig | None,
    path: str | Path,
    *,
    resume: bool = False,
    on_run: Callable[[int, int], None] | None = None,
    jobs: int = 1,
) -> Path:
    """Train every (count, seed) run not yet finished, then write results.csv.

    With ``resume=True`` the configuration is read from ``path/study.json``; finished runs are
    kept, an interrupted one continues from its saved state. ``on_run(count, seed)`` is called
    after each run (progress). ``jobs`` > 1 trains that many runs at once, each in its own
    process (spawned: no state shared with the caller); each run is seeded by itself and trains
    on :data:`STUDY_RUN_THREADS` threads either way, so the records are the serial study's.
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be a positive integer, got {jobs!r}")
    path = Path(path)
    study_file = path / "study.json"
    if resume:
        if not study_file.exists():
            raise FileNotFoundError(f"{path} is not a study folder: it has no study.json")
        config = FilterStudyConfig.from_dict(json.loads(study_file.read_text()))
    elif config is None:
        raise ValueError("config is required for a new study")
    elif study_file.exists():
        raise FileExistsError(f"{path} already holds a study; resume it with --resume {path}")
    else:
        path.mkdir(parents=True, exist_ok=True)
        study_file.write_text(json.dumps(config.to_dict(), indent=2))
    runs = [(count, seed) for count in config.counts for seed in config.seeds]
    results = {}
    if jobs == 1:
        for count, seed in runs:
            results[count, seed] = _study_run(config, path, count, seed)
            if on_run is not None:
                on_run(count, seed)
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            pending = {pool.submit(_study_run, config, path, count, seed): (count, seed)
                       for count, seed in runs}
            for done in as_completed(pending):
                results[pending[done]] = done.result()
                if on_run is not None:
                    on_run(*pending[done])
    results_file = path / "results.csv"
    results_file.unlink(missing_ok=True)
    append_rows(results_file, RESULT_FIELDS,
                [{k: results[run][k] for k in RESULT_FIELDS} for run in runs])
    return path


#: Threads of each study run, alone (``jobs=1``) or side by side: always the same, so that
#: ``jobs=N`` gives the serial study's records byte for byte. A run's thread count changes its
#: float32 training sums; left to the fair share (two threads alone, one beside another run) the
#: records of a default study drifted apart by up to 0.0024 bits and 0.0037 in test accuracy.
#: One is enough: a study's runs are small, and ``jobs`` is where its parallelism pays.
STUDY_RUN_THREADS = 1


def _study_run(config: FilterStudyConfig, path: Path, count: int, seed: int) -> dict[str, Any]:
    """Train one run of the study unless finished (resuming it if interrupted), on
    :data:`STUDY_RUN_THREADS` threads; its results."""
    folder = RunFolder(path / "runs" / f"c{count}-s{seed}")
    if not _finished(folder, config.base.epochs):
        partial = folder.file("state.pt").exists()
        trainer = Trainer(None if partial else config.run_config(count, seed), folder.path,
                          resume=partial)
        with thread_budget(STUDY_RUN_THREADS):
            trainer.run(sensitivity=False)
    return {"count": count, "seed": seed, **_final(folder, config.layer)}

