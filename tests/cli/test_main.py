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


def test_bad_alpha_is_a_clear_error(capsys):
    assert main(["demo", "--n", "50", "--alpha", "-1"]) == 2
    assert "alpha must be > 0, got -1.0" in capsys.readouterr().err


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert "infoflow" in capsys.readouterr().out
