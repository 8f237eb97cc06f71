"""DPI verdicts as per-link results over several chains, with non-links reported, not judged."""

from __future__ import annotations

import math

import pytest

from infoflow.monitor import Chains, Link, check_dpi
from infoflow.monitor.dpi import BROKEN, HOLDS, NO_DPI, WITHIN_NOISE, status_shares

#: A residual block: stem → (conv → conv2) ∥ shortcut → out; I(X;T) and I(T;Y) per layer.
VALUES = {
    ("input", "H(X)"): 9.0, ("input", "I(X;Y)"): 3.0,
    ("stem", "I(X;T)"): 6.0, ("stem", "I(T;Y)"): 2.5,
    ("conv2", "I(X;T)"): 5.0, ("conv2", "I(T;Y)"): 2.0,
    ("shortcut", "I(X;T)"): 5.5, ("shortcut", "I(T;Y)"): 2.4,
    ("out", "I(X;T)"): 5.8, ("out", "I(T;Y)"): 2.6,
}


def test_links_of_several_chains_share_their_prefix():
    chains = Chains([("stem", "conv2"), ("stem", "shortcut"), ("stem", "out")])
    assert [(link.earlier, link.later) for link in chains.links()] == [
        ("input", "stem"), ("stem", "conv2"), ("stem", "shortcut"), ("stem", "out")]
    assert chains.layers == ["stem", "conv2", "shortcut", "out"]
    assert chains.describe()[:2] == ["input → stem → conv2", "input → stem → shortcut"]


def test_each_markov_link_is_judged_and_non_links_only_reported():
    parallel = Link("conv2", "shortcut", markov=False, reason="shortcut is parallel to conv2")
    bypassed = Link("shortcut", "out", markov=False,
                    reason="out depends on the input also around shortcut")
    chains = Chains([("stem", "conv2"), ("stem", "shortcut"), ("stem", "out")],
                    non_links=(parallel, bypassed))
    verdict = check_dpi(VALUES, chains)
    by_key = {(r.inequality, r.earlier, r.later): r for r in verdict.links}
    # the first link of DPI 2 starts at X; DPI 1 has no (X, T1) link (I(X;X) = H(X) always wins)
    assert by_key[("DPI 2", "input", "stem")].status == HOLDS
    assert ("DPI 1", "input", "stem") not in by_key
    assert by_key[("DPI 1", "stem", "conv2")].status == HOLDS
    # stem → out: I(T;Y) grows 2.5 → 2.6 (broken); I(X;T) falls 6.0 → 5.8 (holds)
    broken = by_key[("DPI 2", "stem", "out")]
    assert broken.status == BROKEN and broken.excess == pytest.approx(0.1)
    assert verdict.dpi1 and not verdict.dpi2
    # conv2 → shortcut would break both (5.0 → 5.5, 2.0 → 2.4) but is no Markov link
    for inequality in ("DPI 1", "DPI 2"):
        result = by_key[(inequality, "conv2", "shortcut")]
        assert (result.status, result.markov) == (NO_DPI, False)
    assert verdict.breaks == (broken,)
    assert len(verdict.judged("DPI 2")) == 4 and len(verdict.judged("DPI 1")) == 3
    assert parallel.describe() == "shortcut is parallel to conv2: no DPI between them"


def test_a_plain_list_is_one_chain_in_that_order():
    verdict = check_dpi(VALUES, ["stem", "shortcut", "out"])
    assert [(r.inequality, r.earlier, r.later, r.status) for r in verdict.links] == [
        ("DPI 2", "input", "stem", HOLDS),
        ("DPI 1", "stem", "shortcut", HOLDS), ("DPI 2", "stem", "shortcut", HOLDS),
        ("DPI 1", "shortcut", "out", BROKEN), ("DPI 2", "shortcut", "out", BROKEN),
    ]
    assert not Chains.of(["stem", "out"]).checked


def test_chains_round_trip_through_json_form():
    chains = Chains([("a", "b"), ("a", "c")], (Link("b", "c", False, "c is parallel to b"),))
    assert Chains.from_dict(chains.to_dict()) == chains


@pytest.mark.parametrize("bad", [math.nan, -1.0])
def test_tolerance_must_be_a_non_negative_number(bad):
    with pytest.raises(ValueError, match="tolerance must be >= 0"):
        check_dpi(VALUES, ["stem"], tolerance=bad)


@pytest.mark.parametrize(
    ("chains", "error", "match"),
    [("stem", TypeError, "the string"), ([["a", "a"]], ValueError, "each layer once"),
     ([[]], ValueError, "non-empty"), (["a", ["b"]], TypeError, "sequence of layer names")],
)
def test_bad_chains(chains, error, match):
    with pytest.raises(error, match=match):
        Chains.of(chains)


def test_with_intervals_a_link_holds_breaks_significantly_or_is_within_noise():
    """stem → out: DPI 2 excess 0.1; shortcut → out: DPI 1 excess 0.3 (VALUES above)."""
    chain = ["stem", "shortcut", "out"]
    cases = {(0.05, 0.15): BROKEN, (-0.02, 0.22): WITHIN_NOISE, (1e-7, 0.2): WITHIN_NOISE}
    for interval, status in cases.items():
        verdict = check_dpi(VALUES, chain, excess_intervals={("DPI 1", "shortcut", "out"): interval})
        result = next(r for r in verdict.links if (r.inequality, r.later) == ("DPI 1", "out"))
        assert result.status == status and (result.low, result.high) == interval
        assert verdict.dpi1 == (status != BROKEN)
        assert verdict.status("DPI 1") == status
    # an interval above zero breaks a link whose point estimate holds (the bias-corrected
    # excess is what the interval is about)
    verdict = check_dpi(VALUES, chain, excess_intervals={("DPI 2", "input", "stem"): (0.01, 0.2)})
    assert verdict.links[0].status == BROKEN
    # a link whose point estimate holds and whose interval reaches zero holds
    verdict = check_dpi(VALUES, chain, excess_intervals={("DPI 2", "input", "stem"): (-0.9, 0.1)})
    assert verdict.links[0].status == HOLDS and verdict.status("DPI 2") == BROKEN  # shortcut → out
    # without an interval the link keeps its two-valued verdict and NaN bounds
    plain = check_dpi(VALUES, chain)
    assert all(math.isnan(r.low) for r in plain.links)
    assert {r.status for r in plain.links} == {HOLDS, BROKEN}


def test_status_shares_count_each_checkpoint_once():
    chain = ["stem", "shortcut", "out"]
    noisy = {("DPI 1", "shortcut", "out"): (-0.1, 0.7), ("DPI 2", "shortcut", "out"): (-1, 1)}
    verdicts = [check_dpi(VALUES, chain), check_dpi(VALUES, chain, excess_intervals=noisy),
                check_dpi(VALUES, ["stem", "conv2"])]
    shares = status_shares(verdicts)
    assert shares["DPI 1"] == pytest.approx({HOLDS: 1 / 3, WITHIN_NOISE: 1 / 3, BROKEN: 1 / 3})
    assert sum(shares["DPI 2"].values()) == pytest.approx(1)
