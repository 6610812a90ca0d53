"""``slm-router train-critical``: the critical model re-fitted on an operator's own labelled requests.

Lines are ``{"prompt" or "messages": ..., "critical": true|false}``; the result is a file that
``classifier: {critical_weights: CRITICAL.json}`` or ``--critical-weights`` loads
(:func:`litellm_slm_router.adapters.config.load_critical_model`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, TextIO

from litellm_slm_router.core.classifier import TaskComplexityClassifier, critical_features_of
from litellm_slm_router.core.classifier import critical_weights as shipped_critical
from litellm_slm_router.core.classifier.critical_fit import fit_critical
from litellm_slm_router.core.classifier.critical_model import CriticalModel
from litellm_slm_router.core.errors import SLMRouterError
from litellm_slm_router.core.levels import TaskComplexity
from litellm_slm_router.local.jsonl import json_lines, request_of, write_result

__all__ = ["read_labels", "train_critical"]


def read_labels(paths: Sequence[str]) -> list[tuple[Any, bool]]:
    """(request, critical) per line of labelled files: ``prompt`` or ``messages``, and ``critical``."""
    rows = []
    for path in paths:
        for number, item in json_lines(path):
            prompt, critical = request_of(item), item.get("critical")
            if prompt is None or not isinstance(critical, bool):
                raise SLMRouterError(f'{path}:{number}: expected {{"prompt" or "messages": ..., "critical": true or '
                                     "false}")
            rows.append((prompt, critical))
    return rows


def _recall_precision(classifier: TaskComplexityClassifier, rows: list[tuple[Any, bool]]) -> str:
    got = [classifier.assess(prompt).complexity is TaskComplexity.CRITICAL for prompt, _ in rows]
    tp = sum(g and label for g, (_, label) in zip(got, rows, strict=True))
    flagged, positives = sum(got), sum(label for _, label in rows)
    return (f"recall {tp / positives:.3f}" if positives else "recall -") + (
        f", precision {tp / flagged:.3f}" if flagged else ", precision -")


def train_critical(paths: Sequence[str], out_path: str, out: TextIO, *, l2: float = 0.01, steps: int = 150) -> int:
    """Re-fit the critical model on labelled requests, from the shipped weights, and write it."""
    if not (l2 >= 0.0 and math.isfinite(l2)) or steps < 1:
        raise SLMRouterError("train-critical: --l2 must be a finite number >= 0 and --steps a whole number >= 1")
    rows = read_labels(paths)
    read = [(critical_features_of(prompt), label) for prompt, label in rows]
    trainable = [(found, label) for found, label in read if found is not None]
    critical = sum(label for _, label in trainable)
    if len(trainable) < 10 or critical in (0, len(trainable)):
        raise SLMRouterError(f"{', '.join(paths)}: {len(trainable)} usable labelled requests ({critical} critical); "
                             "train-critical needs at least 10, with critical ones and near misses (questions, "
                             "drafts, read-only or sandbox asks). Requests with no user text, and word problems, "
                             "are left to the word rules and not trained on")
    weights = fit_critical(trainable, shipped_critical.WEIGHTS, shipped_critical.BIAS, l2=l2, steps=steps)
    before = TaskComplexityClassifier()
    after = TaskComplexityClassifier(critical_model=CriticalModel(weights, shipped_critical.BIAS))
    payload = {"critical_model": {"bias": shipped_critical.BIAS, "weights": weights},
               "base": shipped_critical.TRAINED_ON, "trained_on": len(trainable), "critical": critical,
               "l2": l2, "steps": steps, "source": [str(p) for p in paths],
               "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_result(out_path, payload)
    skipped = len(read) - len(trainable)
    note = (f"; {skipped} left to the word rules and not trained on (no user text, or a word problem)"
            if skipped else "")
    out.write(f"re-fitted the critical model on {len(trainable)} labelled requests ({critical} critical{note}), "
              f"from the shipped weights, l2 {l2:g}; wrote {out_path}\n"
              f"on these requests, at the default cut-off: shipped model {_recall_precision(before, rows)}; "
              f"re-fitted {_recall_precision(after, rows)} (in-sample: check it on requests it was not fitted on)\n")
    out.write("use it: slm_router: {classifier: {critical_weights: " + str(out_path) + "}}\n")
    return 0
