"""Fitting the score's weights to an operator's own outcomes, and setting its bands to a traffic mix.

- :func:`fit_weights`: an L2-regularised logistic regression over the classifier's own features
  (:data:`~.score.FEATURES`, length among them), target "the strong model did better than the weak
  one". Plain Python (Newton's method on standardised features), deterministic; the weights come
  back in the features' own units, so ``logit(features, weights)`` uses them as they are and every
  weight reads as "this much more logit per unit of this feature".
- :func:`fit_outcomes`: the same regression on (weak, strong) quality pairs, each row weighted by
  its gain's magnitude (routing ranks prompts by what the strong model adds: a tie costs nothing
  either way, a large gain a lot), with ``l2`` and the ties' weight chosen by an inner k-fold
  cross-validation of :func:`apgr` over a small grid (the unweighted objective is one grid point);
  the bias is then set so that the mean score is the sample's "strong better" share.
- :func:`apgr`: the area under the quality-vs-strong-share curve of a score (RouteLLM's APGR).
- :func:`bands_for_shares`: the score bands that put given shares of a sample in each level.

Pure functions: the caller reads the files (``slm-router fit``, ``slm-router calibrate``).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

from litellm_slm_router.core.classifier.score import DEFAULT_WEIGHTS, FEATURES, logit

__all__ = ["L2_GRID", "TIE_GRID", "OutcomeFit", "apgr", "bands_for_shares", "fit_outcomes", "fit_weights",
           "gain_weights", "outcome_target"]

L2_GRID: tuple[float, ...] = (5.0, 20.0, 80.0)
"""The ``l2`` values the inner cross-validation tries (20 is the unweighted fit's old default)."""
TIE_GRID: tuple[float | None, ...] = (None, 0.5, 0.2, 0.05)
"""The ties' weights it tries; ``None`` is the unweighted objective (every row weight 1)."""


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


def gain_weights(weak: Sequence[float], strong: Sequence[float], tie_weight: float | None) -> list[float]:
    """Row weights from the gain's magnitude, scale-free: ``|strong - weak|`` over the sample's mean
    non-zero ``|gain|``, ``tie_weight`` for a tie, then scaled to a mean of 1 (so ``l2`` keeps its
    meaning: the data weigh as many rows as there are). ``None``: every row 1 (the unweighted fit)."""
    gains = [abs(s - w) for w, s in zip(weak, strong, strict=True)]
    moved = [g for g in gains if g > 0.0]
    if tie_weight is None or not moved:
        return [1.0] * len(gains)
    if tie_weight < 0.0:
        raise ValueError("gain_weights: tie_weight must be non-negative")
    unit = sum(moved) / len(moved)
    raw = [g / unit if g > 0.0 else tie_weight for g in gains]
    mean = sum(raw) / len(raw)
    return [r / mean for r in raw]


def apgr(scores: Sequence[float], weak: Sequence[float], strong: Sequence[float]) -> float:
    """RouteLLM's APGR of ``scores`` (higher: send to the strong model): the prompts sorted by score,
    the top share sent to the strong model, the share swept from 0 to 1; the area between that
    quality curve and the weak model's line over the area between the strong and weak lines. Equal
    scores are a random split (in expectation), so a constant score gives 0.5, as does a sample
    where the strong model adds nothing overall."""
    n = len(scores)
    total = sum(strong) - sum(weak)
    if n == 0 or abs(total) < 1e-12:
        return 0.5
    order = sorted(range(n), key=lambda i: -scores[i])
    area, gained, k = 0.0, 0.0, 0
    while k < n:
        j = k
        while j < n and scores[order[j]] == scores[order[k]]:
            j += 1
        step = sum(strong[i] - weak[i] for i in order[k:j]) / (j - k)
        area += (j - k) * gained + step * (j - k) ** 2 / 2  # the trapezoids of that group's steps
        gained += step * (j - k)
        k = j
    return area / (n * total)


class OutcomeFit(NamedTuple):
    """What :func:`fit_outcomes` fitted and how it chose its hyper-parameters."""

    weights: dict[str, float]
    l2: float
    tie_weight: float | None  # None: the unweighted objective
    inner_apgr: dict[str, float]  # grid point ("l2=20,tie=0.2") -> pooled inner held-out APGR; {} if not searched


def _label(l2: float, tie: float | None) -> str:
    return f"l2={l2:g},tie={'unweighted' if tie is None else f'{tie:g}'}"


def fit_outcomes(rows: Sequence[Mapping[str, float]], weak: Sequence[float], strong: Sequence[float], *,
                 l2: float | None = None, tie_weight: float | str | None = "auto", folds: int = 5, seed: int = 0,
                 l2_grid: Sequence[float] = L2_GRID,
                 tie_grid: Sequence[float | None] = TIE_GRID) -> OutcomeFit:
    """Weights for "the strong model did better", each row weighted by its gain (:func:`gain_weights`).

    ``l2=None`` and ``tie_weight="auto"`` are chosen from ``l2_grid`` and ``tie_grid`` by an inner
    ``folds``-fold cross-validation on these rows only (a fixed shuffle by ``seed``): every grid
    point is fitted on the other folds and scores each held-out fold; the point with the best APGR
    over all held-out scores together wins (the earlier grid point on a tie). A given value is used
    as it is (the grid then searches the other one only); ``tie_weight=None`` is the unweighted
    objective. Every fit's bias is set so that its mean score is the share of "strong better".
    """
    if len(rows) != len(weak) or len(rows) != len(strong) or not rows:
        raise ValueError("fit_outcomes: need a weak and a strong quality per row, and at least one row")
    if l2 is not None and l2 < 0.0:
        raise ValueError("fit_outcomes: l2 must be non-negative")
    if isinstance(tie_weight, str) and tie_weight != "auto":
        raise ValueError("fit_outcomes: tie_weight is a number, None (unweighted) or 'auto'")
    targets = [outcome_target(w, s) for w, s in zip(weak, strong, strict=True)]
    l2s = list(l2_grid) if l2 is None else [l2]
    ties = list(tie_grid) if isinstance(tie_weight, str) else [tie_weight]
    scored: dict[str, float] = {}
    if len(l2s) * len(ties) > 1:
        order = sorted(range(len(rows)), key=lambda i: hashlib.blake2b(f"{seed}:{i}".encode(), digest_size=8).digest())
        k = max(2, min(folds, len(rows)))
        held_out = [order[f::k] for f in range(k)]
        best: tuple[float, float, float | None] | None = None  # (apgr, l2, tie weight)
        for lam, tie in ((lam, tie) for lam in l2s for tie in ties):
            scores = [0.0] * len(rows)
            for held in held_out:
                out = set(held)
                train = [i for i in order if i not in out]
                w = _fit_point([rows[i] for i in train], [weak[i] for i in train], [strong[i] for i in train],
                               [targets[i] for i in train], lam, tie)
                for i in held:
                    scores[i] = _z(rows[i], w)
            value = apgr(scores, weak, strong)
            scored[_label(lam, tie)] = round(value, 6)
            if best is None or value > best[0] + 1e-12:
                best = (value, lam, tie)
        assert best is not None
        _, chosen_l2, chosen_tie = best
    else:
        chosen_l2, chosen_tie = l2s[0], ties[0]
    return OutcomeFit(_fit_point(rows, weak, strong, targets, chosen_l2, chosen_tie), chosen_l2, chosen_tie, scored)


def _z(row: Mapping[str, float], weights: Mapping[str, float]) -> float:
    """A row's logit with the bias counted whether or not the row names it (as :func:`fit_weights` does)."""
    return weights.get("bias", 0.0) + logit({k: v for k, v in row.items() if k != "bias"}, weights)


def _fit_point(rows: Sequence[Mapping[str, float]], weak: Sequence[float], strong: Sequence[float],
               targets: Sequence[float], l2: float, tie: float | None) -> dict[str, float]:
    """One grid point's fit, its bias then moved so that the mean score is the sample's (unweighted)
    "strong better" share. Down-weighting ties shifts the intercept towards "strong better", not the
    ranking: without this the score would stop reading as a probability, default bands would send
    nearly everything up, and fits with different tie weights would score on different scales. (An
    unweighted fit has that mean already, unless a feature is constant and not zero in the sample:
    it keeps its prior weight, which the fitted bias does not offset.)"""
    weights = fit_weights(rows, targets, l2=l2, sample_weights=gain_weights(weak, strong, tie))
    share = sum(targets) / len(targets)
    z = [_z(r, weights) for r in rows]

    def excess(shift: float) -> float:  # mean score minus the share: increasing in the shift
        return sum(1.0 / (1.0 + math.exp(-max(min(v + shift, 35.0), -35.0))) for v in z) / len(z) - share

    low, high = -40.0, 40.0
    for _ in range(45):  # bisection: 80 / 2**45 is far below any score's rounding
        mid = (low + high) / 2
        low, high = (mid, high) if excess(mid) < 0.0 else (low, mid)
    return {**weights, "bias": weights["bias"] + (low + high) / 2}


def _solve(a: list[list[float]], b: list[float]) -> list[float]:
    """x with a @ x = b (Gaussian elimination with partial pivoting; a is small and positive definite)."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        div = m[col][col]
        pivot_row = m[col][col:]
        for r in range(col + 1, n):
            f = m[r][col] / div
            if f:
                m[r][col:] = [v - f * u for v, u in zip(m[r][col:], pivot_row, strict=True)]
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
