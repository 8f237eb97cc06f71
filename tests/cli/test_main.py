"""The command line: the demo runs end to end; bad options give a clear error and exit 2."""

from __future__ import annotations

import pytest

from infoflow.cli import main


def test_demo_prints_the_table(capsys):
    assert main(["demo", "--n", "120", "--alpha", "1.01"]) == 0
    out = capsys.readouterr().out
    assert "n = 120 images" in out
    for rule in ("silverman", "scott", "median", "knn", "alignment"):
        assert f"\n{rule}" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["demo", "--n", "50", "--alpha", "-1"], "argument --alpha: alpha must be > 0, got -1.0"),
    (["demo", "--n", "0"], "argument --n: n must be >= 2, got 0"),
    (["demo", "--n", "-5"], "argument --n: n must be >= 2, got -5"),
    (["demo", "--n", "1.5"], "argument --n: n must be an integer >= 2, got '1.5'"),
])
def test_bad_option_is_one_line_naming_it(capsys, argv, message):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_version(capsys):
    assert main(["--version"]) == 0
    assert "infoflow" in capsys.readouterr().out
