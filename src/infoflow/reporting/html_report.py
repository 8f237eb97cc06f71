"""The run's single-file HTML report: settings, plots, DPI verdicts, sensitivity, timing."""

from __future__ import annotations

import base64
import html
import io
import math
import os
from pathlib import Path
from typing import Any

from infoflow.monitor import DPI_TOLERANCE
from infoflow.monitor.dpi import BROKEN, HOLDS, INEQUALITIES, WITHIN_NOISE, status_shares
from infoflow.monitor.information_plane import PID_QUANTITIES
from infoflow.reporting.plots import FIGURES
from infoflow.reporting.records import RunRecords, as_records
from infoflow.storage.run_folder import RunFolder


def _table(rows: list[dict], columns: list[str]) -> str:
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(r.get(c, '')))}</td>" for c in columns) + "</tr>"
        for r in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    try:
        number = float(str(value))
        return f"{number:.3g}" if "." in str(value) else str(value)
    except ValueError:
        return str(value)


def _interval(low: float, high: float) -> str:
    return "" if math.isnan(low) else f"[{low:.4g}, {high:.4g}]"


def _uncertainty_note(records: RunRecords) -> str:
    if not records.bounds:
        return ("Measured without confidence intervals (<code>--uncertainty</code> adds them): a "
                "link holds or is broken by its point estimates alone, so a small excess may be "
                "noise.")
    return ("Every value carries a confidence interval from a jackknife over the probe (bands and "
            "error bars in the plots above; the interval is for the estimator's large-sample "
            "value, bias-corrected, so it need not contain the plain estimate — docs/method.md "
            "§8). A link <span class='bad'>breaks</span> when the interval of its excess lies "
            "above the tolerance, is <span class='noise'>within noise</span> when the later value "
            "exceeds the earlier but the interval reaches the tolerance, and "
            "<span class='ok'>holds</span> otherwise.")


def _shares(records: RunRecords) -> str:
    return " ".join(
        f"{inequality}: " + ", ".join(f"{status} at {100 * share:.0f}%"
                                      for status, share in shares.items())
        + " of checkpoints."
        for inequality, shares in status_shares(records.verdicts).items()
    )


def _final(verdict) -> str:
    style = {HOLDS: "ok", WITHIN_NOISE: "noise", BROKEN: "bad"}
    return ", ".join(
        f'<span class="{style[verdict.status(inequality)]}">{inequality} '
        f"{verdict.status(inequality)}</span>" for inequality in INEQUALITIES
    )


def _pid_section(records: RunRecords, last: int, image: str) -> str:
    if not records.pid_layers:
        return ""
    quantities = ["I(T;Y)", *PID_QUANTITIES]
    rows = [{"layer": layer, **{q: records.values_at(last)[(layer, q)] for q in quantities}}
            for layer in records.pid_layers]
    return f"""<h2>Redundancy and synergy among feature maps</h2>
<p>RST = I(T;Y) − Σ<sub>c</sub> I(T<sup>c</sup>;Y) (&gt; 0: synergy dominates, &lt; 0: redundancy
dominates), RST/I the same per bit of layer information; WNI = Σ<sub>c</sub> [I(T;Y) −
I(T<sup>−c</sup>;Y)] / I(T;Y), the share lost by dropping single maps; MMI redundancy =
min<sub>c</sub> I(T<sup>c</sup>;Y), MMI synergy = I(T;Y) − max<sub>c</sub> I(T<sup>c</sup>;Y).
At the final checkpoint:</p>{_table(rows, ["layer", *quantities])}{image}"""


def _saturation(records: RunRecords) -> str:
    """Which layers saturated (H(T) near 0 or log2 n) and when (with a known probe size)."""
    if "probe_size" not in records.config:
        return ""
    n = int(records.config["probe_size"])
    rows = records.saturation()
    if not rows:
        return (f"<p>No layer saturated: H(T) stayed more than 5 % of log<sub>2</sub> n = "
                f"{math.log2(n):.3f} bits away from 0 and from log<sub>2</sub> n at every "
                "checkpoint.</p>")
    return (f"<p><b>Saturated layers</b> (H(T) within 5 % of log<sub>2</sub> n = "
            f"{math.log2(n):.3f} bits from 0 or from log<sub>2</sub> n: the kernel width makes "
            "their entropy, and every quantity of theirs, uninformative):</p>"
            + _table(rows, ["layer", "first step", "last step", "checkpoints", "at the end"]))


def _chains(records: RunRecords) -> str:
    """The chains judged, and the pairs of layers that are no Markov link."""
    chains = records.chains
    how = ("checked on the model's computation graph" if chains.checked
           else "assumed, not checked")
    lines = "".join(f"<li>{html.escape(line)}</li>" for line in chains.describe())
    return f"Chains ({how}):</p><ul>{lines}</ul>"


def draw_plots(records: RunRecords, folder: RunFolder) -> dict[str, bytes]:
    """Save every figure as PNG under plots/ and return the bytes."""
    folder.plots.mkdir(parents=True, exist_ok=True)
    images = {}
    for name, make in FIGURES.items():
        if ((name == "training" and not records.epochs) or (name == "pid" and not records.pid_layers)
                or (name == "width_curves" and not records.width_curves)):
            continue
        fig = make(records)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
        images[name] = buffer.getvalue()
        (folder.plots / f"{name}.png").write_bytes(images[name])
    return images


def _about_probe(config: dict) -> str:
    if "probe_size" not in config:
        return ""
    n = int(config["probe_size"])
    return f"; probe n = {n} (log<sub>2</sub> n = {math.log2(n):.3f} bits)"


