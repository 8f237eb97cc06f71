"""``infoflow study filters``: an adapter over run_filter_study."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from infoflow.cli.options import add_option, option_type
from infoflow.options import Option
from infoflow.training.config import RUN_OPTIONS

_COUNT = Option("counts", None, "integer", low=2, help="filter counts")
_SEED = RUN_OPTIONS["seed"]


def add_study_parser(commands: argparse._SubParsersAction) -> None:
    study = commands.add_parser("study", help="multi-run studies")
    kinds = study.add_subparsers(dest="study", required=True)
    filters = kinds.add_parser(
        "filters",
        help="train with several filter counts in one conv layer; plot accuracy, I(T;Y), "
             "redundancy and synergy against the count",
        description="The filter-count study: 6 filter counts x 5 seeds = 30 runs by default.",
    )
    filters.add_argument("--layer", default=None, help="conv layer whose filters vary (conv1)")
    filters.add_argument("--counts", type=option_type(_COUNT), nargs="+", default=None,
                         help="filter counts (default 2 4 6 8 16 32)")
    filters.add_argument("--seeds", type=option_type(_SEED), nargs="+", default=None,
                         help="seeds, one run each per count (default 0 1 2 3 4)")
    for name in ("data", "data_dir", "model", "epochs", "probe_size", "rule", "alpha"):
        add_option(filters, RUN_OPTIONS[name])
    add_option(filters, RUN_OPTIONS["conv_mode"],
               help="the study measures each map with its own width (feature_maps) unless "
                    "told tensor")
    filters.add_argument("--out", type=Path, default=None, help="study folder (default studies/filters)")
    filters.add_argument("--resume", type=Path, metavar="STUDY", help="continue a study folder")
    filters.add_argument("--jobs", type=int, default=1, metavar="N",
                         help="train N runs at once, each in its own process on one thread "
                              "(default 1); the records are the same as with one")
    filters.add_argument("--no-progress", action="store_true")
    filters.set_defaults(handler=filters_command)


def filters_command(args: argparse.Namespace) -> int:
    import warnings

    from tqdm import tqdm

    from infoflow.training import RunConfig
    from infoflow.training.filter_study import FilterStudyConfig, run_filter_study

    config = None
    if not args.resume:
        base = {"conv_mode": "feature_maps", "measure_every": 10**9}
        for name in ("data", "data_dir", "model", "epochs", "probe_size", "rule", "alpha",
                     "conv_mode"):
            if getattr(args, name) is not None:
                base[name] = getattr(args, name)
        options = {k: v for k, v in (("layer", args.layer), ("counts", args.counts),
                                     ("seeds", args.seeds)) if v is not None}
        config = FilterStudyConfig(base=RunConfig.from_dict(base), **options)
        total = len(config.counts) * len(config.seeds)
    else:
        import json

        saved = json.loads((args.resume / "study.json").read_text()) if (
            args.resume / "study.json").exists() else {"counts": [], "seeds": []}
        total = len(saved["counts"]) * len(saved["seeds"])
    path = args.resume or args.out or Path("studies") / "filters"
    bar = tqdm(total=total, unit="run", disable=args.no_progress, file=sys.stderr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            run_filter_study(config, path, resume=bool(args.resume), jobs=args.jobs,
                             on_run=lambda count, seed: (bar.set_postfix_str(
                                 f"filters={count} seed={seed}"), bar.update(1)))
        except KeyboardInterrupt:
            print(f"\ninterrupted; finished runs are kept. Continue with: infoflow study filters "
                  f"--resume {path}", file=sys.stderr)
            return 130
        finally:
            bar.close()
    from infoflow.reporting.study_plots import write_study_plot

    write_study_plot(path)
    _print_table(path)
    print(f"plot: {path / 'plots' / 'filter_study.png'}")
    return 0


def _print_table(path: Path) -> None:
    from infoflow.reporting.study_plots import PANELS, study_table

    table = study_table(path)
    counts = sorted(table["test_accuracy"])
    print(f"{'filters':>8}" + "".join(f"{q:>16}" for q, _ in PANELS))
    for c in counts:
        print(f"{c:>8}" + "".join(
            f"{table[q][c].mean():>10.3f} ±{table[q][c].std():<5.2f}" for q, _ in PANELS))
