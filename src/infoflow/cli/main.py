"""``infoflow`` command-line entry point and its subcommands."""

from __future__ import annotations

import argparse
import math
import sys
from collections.abc import Sequence
from typing import NoReturn

from infoflow import __version__
from infoflow.cli.layers import add_layers_parser
from infoflow.cli.options import option_type
from infoflow.cli.run import add_run_parser
from infoflow.demo import SAMPLES
from infoflow.options import ALPHA
from infoflow.cli.study import add_study_parser


def _demo(args: argparse.Namespace) -> int:
    from infoflow.demo import digits_demo

    n, rows = digits_demo(alphas=args.alpha, n=args.n)
    print(f"infoflow {__version__} demo: scikit-learn digits, n = {n} images of 8x8 pixels, "
          "10 classes")
    print(f"log2 n = {math.log2(n):.3f} bits (the largest possible entropy)\n")
    header = f"{'rule':<10}{'sigma':>8}{'alpha':>7}{'S(X)':>9}{'S(Y)':>9}{'I(X;Y)':>9}" \
             f"{'TC(top,bottom)':>16}"
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r.rule:<10}{r.sigma:>8.3f}{r.alpha:>7.2f}{r.entropy_x:>9.3f}{r.entropy_y:>9.3f}"
              f"{r.mutual_information_xy:>9.3f}{r.total_correlation_halves:>16.3f}")
    print("\nAll values in bits. S(Y) is the Rényi entropy of the class proportions "
          "(close to log2 10 = 3.322).\nThe width rule changes every value: infoflow never "
          "picks one silently (docs/estimators.md).")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse, with a mistake told in one line (its subcommands' parsers are of this class
    too): the error, and where the options are listed, instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="infoflow",
        description="Information flow in neural networks with the matrix-based Rényi α-entropy.",
    )
    parser.add_argument("--version", action="version", version=f"infoflow {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo", help="entropies and MI of the digits' pixels and labels for every width rule"
    )
    demo.add_argument("--alpha", type=option_type(ALPHA), nargs="+", default=[1.01, 2.0],
                      help="Rényi orders (default: 1.01 2)")
    demo.add_argument("--n", type=option_type(SAMPLES), default=None, help=SAMPLES.help)
    demo.set_defaults(handler=_demo)
    add_run_parser(commands)
    add_study_parser(commands)
    add_layers_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as stop:  # argparse has printed the usage line and the error, or --help
        return int(stop.code or 0)
    try:
        return args.handler(args)
    except KeyboardInterrupt:
        print(f"infoflow {args.command}: interrupted", file=sys.stderr)
        return 130
    except (ValueError, TypeError, MemoryError) as error:  # MemoryBudgetError among them
        print(f"infoflow {args.command}: error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a missing, unreadable or read-only file or folder
        print(f"infoflow {args.command}: error: {_os_message(error)}", file=sys.stderr)
        return 2


def _os_message(error: OSError) -> str:
    if error.filename is None or error.strerror is None:
        return str(error)
    hint = " (choose a writable folder)" if isinstance(error, PermissionError) or \
        error.errno == 30 else ""
    return f"{error.filename}: {error.strerror}{hint}"


if __name__ == "__main__":
    raise SystemExit(main())
