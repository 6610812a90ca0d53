"""Tuning the classifier to an operator's own traffic: ``slm-router calibrate``, ``fit`` and ``train-critical``.

- ``calibrate SAMPLE.jsonl``: score bands for a sample of real requests, so that given shares of it
  land in each level (``--shares 0.5,0.3,0.2``) or a given share reaches cloud deployments
  (``--cloud-share 0.3 --config proxy_config.yaml``); prints the ``classifier:`` YAML to paste.
- ``fit OUTCOMES.jsonl --out WEIGHTS.json``: the score's weights fitted on outcomes (one line per
  request: the prompt, the weak and the strong model's quality), written as a weight file that
  ``classifier: {weights: WEIGHTS.json}`` or ``--weights`` loads.
- ``train-critical LABELS.jsonl --out CRITICAL.json``: the critical model re-fitted on the operator's
  own requests labelled critical or not (``{"prompt" or "messages", "critical": true|false}``), from
  the shipped weights (:mod:`.critical_tuning`); ``classifier: {critical_weights: CRITICAL.json}`` or
  ``--critical-weights`` loads it.

Sample lines are ``{"prompt": ...}``, ``{"messages": [...]}`` or decision-log records (their
``input`` when the log records inputs, else their ``score`` and ``complexity``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from typing import Any, TextIO

from litellm_slm_router.core.classifier import (
    FEATURES,
    Assessment,
    ClassifierThresholds,
    TaskComplexityClassifier,
    features_of,
)
from litellm_slm_router.core.classifier.fit import bands_for_shares, fit_outcomes, outcome_target
from litellm_slm_router.core.errors import SLMRouterError
from litellm_slm_router.core.levels import TaskComplexity
from litellm_slm_router.local.jsonl import json_lines, request_of, write_result

__all__ = ["COMMANDS", "add_commands", "calibrate", "fit", "read_outcomes", "read_sample", "run"]

_LEVELS = (TaskComplexity.SIMPLE, TaskComplexity.MODERATE, TaskComplexity.COMPLEX)
_LEVEL_NAMES = frozenset(level.value for level in TaskComplexity)


def read_sample(path: str, classifier: TaskComplexityClassifier) -> list[tuple[Any, Assessment]]:
    """(prompt or None, assessment) per usable line: prompts are assessed; a decision record without
    its input brings its logged score and level. Lines with neither are skipped (refusals, outcomes)."""
    sample = []
    for _, item in json_lines(path):
        prompt = request_of(item)
        if prompt is not None:
            sample.append((prompt, classifier.assess(prompt)))
        elif isinstance(item.get("score"), (int, float)) and item.get("complexity") in _LEVEL_NAMES:
            sample.append((None, Assessment(complexity=TaskComplexity(item["complexity"]),
                                            score=min(max(float(item["score"]), 0.0), 1.0))))
    if not sample:
        raise SLMRouterError(f"{path}: no line has a prompt, messages, an input or a score")
    return sample


def _yaml(thresholds: ClassifierThresholds) -> str:
    lines = ["slm_router:", "  classifier:", f"    moderate: {thresholds.moderate}",
             f"    complex: {thresholds.complex}"]
    if thresholds.critical != ClassifierThresholds().critical:  # the configured cut-off, kept
        lines.append(f"    critical: {thresholds.critical}")
    if thresholds.weights:
        lines.append(f"    weights: {thresholds.weights}")
    return "\n".join(lines) + "\n"


def _shares(values: list[str]) -> tuple[float, float, float]:
    try:
        shares = tuple(float(v) for v in values)
    except ValueError:
        raise SLMRouterError("--shares: three numbers, e.g. 0.5,0.3,0.2") from None
    if len(shares) != 3 or min(shares) < 0 or sum(shares) <= 0:
        raise SLMRouterError("--shares: three non-negative numbers (simple, moderate, complex), e.g. 0.5,0.3,0.2")
    total = sum(shares)
    return shares[0] / total, shares[1] / total, shares[2] / total


def calibrate(path: str, out: TextIO, *, shares: str | None = None, cloud_share: float | None = None,
              config_path: str | None = None, weights_path: str | None = None, group: str | None = None) -> int:
    """Print score bands for the sample at ``path``; see the module docstring."""
    from litellm_slm_router.adapters.config import load_config, load_weights

    loaded = load_config(config_path) if config_path else None
    base = loaded.plugin.classifier if loaded else ClassifierThresholds()
    if weights_path:
        base = base.model_copy(update={"weights": weights_path})
    classifier = TaskComplexityClassifier(base, weights=load_weights(base.weights) if base.weights else None)
    sample = read_sample(path, classifier)
    scores = [a.score for _, a in sample if a.complexity is not TaskComplexity.CRITICAL]
    critical = len(sample) - len(scores)
    if not scores:
        raise SLMRouterError(f"{path}: every request of the sample is critical; nothing to set bands on")
    if (shares is None) == (cloud_share is None):
        raise SLMRouterError("calibrate: give --shares or --cloud-share (with --config)")
    if shares is not None:
        simple, moderate, _ = _shares(shares.split(","))
        low, high = bands_for_shares(scores, simple, moderate)
        note = f"shares of the {len(scores)} non-critical requests: simple {simple:.0%}, moderate {moderate:.0%}"
    else:
        if loaded is None:
            raise SLMRouterError("--cloud-share needs --config (which deployments are cloud ones)")
        assert cloud_share is not None
        if not 0.0 <= cloud_share <= 1.0:
            raise SLMRouterError("--cloud-share: a share between 0 and 1")
        low, high, reached = _bands_for_cloud_share(sample, loaded, group, cloud_share)
        note = f"cloud share {reached:.1%} of {len(sample)} requests (asked {cloud_share:.1%})"
    if not 0.0 < low < high < 1.0:
        raise SLMRouterError(f"calibrate: the sample gives no usable bands (moderate {low}, complex {high})")
    thresholds = base.model_copy(update={"moderate": low, "complex": high})
    counts = {level: 0 for level in _LEVELS}
    for s in scores:
        counts[TaskComplexityClassifier(thresholds).level_of(s)] += 1
    out.write(f"# {len(sample)} requests ({critical} critical, never banded); {note}\n")
    out.write("# with these bands: " + ", ".join(f"{lvl.value} {n / len(scores):.1%}" for lvl, n in counts.items())
              + " of the non-critical ones\n")
    out.write(_yaml(thresholds))
    return 0


def _bands_for_cloud_share(sample: list[tuple[Any, Assessment]], loaded: Any, group: str | None,
                           target: float) -> tuple[float, float, float]:
    """Bands under which about ``target`` of the sample is routed to a cloud deployment of ``group``."""
    from litellm_slm_router.adapters.catalogue import Catalogue, managed_groups
    from litellm_slm_router.adapters.tokens import prompt_bound
    from litellm_slm_router.core.budget import Budget
    from litellm_slm_router.core.errors import NoCapableDeploymentError
    from litellm_slm_router.core.selector import select

    catalogue = Catalogue.from_model_list(loaded.model_list)
    groups = sorted(managed_groups(loaded.model_list, loaded.plugin.model_groups))
    name = group or (groups[0] if groups else "")
    if name not in groups:
        raise SLMRouterError(f"--group {name}: not a managed model group (managed: {', '.join(groups)})")
    policy = loaded.plugin.policy

    def cloud(prompt: Any, a: Assessment, level: TaskComplexity) -> bool:
        counted, bound = prompt_bound(prompt if prompt is not None else "")
        try:
            d = select(a.model_copy(update={"complexity": level}), catalogue.groups[name], policy,
                       Budget(policy.max_cost_per_task_usd, policy.max_tokens_per_task), model_group=name,
                       prompt_tokens=counted, prompt_token_bound=bound)
        except NoCapableDeploymentError:
            return False
        chosen = next(v.option for v in d.candidates if v.option.deployment_id == d.selected_deployment_id)
        return not chosen.is_local

    fixed = sum(cloud(p, a, TaskComplexity.CRITICAL) for p, a in sample if a.complexity is TaskComplexity.CRITICAL)
    banded = sorted((a.score, [cloud(p, a, lvl) for lvl in _LEVELS]) for p, a in sample
                    if a.complexity is not TaskComplexity.CRITICAL)
    n = len(banded)
    prefix = [[0] * (n + 1) for _ in _LEVELS]  # prefix[level][i]: cloud count of the first i at that level
    for level in range(3):
        for i, (_, flags) in enumerate(banded):
            prefix[level][i + 1] = prefix[level][i] + flags[level]
    # Cut positions where the score changes (a band boundary cannot split equal scores), ~200 at most.
    cuts = [0] + [i for i in range(1, n) if banded[i][0] > banded[i - 1][0]] + [n]
    if len(cuts) > 200:
        cuts = sorted({cuts[round(k * (len(cuts) - 1) / 199)] for k in range(200)})
    best: tuple[float, int, int, int] | None = None
    for a_i, i in enumerate(cuts):
        for j in cuts[a_i:]:
            count = fixed + prefix[0][i] + prefix[1][j] - prefix[1][i] + prefix[2][n] - prefix[2][j]
            # Closest to the target; among equals, the widest moderate band (the least disruptive change).
            key = (abs(count / len(sample) - target), -(j - i), i, j)
            if best is None or key < best:
                best = key
    assert best is not None
    _, _, i, j = best
    reached = (fixed + prefix[0][i] + prefix[1][j] - prefix[1][i] + prefix[2][n] - prefix[2][j]) / len(sample)
    scores = [s for s, _ in banded]

    def threshold(k: int) -> float:
        if k <= 0:
            return max(scores[0] / 2, 1e-6)
        if k >= n:
            return min((scores[-1] + 1.0) / 2, 1 - 1e-6)
        return round((scores[k - 1] + scores[k]) / 2, 6)

    low, high = threshold(i), threshold(j)
    if high <= low:
        high = min(low + 1e-4, 1 - 1e-6)
    return low, high, reached


def read_outcomes(path: str) -> tuple[list[dict[str, float]], list[float], list[float], int]:
    """(features, weak quality, strong quality) per usable line of an outcome file, and how many
    lines were skipped. A line brings its request (``prompt`` or ``messages``) or the classifier's
    ``features`` of it (the feedback path's lines, ``GET /slm-router/outcomes``). A line with only
    ``weak`` is read as if the strong model had answered perfectly (``strong: 1``, qualities in
    [0, 1]); one with only ``strong`` says nothing about the weak model and is skipped."""
    rows, weak_q, strong_q, skipped = [], [], [], 0

    def bad(number: int) -> SLMRouterError:
        return SLMRouterError(f'{path}:{number}: expected {{"prompt" or "messages" or "features", "weak": quality, '
                              '"strong": quality}')

    for number, item in json_lines(path):
        prompt, given = request_of(item), item.get("features")
        weak, strong = item.get("weak"), item.get("strong")
        if not all(v is None or (isinstance(v, (int, float)) and not isinstance(v, bool)) for v in (weak, strong)):
            raise bad(number)
        if prompt is not None:
            row = features_of(prompt)
        elif isinstance(given, dict) and all(isinstance(v, (int, float)) for v in given.values()):
            unknown = sorted(set(given) - set(FEATURES))
            if unknown:
                raise SLMRouterError(f"{path}:{number}: unknown feature(s) {', '.join(unknown)} (a line written "
                                     "by another version of the plugin?)")
            row = {name: float(given.get(name, 0.0)) for name in FEATURES if name != "bias"}
        else:
            raise bad(number)
        if weak is None and strong is None:
            raise bad(number)
        if weak is None:
            skipped += 1
            continue
        rows.append(row)
        weak_q.append(float(weak))
        strong_q.append(1.0 if strong is None else float(strong))
    return rows, weak_q, strong_q, skipped


def fit(path: str, out_path: str, out: TextIO, *, l2: float | None = None,
        tie_weight: float | str | None = "auto") -> int:
    """Fit the score's weights on an outcome file and write them as a weight file.

    ``l2=None`` / ``tie_weight="auto"``: chosen by an inner cross-validation (:func:`fit_outcomes`);
    ``tie_weight=None``: the unweighted objective."""
    rows, weak_q, strong_q, skipped = read_outcomes(path)
    targets = [outcome_target(w, s) for w, s in zip(weak_q, strong_q, strict=True)]
    if len(rows) < 10:
        raise SLMRouterError(f"{path}: {len(rows)} outcomes; fit needs at least 10")
    fitted = fit_outcomes(rows, weak_q, strong_q, l2=l2, tie_weight=tie_weight)
    weights = fitted.weights
    payload = {"weights": {k: round(v, 6) for k, v in weights.items()}, "features": list(FEATURES),
               "fitted_on": len(rows), "strong_better_share": round(sum(targets) / len(targets), 4),
               "objective": "unweighted" if fitted.tie_weight is None else "gain-weighted",
               "l2": fitted.l2, "tie_weight": fitted.tie_weight,
               "chosen_by": "inner 5-fold cross-validation (APGR)" if fitted.inner_apgr else "given",
               "inner_cv_apgr": fitted.inner_apgr,
               "source": str(path), "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    write_result(out_path, payload)
    top: Sequence[tuple[str, float]] = sorted(((k, v) for k, v in weights.items() if k != "bias"),
                                              key=lambda kv: -abs(kv[1]))[:8]
    note = f"; {skipped} strong-only lines skipped" if skipped else ""
    tie = "unweighted" if fitted.tie_weight is None else f"gain-weighted, tie weight {fitted.tie_weight:g}"
    out.write(f"fitted on {len(rows)} outcomes ({sum(targets) / len(targets):.1%} strong better{note}; {tie}, "
              f"l2 {fitted.l2:g}, {payload['chosen_by']}); wrote {out_path}\n"
              "largest weights: " + ", ".join(f"{k} {v:+.3f}" for k, v in top) + "\n")
    out.write("use it: slm_router: {classifier: {weights: " + str(out_path) + "}}  (then run calibrate with "
              "--weights to set its bands)\n")
    return 0


COMMANDS = ("calibrate", "fit", "train-critical")


def _auto_or(high: float, *names: str) -> Any:
    def parse(value: str) -> float | str:  # 'auto', one of names, or a number from 0 to high
        number = float(value) if value.replace(".", "", 1).isdecimal() else -1.0
        if value in ("auto", *names) or 0.0 <= number <= high:
            return value if number < 0 else number
        upto = "" if high == float("inf") else f" up to {high:g}"
        raise argparse.ArgumentTypeError(f"{', '.join(map(repr, ('auto', *names)))} or a number >= 0{upto}: {value!r}")
    return parse


def add_commands(sub: Any) -> None:
    """The command line's ``calibrate``, ``fit`` and ``train-critical`` (``sub``: argparse subparsers)."""
    ca = sub.add_parser("calibrate", help="score bands for a sample of requests (JSON lines: prompt, messages or "
                                          "decision-log records); prints the classifier: YAML")
    ca.add_argument("path")
    ca.add_argument("--shares", help="simple,moderate,complex shares of the sample, e.g. 0.5,0.3,0.2")
    ca.add_argument("--cloud-share", type=float, help="the share of the sample to route to cloud deployments "
                                                      "(needs --config)")
    ca.add_argument("--config", help="a LiteLLM config (its deployments, policy and classifier settings)")
    ca.add_argument("--group", help="with --cloud-share: the managed model group (default: the first)")
    ca.add_argument("--weights", help="a weight file written by 'slm-router fit'")
    ft = sub.add_parser("fit", help="fit the score's weights on outcomes (JSON lines: prompt or messages, weak, "
                                    "strong) and write a weight file")
    ft.add_argument("path")
    ft.add_argument("--out", required=True, help="where to write the weight file (JSON)")
    ft.add_argument("--l2", type=_auto_or(float("inf")), default="auto", metavar="auto|X",
                    help="pull towards the hand-set weights (default auto: chosen by an inner cross-validation)")
    ft.add_argument("--tie-weight", type=_auto_or(1.0, "unweighted"), default="auto", metavar="auto|X|unweighted",
                    help="an outcome's weight when both models did as well, a gain's mean being 1 (default auto)")
    tc = sub.add_parser("train-critical", help="re-fit the critical model on your own requests labelled critical or "
                        "not (JSON lines: prompt or messages, critical)")
    tc.add_argument("path", nargs="+")
    tc.add_argument("--out", required=True, help="where to write the critical model (JSON)")
    tc.add_argument("--l2", type=float, default=0.01, help="pull towards the shipped weights (default 0.01)")
    tc.add_argument("--steps", type=int, default=150, help="Adam steps (default 150)")


def run(args: argparse.Namespace, out: TextIO) -> int:
    if args.command == "train-critical":
        from litellm_slm_router.local.critical_tuning import train_critical

        return train_critical(args.path, args.out, out, l2=args.l2, steps=args.steps)
    if args.command == "fit":
        return fit(args.path, args.out, out, l2=None if args.l2 == "auto" else args.l2,
                   tie_weight=None if args.tie_weight == "unweighted" else args.tie_weight)
    return calibrate(args.path, out, shares=args.shares, cloud_share=args.cloud_share, config_path=args.config,
                     weights_path=args.weights, group=args.group)
