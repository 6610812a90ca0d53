"""Routing quality when the score's weights are fitted on outcomes: k-fold cross-validation.

    python bench/fit_crossval.py            # writes bench/results/fit_crossval.json
    python bench/fit_crossval.py --limit 60 --seeds 1 --inner-folds 2   # smoke run

For GSM8K and MT-Bench (RouteLLM's outcomes, as in routing_quality.py) the prompts are shuffled
(fixed seed) into k = 5 folds. For each fold, a logistic regression over the classifier's own
features (target "strong better than weak") is fitted on the other four folds and scores the
held-out one; APGR is computed over all held-out scores together, so no prompt is scored by weights
that saw its outcome. Two fits:

- nested: ``slm-router fit``'s default (``fit_outcomes``: rows weighted by their gain, ``l2`` and the
  ties' weight chosen by an inner 5-fold cross-validation that runs inside each outer training fold
  only, so no held-out prompt influences the choice of its own weights);
- fixed: the old objective (every row weight 1, ``--l2``, default 20).

Beside them: the zero-shot classifier, prompt length, and the fits scored in-sample (optimistic
references, not results).
"""

from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import DATA, RESULTS, machine, write_json
from routing_quality import apgr, curve, load_gsm8k, load_mt_bench


def prompt_features(prompt: str) -> dict[str, float]:
    from litellm_slm_router.core.classifier import features
    from litellm_slm_router.core.classifier.text import words

    lower = prompt.lower()
    ask_words = words(lower)
    return features(prompt, lower, ask_words, frozenset(ask_words))


def cross_validated(rows: list[dict[str, float]], weak: Sequence[float], strong: Sequence[float], k: int,
                    seed: int, l2: float | None, chosen: list[str] | None = None, inner_folds: int = 5) -> list[float]:
    """Held-out scores; ``l2=None``: nested (``fit_outcomes``' inner selection on each training fold,
    its choice appended to ``chosen``), else the unweighted fit at that ``l2``."""
    from litellm_slm_router.core.classifier import logit
    from litellm_slm_router.core.classifier.fit import fit_outcomes

    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    scores = [0.0] * len(rows)
    for fold in range(k):
        held = set(order[fold::k])
        train = [i for i in order if i not in held]
        fitted = fit_outcomes([rows[i] for i in train], [weak[i] for i in train], [strong[i] for i in train],
                              l2=l2, tie_weight="auto" if l2 is None else None, folds=inner_folds)
        if chosen is not None:
            chosen.append(_label(fitted))
        for i in held:
            scores[i] = logit(rows[i], fitted.weights)
    return scores


def _label(fitted) -> str:
    return f"l2 {fitted.l2:g}, tie {'unweighted' if fitted.tie_weight is None else f'{fitted.tie_weight:g}'}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3, help="shuffles averaged (seeds 0..N-1)")
    parser.add_argument("--l2", type=float, default=20.0, help="the fixed fit's l2 (default 20)")
    parser.add_argument("--inner-folds", type=int, default=5, help="folds of the nested fit's inner selection "
                        "(default 5, as slm-router fit; fewer only to make a smoke run quick)")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N prompts of each set")
    parser.add_argument("--json", type=Path, default=RESULTS / "fit_crossval.json")
    args = parser.parse_args(argv)

    from litellm_slm_router import TaskComplexityClassifier
    from litellm_slm_router.core.classifier import logit
    from litellm_slm_router.core.classifier.fit import L2_GRID, TIE_GRID, fit_outcomes

    zero_shot = TaskComplexityClassifier()
    results: dict[str, dict] = {}
    for dataset, loader in (("GSM8K", load_gsm8k), ("MT-Bench", load_mt_bench)):
        prompts, weak, strong = loader(args.data)
        if args.limit:
            prompts, weak, strong = prompts[: args.limit], weak[: args.limit], strong[: args.limit]
        rows = [prompt_features(p) for p in prompts]
        fixed = [apgr(curve(cross_validated(rows, weak, strong, args.folds, seed, args.l2), weak, strong))
                 for seed in range(args.seeds)]
        chosen: list[list[str]] = [[] for _ in range(args.seeds)]
        nested = [apgr(curve(cross_validated(rows, weak, strong, args.folds, seed, None, chosen[seed],
                                             args.inner_folds), weak, strong)) for seed in range(args.seeds)]
        full = fit_outcomes(rows, weak, strong, folds=args.inner_folds)
        full_fixed = fit_outcomes(rows, weak, strong, l2=args.l2, tie_weight=None)
        results[dataset] = {
            "prompts": len(prompts),
            "nested": sum(nested) / len(nested),
            "nested_per_seed": nested,
            "nested_chosen_per_seed": chosen,
            "cross_validated": sum(fixed) / len(fixed),
            "cross_validated_per_seed": fixed,
            "zero_shot": apgr(curve([zero_shot.assess(p).score for p in prompts], weak, strong)),
            "prompt_length": apgr(curve([float(len(p)) for p in prompts], weak, strong)),
            "in_sample": apgr(curve([logit(r, full_fixed.weights) for r in rows], weak, strong)),
            "in_sample_nested_choice": apgr(curve([logit(r, full.weights) for r in rows], weak, strong)),
            "chosen_on_all": _label(full),
            "inner_cv_apgr_on_all": full.inner_apgr,
            "weights_fitted_on_all": {k: round(v, 4) for k, v in full.weights.items() if v},
        }
    write_json(args.json, {"machine": machine(), "folds": args.folds, "inner_folds": args.inner_folds,
                           "seeds": args.seeds, "l2": args.l2,
                           "grid": {"l2": list(L2_GRID), "tie_weight": list(TIE_GRID)}, "datasets": results})
    print(f"| dataset | prompt length | zero-shot | fixed: unweighted, l2 {args.l2:g}, {args.folds}-fold CV "
          f"| nested: gain-weighted, inner CV choice, {args.folds}-fold CV | in-sample (fixed / nested choice) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for dataset, r in results.items():
        per = ", ".join(f"{x:.3f}" for x in r["nested_per_seed"])
        print(f"| {dataset} | {r['prompt_length']:.3f} | {r['zero_shot']:.3f} | {r['cross_validated']:.3f} "
              f"({', '.join(f'{x:.3f}' for x in r['cross_validated_per_seed'])}) | {r['nested']:.3f} ({per}) "
              f"| {r['in_sample']:.3f} / {r['in_sample_nested_choice']:.3f} |")
    print(f"\n(mean of {args.seeds} shuffles; per shuffle in brackets)")
    for dataset, r in results.items():
        counts: dict[str, int] = {}
        for label in (x for seed in r["nested_chosen_per_seed"] for x in seed):
            counts[label] = counts.get(label, 0) + 1
        print(f"{dataset}: inner CV chose " + "; ".join(f"{k} ({v}x)" for k, v in sorted(counts.items(),
              key=lambda kv: -kv[1])) + f" over the outer folds; on all prompts: {r['chosen_on_all']}")
    print(f"\njson: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
