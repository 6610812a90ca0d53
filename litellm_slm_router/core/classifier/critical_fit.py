"""Re-fitting the critical model on an operator's own labelled requests (``slm-router train-critical``).

The shipped weights (:mod:`.critical_weights`) come from other authors' requests; an operator's own
traffic has its own tools, jargon and conventions. :func:`fit_critical` starts from a base model and
fits labelled rows (each one the set of its feature names, as
:func:`litellm_slm_router.core.classifier.critical_features_of` spells them, and whether it is critical)
by full-batch Adam on the mean log loss, with an L2 pull towards the base weights: a feature the rows
do not show keeps its base weight exactly, one they show moves only as far as they justify, so a few
dozen lines adjust the model rather than replace it. The bias stays the base model's (an ask needs
evidence to be critical). Plain Python: the core does not import NumPy.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Set

__all__ = ["fit_critical"]


def fit_critical(rows: Iterable[tuple[Set[str], bool]], base: Mapping[str, float], bias: float, *,
                 l2: float = 0.01, steps: int = 150, rate: float = 0.05) -> dict[str, float]:
    """The weights fitted to ``rows`` from ``base`` (every base weight is kept; the rows' features added)."""
    data = [(sorted(found), 1.0 if critical else 0.0) for found, critical in rows]
    if not data:
        raise ValueError("fit_critical needs at least one labelled row")
    names = sorted({f for found, _ in data for f in found})
    start = {f: float(base.get(f, 0.0)) for f in names}
    w = dict(start)
    m = dict.fromkeys(names, 0.0)
    v = dict.fromkeys(names, 0.0)
    n = len(data)
    for step in range(1, steps + 1):
        grad = {f: l2 * (w[f] - start[f]) for f in names}
        for found, y in data:
            z = max(-50.0, min(50.0, bias + sum(w[f] for f in found)))
            g = (1.0 / (1.0 + math.exp(-z)) - y) / n
            for f in found:
                grad[f] += g
        for f in names:
            m[f] = 0.9 * m[f] + 0.1 * grad[f]
            v[f] = 0.999 * v[f] + 0.001 * grad[f] * grad[f]
            w[f] -= rate * (m[f] / (1 - 0.9**step)) / (math.sqrt(v[f] / (1 - 0.999**step)) + 1e-8)
    return {**base, **{f: round(x, 4) for f, x in w.items()}}
