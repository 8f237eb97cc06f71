"""``infoflow run`` and ``infoflow report``: adapters over Trainer and write_report."""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import fields
from pathlib import Path
from typing import Any

from infoflow.cli.options import add_option
from infoflow.training.config import RUN_OPTIONS, RunConfig


def add_run_parser(commands: argparse._SubParsersAction) -> None:
    run = commands.add_parser(
        "run", help="train a model while measuring its information flow, then write a report",
        description="Train a model while measuring I(X;T), I(T;Y) and H(T) of its layers. "
        "With no options: LeNet-5 on scikit-learn's digits, measured every 5 steps.",
    )
    run.add_argument("--config", type=Path, help="JSON or TOML file of options (flags override)")
    run.add_argument("--out", type=Path, help="run folder (default runs/<time>)")
    run.add_argument("--resume", type=Path, metavar="RUN",
                     help="continue the run in folder RUN from its last saved state")
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    run.add_argument("--tensorboard", type=Path, metavar="DIR",
                     help="also write every quantity, the DPI verdicts and the information plane "
                          "to TensorBoard logs in DIR (needs infoflow[tensorboard])")
    for option in RUN_OPTIONS.values():
        add_option(run, option)
    run.set_defaults(handler=run_command)

    report = commands.add_parser("report", help="redraw the plots and report of a run folder")
    report.add_argument("run", type=Path, metavar="RUN", help="the run folder")
    report.set_defaults(handler=report_command)


def _given(args: argparse.Namespace) -> dict:
    """The options the user gave: from --config, then the flags that were set."""
    values = RunConfig.from_file(args.config).to_dict() if args.config else {}
    for f in fields(RunConfig):
        given = getattr(args, f.name)
        if given is not None:
            values[f.name] = given
    return values


def _config(args: argparse.Namespace) -> RunConfig:
    return RunConfig.from_dict(_given(args))


def _check_resume_options(args: argparse.Namespace) -> None:
    """``--resume`` continues a run with its saved options: refuse options that contradict them."""
    from infoflow.storage import RunFolder

    given = _given(args)
    if not given:
        return
    saved = RunConfig.from_dict(RunFolder(args.resume).config()).to_dict()
    merged = RunConfig.from_dict({**saved, **given}).to_dict()  # given values, canonical
    differences = [f"{name} (saved {saved[name]!r}, given {merged[name]!r})"
                   for name in given if merged[name] != saved[name]]
    if differences:
        raise ValueError(
            f"--resume continues {args.resume} with its saved options, and these differ: "
            f"{', '.join(differences)}. Drop them to resume, or start a new run with --out"
        )


def run_command(args: argparse.Namespace) -> int:
    log = None
    if args.tensorboard:
        from infoflow.integrations.tensorboard import TensorBoardLog

        try:
            log = TensorBoardLog(args.tensorboard)
        except ImportError as error:
            print(f"infoflow: error: {error}", file=sys.stderr)
            return 2
    try:
        return _train_and_report(args, log)
    finally:
        if log is not None:
            log.close()


def _train_and_report(args: argparse.Namespace, log: Any) -> int:
    """Train (or resume), then write the report; every checkpoint also goes to ``log``."""
    from tqdm import tqdm

    from infoflow import thread_budget
    from infoflow.monitor import SaturationWarning
    from infoflow.reporting import write_report
    from infoflow.training import Trainer

    if args.resume:
        _check_resume_options(args)
        trainer = Trainer(None, args.resume, resume=True)
        if trainer.status == "finished":
            print(f"{args.resume} is a finished run; nothing to resume (its report: "
                  f"{args.resume / 'report.html'})", file=sys.stderr)
            return 0
    else:
        out = args.out or Path("runs") / time.strftime("%Y%m%d-%H%M%S")
        trainer = Trainer(_config(args), out)
    config = trainer.config
    print(f"infoflow run: {config.model} on {config.data}, {config.epochs} epochs, probe "
          f"n = {config.probe_size}, rule {config.rule}, alpha {config.alpha}, "
          f"conv_mode {config.conv_mode}, spectra {trainer.monitor.method.name} "
          f"({config.dtype}) -> {trainer.folder.path}", file=sys.stderr)
    chains = trainer.monitor.chains
    print(f"DPI chains ({'checked' if chains.checked else 'assumed'}):", file=sys.stderr)
    for line in chains.describe():
        print(f"  {line}", file=sys.stderr)
    bar = tqdm(total=trainer.total_steps, initial=trainer.state["step"], unit="step",
               disable=args.no_progress, file=sys.stderr, dynamic_ncols=True)
    last = trainer.monitor.layers[-1]

    def show(checkpoint) -> None:
        v = checkpoint.values
        bar.set_postfix_str(
            f"{last}: I(X;T)={v[(last, 'I(X;T)')]:.2f} I(T;Y)={v[(last, 'I(T;Y)')]:.2f} "
            f"DPI1 {checkpoint.verdict.status('DPI 1')} DPI2 {checkpoint.verdict.status('DPI 2')}"
        )
        if log is not None:
            log.log_checkpoint(checkpoint)

    trainer.on_checkpoint = show
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", SaturationWarning)
        try:
            with thread_budget():  # fair beside other runs: one budget for torch and BLAS
                trainer.run(progress=bar.update)
        except KeyboardInterrupt:
            bar.close()
            print(f"interrupted at step {trainer.state['step']}; every record measured so far is "
                  f"kept. Continue with: infoflow run --resume {trainer.folder.path}",
                  file=sys.stderr)
            return 130
        finally:
            bar.close()
    for warning in caught:
        if issubclass(warning.category, SaturationWarning):
            print(f"warning: {warning.message}", file=sys.stderr)
        else:
            warnings.showwarning(warning.message, warning.category, warning.filename,
                                 warning.lineno)
    try:
        report = write_report(trainer.folder.path)
    except KeyboardInterrupt:
        print(f"interrupted while drawing the report; every record is kept. Draw it with: "
              f"infoflow report {trainer.folder.path}", file=sys.stderr)
        return 130
    if log is not None:
        log.log_information_plane(trainer.folder.path)
        print(f"TensorBoard logs: {args.tensorboard}")
    _summary(trainer.folder.path)
    print(f"report: {report}")
    return 0


def _summary(path: Path) -> None:
    from infoflow.reporting import load_records
    from infoflow.storage import RunFolder

    from infoflow.monitor.dpi import status_shares

    records = load_records(RunFolder(path))
    final = records.verdicts[-1]
    timing = records.timing
    if records.epochs:
        print(f"final test accuracy {records.epochs[-1]['test_accuracy']:.3f}")
    print(f"DPI verdicts over {len(records.steps)} checkpoints"
          + (", with confidence intervals" if records.bounds else " (no intervals: holds or broken)"))
    for inequality, shares in status_shares(records.verdicts).items():
        print(f"  {inequality}: " + ", ".join(f"{status} {100 * share:.0f}%"
                                              for status, share in shares.items())
              + f"; final: {final.status(inequality)}")
    for row in records.saturation():
        print(f"saturated: {row['layer']} at {row['checkpoints']} checkpoints (steps "
              f"{row['first step']}-{row['last step']}; at the end: {row['at the end']})")
    print(f"time: training {timing.get('train_seconds', 0):.1f} s, measuring "
          f"{timing.get('measure_seconds', 0):.1f} s")


def report_command(args: argparse.Namespace) -> int:
    from infoflow.reporting import write_report

    report = write_report(args.run)
    _summary(args.run)
    print(f"report: {report}")
    return 0
