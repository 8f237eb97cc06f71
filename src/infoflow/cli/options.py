"""Command-line flags made from the option table: one flag per option, checked as it is read.

A flag's value is parsed and checked by its :class:`~infoflow.options.Option`, so a mistake
is one line naming the flag (``argument --lr: lr must be finite and > 0, got inf``) and the
exit status is 2, as for every argparse error. The help shows the table's default.
"""

from __future__ import annotations

import argparse
from typing import Any

from infoflow.options import Option


def option_type(option: Option):
    """The argparse ``type`` for one word of ``option``."""

    def parse(text: str) -> Any:
        try:
            return option.parse(text)
        except (TypeError, ValueError) as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = option.name
    return parse


def add_option(parser: argparse.ArgumentParser, option: Option, *, default: Any = None,
               help: str | None = None) -> None:
    """Add ``--option-name`` to ``parser``; unset flags stay None (the table's default then
    applies where the options are gathered)."""
    flag = "--" + option.name.replace("_", "-")
    shown = "" if option.default is None else f" (default {option.default})"
    text = (help or option.help) + shown
    if option.kind == "flag":
        parser.add_argument(flag, action="store_true", default=default, help=text)
    else:
        parser.add_argument(flag, type=option_type(option), nargs="+" if option.many else None,
                            default=default, metavar=option.name.upper(), help=text)
