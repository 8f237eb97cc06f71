"""A small real demo on the digits: entropies of the pixels and labels, and their MI.

For every width rule and a few orders α it reports S(X), S(Y), I(X;Y), and the total
correlation between the top and bottom halves of the image — all from Gram matrices built
once per rule. Used by ``infoflow demo``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from infoflow.data import load_digits
from infoflow.kernels import RULES, gaussian_gram, kernel_width, label_gram
from infoflow.measures import EntropyCache
from infoflow.options import ALPHA, RULE, Option

#: The demo's sample count: the first n digits (all 1797 when None).
SAMPLES = Option("n", None, "integer", low=2, optional=True,
                 help="use the first N images (default: all 1797)")


@dataclass(frozen=True)
class DemoRow:
    """One line of the demo's table; every quantity in bits."""

    rule: str
    sigma: float
    alpha: float
    entropy_x: float
    entropy_y: float
    mutual_information_xy: float
    total_correlation_halves: float


def digits_demo(
    *, alphas: Sequence[float] = (1.01, 2.0), rules: Sequence[str] = RULES, n: int | None = None
) -> tuple[int, list[DemoRow]]:
    """Compute the demo's table on the first ``n`` digits (all 1797 by default)."""
    alphas = [ALPHA.check(a, f"alphas[{i}]") for i, a in enumerate(alphas)]
    rules = [RULE.check(r, f"rules[{i}]") for i, r in enumerate(rules)]
    n = SAMPLES.check(n)
    images, labels = load_digits()
    if n is not None:
        images, labels = images[:n], labels[:n]
    x = images.reshape(len(images), -1).astype("float64")
    y_gram = label_gram(labels)
    rows = []
    for rule in rules:
        sigma = kernel_width(x, rule, target=y_gram if rule == "alignment" else None)
        # same sigma: the Hadamard product of the halves' Grams is exactly X's Gram
        grams = {"x": gaussian_gram(x, sigma), "y": y_gram,
                 "top": gaussian_gram(x[:, :32], sigma), "bottom": gaussian_gram(x[:, 32:], sigma)}
        for alpha in alphas:
            cache = EntropyCache(grams, alpha=alpha)
            rows.append(
                DemoRow(
                    rule=rule,
                    sigma=sigma,
                    alpha=alpha,
                    entropy_x=cache.entropy("x"),
                    entropy_y=cache.entropy("y"),
                    mutual_information_xy=cache.mutual_information("x", "y"),
                    total_correlation_halves=cache.total_correlation(["top", "bottom"]),
                )
            )
    return len(x), rows
