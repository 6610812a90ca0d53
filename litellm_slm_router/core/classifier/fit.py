"""Fitting the score's weights to an operator's own outcomes, and setting its bands to a traffic mix.

- :func:`fit_weights`: an L2-regularised logistic regression over the classifier's own features
  (:data:`~.score.FEATURES`, length among them), target "the strong model did better than the weak
  one". Plain Python (Newton's method on standardised features), deterministic; the weights come
  back in the features' own units, so ``logit(features, weights)`` uses them as they are and every
  weight reads as "this much more logit per unit of this feature".
- :func:`bands_for_shares`: the score bands that put given shares of a sample in each level.

Pure functions: the caller reads the files (``slm-router fit``, ``slm-router calibrate``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

from litellm_slm_router.core.classifier.score import DEFAULT_WEIGHTS, FEATURES

__all__ = ["bands_for_shares", "fit_weights", "outcome_target"]


def outcome_target(weak: float, strong: float) -> float:
    """1 when the strong model did better than the weak one, else 0."""
    return 1.0 if strong > weak else 0.0


def fit_weights(rows: Sequence[Mapping[str, float]], targets: Sequence[float], *, l2: float = 20.0,
                sample_weights: Sequence[float] | None = None, iterations: int = 25,
                names: Sequence[str] = FEATURES,
                prior: Mapping[str, float] | None = DEFAULT_WEIGHTS) -> dict[str, float]:
    """Logistic-regression weights of ``names`` (``bias`` included) for ``targets`` in [0, 1].

    ``l2`` is a ridge penalty on the weights' distance from ``prior`` (the hand-set weights by
    default; ``None`` for zero), in the features' own units: a small sample moves the weights only as
    far as it supports, a rare feature stays near its prior, and one that never fires keeps it.
    """
    if len(rows) != len(targets) or not rows:
        raise ValueError("fit_weights: need as many targets as rows, and at least one row")
    cols = [n for n in names if n != "bias"]
    n = len(rows)
    sw = list(sample_weights) if sample_weights is not None else [1.0] * n
    total = sum(sw)
    means, scales = [], []
    for name in cols:
        values = [r.get(name, 0.0) for r in rows]
        mean = sum(w * v for w, v in zip(sw, values, strict=True)) / total
        var = sum(w * (v - mean) ** 2 for w, v in zip(sw, values, strict=True)) / total
        means.append(mean)
        scales.append(math.sqrt(var) if var > 1e-12 else 0.0)
    live = [i for i, s in enumerate(scales) if s > 0.0]  # a constant feature cannot be learned
    x = [[1.0] + [(r.get(cols[i], 0.0) - means[i]) / scales[i] for i in live] for r in rows]
    d = len(live) + 1
    prior = prior or {}
    centre = [0.0] + [prior.get(cols[i], 0.0) * scales[i] for i in live]  # the prior, standardised
    beta = centre[:]
    penalty = [0.0] + [l2 / scales[i] ** 2 for i in live]
    positive = sum(w * t for w, t in zip(sw, targets, strict=True)) / total
    beta[0] = math.log(max(positive, 1e-6) / max(1.0 - positive, 1e-6))
    for _ in range(iterations):
        grad = [0.0] * d
        hess = [[0.0] * d for _ in range(d)]
        for xi, t, w in zip(x, targets, sw, strict=True):
            z = sum(b * v for b, v in zip(beta, xi, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(min(z, 35.0), -35.0)))
            g = w * (p - t)
            h = w * p * (1.0 - p)
            for a in range(d):
                grad[a] += g * xi[a]
                ha = h * xi[a]
                row = hess[a]
                for b in range(a, d):
                    row[b] += ha * xi[b]
        for a in range(d):
            for b in range(a):
                hess[a][b] = hess[b][a]
            if a:  # the penalty is on the weight in the feature's own units: a rare feature stays near its prior
                grad[a] += penalty[a] * (beta[a] - centre[a])
                hess[a][a] += penalty[a]
            hess[a][a] += 1e-9
        step = _solve(hess, grad)
        beta = [b - s for b, s in zip(beta, step, strict=True)]
        if max(abs(s) for s in step) < 1e-7:
            break
    weights = {name: float(prior.get(name, 0.0)) for name in cols}  # a constant feature keeps its prior
    bias = beta[0]
    for k, i in enumerate(live, start=1):
        weights[cols[i]] = beta[k] / scales[i]
        bias -= beta[k] * means[i] / scales[i]
    return {"bias": bias, **weights}


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """x with a @ x = b (Gaussian elimination with partial pivoting; a is small and positive definite)."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        div = m[col][col]
        for r in range(col + 1, n):
            f = m[r][col] / div
            if f:
                for c in range(col, n + 1):
                    m[r][c] -= f * m[col][c]
    out = [0.0] * n
    for r in range(n - 1, -1, -1):
        out[r] = (m[r][n] - sum(m[r][c] * out[c] for c in range(r + 1, n))) / m[r][r]
    return out


def bands_for_shares(scores: Sequence[float], simple: float, moderate: float) -> tuple[float, float]:
    """(moderate, complex) thresholds that put about ``simple`` of ``scores`` below the first and
    ``simple + moderate`` below the second. Each threshold lies halfway between two neighbouring
    scores, so a sample's own scores never sit on a boundary."""
    if not scores:
        raise ValueError("no scores to calibrate on")
    if simple < 0 or moderate < 0 or simple + moderate > 1:
        raise ValueError("shares must be non-negative and add up to at most 1")
    ordered = sorted(scores)
    low = _cut(ordered, simple)
    high = max(_cut(ordered, simple + moderate), low + 1e-4)
    return _clamp(low), _clamp(high)


def _cut(ordered: list[float], share: float) -> float:
    k = round(share * len(ordered))
    if k <= 0:
        return ordered[0] / 2
    if k >= len(ordered):
        return (ordered[-1] + 1.0) / 2
    return (ordered[k - 1] + ordered[k]) / 2


def _clamp(t: float) -> float:
    return min(max(round(t, 6), 1e-6), 1 - 1e-6)