def write_report(run: Any, *, out: str | os.PathLike | None = None) -> Path:
    """Draw every plot and the HTML report of a run; returns the report's path.

    Parameters
    ----------
    run : run folder, or records in any form :func:`~infoflow.reporting.records.as_records`
        accepts (``monitor.records()``, ``monitor.to_dataframe()``, RunRecords)
    out : folder, optional
        Where plots/ and report.html go: default the run folder itself; required for records.
    """
    is_folder = isinstance(run, (str, os.PathLike, RunFolder))
    if out is None and not is_folder:
        raise ValueError("out must name the folder for plots/ and report.html when run holds "
                         "records rather than a run folder")
    records = as_records(run)
    folder = RunFolder(out) if out is not None else (
        run if isinstance(run, RunFolder) else RunFolder(run))
    folder.path.mkdir(parents=True, exist_ok=True)
    images = draw_plots(records, folder)
    final = records.verdicts[-1]
    config = records.config
    timing = records.timing
    total = timing.get("train_seconds", 0) + timing.get("measure_seconds", 0)
    breaks = [{"inequality": r.inequality, "earlier": r.earlier, "later": r.later,
               "excess (bits)": r.excess, "interval": _interval(r.low, r.high),
               "status": r.status}
              for r in final.links if r.status in (BROKEN, WITHIN_NOISE)]
    img = lambda name: (  # noqa: E731
        f'<img src="data:image/png;base64,{base64.b64encode(images[name]).decode()}" '
        f'alt="{name}">' if name in images else ""
    )
    last = len(records.steps) - 1
    layer_rows = [
        {"layer": layer, **{q: records.values_at(last)[(layer, q)]
                            for q in ("I(X;T)", "I(T;Y)", "H(T)")}}
        for layer in records.layers
    ]
    accuracy = f"{records.epochs[-1]['test_accuracy']:.3f}" if records.epochs else "n/a"
    page = f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>infoflow run</title>
<style>body{{font-family:sans-serif;max-width:1100px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;margin:0.5em 0}}td,th{{border:1px solid #ccc;padding:3px 8px;
text-align:right}}img{{max-width:100%}}.ok{{color:#080}}.bad{{color:#b00}}
.noise{{color:#a70}}</style></head><body>
<h1>infoflow run: {html.escape(str(config.get('model', 'a model')))} on
{html.escape(str(config.get('data', 'its data')))}</h1>
<p>{len(records.steps)} checkpoints up to step {int(records.steps[-1])}{_about_probe(config)};
final test accuracy {accuracy}.
All values in bits, α = {config.get('alpha', 'as measured')}, width rule
<b>{html.escape(str(config.get('rule', 'as measured')))}</b>, layer kernel
<b>{html.escape(str(config.get('conv_mode', 'as measured')))}</b>, spectra
<b>{html.escape(str(records.resolved.get('method', 'exact')))}</b>
({html.escape(str(config.get('dtype', 'float64')))}).</p>
<h2>Information plane</h2>{img('information_plane')}
<h2>Mutual information over training</h2>{img('mutual_information')}
<h2>Final checkpoint</h2>{_table(layer_rows, ['layer', 'I(X;T)', 'I(T;Y)', 'H(T)'])}
{_saturation(records)}
<p>H(X) = {records.values_at(last)[('input', 'H(X)')]:.4g},
H(Y) = {records.values_at(last)[('input', 'H(Y)')]:.4g},
I(X;Y) = {records.values_at(last)[('input', 'I(X;Y)')]:.4g}.</p>
{_pid_section(records, last, img('pid'))}
<h2>Data-processing inequalities</h2>
<p>Along a Markov chain Y → X → T<sub>1</sub> → … → T<sub>K</sub>, in which each layer depends
on the input only through the previous one: DPI 1: I(X;T<sub>1</sub>) ≥ … ≥ I(X;T<sub>K</sub>);
DPI 2: I(X;Y) ≥ I(T<sub>1</sub>;Y) ≥ … ≥ I(T<sub>K</sub>;Y). A link breaks when the later value
exceeds the earlier by more than {config.get('dpi_tolerance', DPI_TOLERANCE)} bits. {_chains(records)}</p>
<p>{_uncertainty_note(records)}</p>
<p>{_shares(records)} At the final checkpoint: {_final(final)}.
</p>{_table(breaks, ['inequality', 'earlier', 'later', 'excess (bits)', 'interval', 'status'])
     if breaks else ''}
{img('dpi')}
<h2>Sensitivity to the kernel width</h2>
<p>The same final activations measured under every width rule and both layer-kernel modes
(whether each DPI holds, and the share of its links that hold). Verdicts that change with the
rule are a property of the estimator's width, not of the network.</p>
{_table(records.sensitivity, ['rule', 'conv_mode', 'dpi1', 'dpi2', 'dpi1_links_held',
                              'dpi2_links_held']) if records.sensitivity else '<p>not computed</p>'}
<h3>Width curves</h3>
<p>Under each rule, every width — of X and of each layer — multiplied by a common factor from 1/4 to
4 (1 is the rule's own width): I(X;Y) and each layer's I(T;Y), and below, the share of each
inequality's links that hold (by point estimates). Where the colours change, a verdict flips with
the width alone.</p>
{img('width_curves') or '<p>not computed</p>'}
<h2>Training</h2>{img('training')}
<h2>Time</h2><p>training {timing.get('train_seconds', 0):.1f} s, measuring
{timing.get('measure_seconds', 0):.1f} s
({100 * timing.get('measure_seconds', 0) / total if total else 0:.0f}% of the run).</p>
<h2>Settings</h2>{_table([{'option': k, 'value': v} for k, v in records.config.items()],
                          ['option', 'value'])}
</body></html>"""
    report = folder.file("report.html")
    report.write_text(page)
    return report
