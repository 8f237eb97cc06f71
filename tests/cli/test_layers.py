"""``infoflow layers`` and ``infoflow run --model resnet``: modules, chains, the report."""

from __future__ import annotations

from infoflow.cli import main


def test_layers_lists_modules_and_chains(capsys):
    assert main(["layers", "--model", "resnet", "--filters", "2", "2", "2", "--layers", "stem",
                 "layer2.0.conv2", "layer2.0.shortcut", "layer2.0", "pool"]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[2].split() == ["name", "type", "output", "calls", "parameters"]
    assert any(line.split()[:3] == ["layer2.0.conv2", "Conv2d", "(1,"] for line in lines)
    assert "  input → stem → layer2.0 → pool" in lines
    assert "  layer2.0.shortcut is parallel to layer2.0.conv2: no DPI between them" in lines


def test_layers_checks_its_flags_as_run_does_and_resnet_takes_any_number_of_stages(capsys):
    for flags, message in [(["--filters", "0"], "argument --filters: filters must be >= 1, got 0"),
                           (["--model", "foo"], "argument --model: model must be one of")]:
        assert main(["layers", *flags]) == 2
        assert message in capsys.readouterr().err
    assert main(["layers", "--model", "resnet", "--filters", "2", "2"]) == 0
    assert "  input → stem → layer1.0 → layer2.0 → pool" in capsys.readouterr().out


def test_layers_refuses_an_unknown_module(capsys):
    assert main(["layers", "--layers", "conv9"]) == 2
    assert "layers names 'conv9', which is not a module" in capsys.readouterr().err


def test_run_resnet_shows_its_chain(tmp_path, capsys):
    out = tmp_path / "resnet"
    assert main(["run", "--model", "resnet", "--out", str(out), "--epochs", "1",
                 "--batch-size", "512", "--probe-size", "32", "--measure-every", "4",
                 "--filters", "2", "2", "2", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "  input → stem → layer1.0 → layer2.0 → layer3.0 → pool" in err
    page = (out / "report.html").read_text()
    assert "checked on the model&#x27;s computation graph" in page or (
        "checked on the model's computation graph" in page)
    assert "input → stem → layer1.0 → layer2.0 → layer3.0 → pool" in page


def test_run_with_declared_chains_and_saturation_summary(tmp_path, capsys):
    out = tmp_path / "chains"
    assert main(["run", "--out", str(out), "--epochs", "1", "--batch-size", "512",
                 "--probe-size", "32", "--measure-every", "4", "--filters", "2", "2",
                 "--layers", "conv1", "conv2", "fc1", "--chains", "conv1 fc1", "conv2 conv1",
                 "--rule", "scott", "--conv-mode", "feature_maps", "--no-progress"]) == 0
    captured = capsys.readouterr()
    assert "  input → conv1 → fc1" in captured.err and "  input → conv2" in captured.err
    assert "  conv2 is computed from conv1, not the reverse: they are listed out of order: no DPI " \
           "between them" in captured.err
    assert "  input → conv1\n" not in captured.err  # a piece that is a prefix of a chain
    assert "saturated: conv1 at" in captured.out  # scott's narrow widths saturate the maps
