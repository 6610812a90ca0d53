"""Routing quality when the score's weights are fitted on outcomes: k-fold cross-validation.

    python bench/fit_crossval.py            # writes bench/results/fit_crossval.json
    python bench/fit_crossval.py --limit 60 --seeds 1   # smoke run

For GSM8K and MT-Bench (RouteLLM's outcomes, as in routing_quality.py) the prompts are shuffled
(fixed seed) into k = 5 folds. For each fold, ``slm-router fit``'s model (a logistic regression over
the classifier's own features, target "strong better than weak") is fitted on the other four folds
and scores the held-out one; APGR is computed over all held-out scores together, so no prompt is
scored by weights that saw its outcome. Beside it: the zero-shot classifier, prompt length, and the
same fit scored in-sample (an optimistic reference, not a result).
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
                    seed: int, l2: float) -> list[float]:
    from litellm_slm_router.core.classifier import logit
    from litellm_slm_router.core.classifier.fit import fit_weights, outcome_target

    order = list(range(len(rows)))
    random.Random(seed).shuffle(order)
    scores = [0.0] * len(rows)
    for fold in range(k):
        held = set(order[fold::k])
        train = [i for i in order if i not in held]
        weights = fit_weights([rows[i] for i in train], [outcome_target(weak[i], strong[i]) for i in train], l2=l2)
        for i in held:
            scores[i] = logit(rows[i], weights)
    return scores


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=3, help="shuffles averaged (seeds 0..N-1)")
    parser.add_argument("--l2", type=float, default=20.0)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N prompts of each set")
    parser.add_argument("--json", type=Path, default=RESULTS / "fit_crossval.json")
    args = parser.parse_args(argv)

    from litellm_slm_router import TaskComplexityClassifier
    from litellm_slm_router.core.classifier import logit
    from litellm_slm_router.core.classifier.fit import fit_weights, outcome_target

    zero_shot = TaskComplexityClassifier()
    results: dict[str, dict] = {}
    for dataset, loader in (("GSM8K", load_gsm8k), ("MT-Bench", load_mt_bench)):
        prompts, weak, strong = loader(args.data)
        if args.limit:
            prompts, weak, strong = prompts[: args.limit], weak[: args.limit], strong[: args.limit]
        rows = [prompt_features(p) for p in prompts]
        per_seed = [apgr(curve(cross_validated(rows, weak, strong, args.folds, seed, args.l2), weak, strong))
                    for seed in range(args.seeds)]
        full = fit_weights(rows, [outcome_target(w, s) for w, s in zip(weak, strong, strict=True)], l2=args.l2)
        results[dataset] = {
            "prompts": len(prompts),
            "cross_validated": sum(per_seed) / len(per_seed),
            "cross_validated_per_seed": per_seed,
            "zero_shot": apgr(curve([zero_shot.assess(p).score for p in prompts], weak, strong)),
            "prompt_length": apgr(curve([float(len(p)) for p in prompts], weak, strong)),
            "in_sample": apgr(curve([logit(r, full) for r in rows], weak, strong)),
            "weights_fitted_on_all": {k: round(v, 4) for k, v in full.items() if v},
        }
    write_json(args.json, {"machine": machine(), "folds": args.folds, "seeds": args.seeds, "l2": args.l2,
                           "datasets": results})
    print(f"| dataset | prompt length | zero-shot | fitted, {args.folds}-fold CV (mean of {args.seeds} shuffles) "
          "| fitted, in-sample (reference) |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for dataset, r in results.items():
        print(f"| {dataset} | {r['prompt_length']:.3f} | {r['zero_shot']:.3f} | {r['cross_validated']:.3f} "
              f"(per shuffle: {', '.join(f'{x:.3f}' for x in r['cross_validated_per_seed'])}) | {r['in_sample']:.3f} |")
    print(f"\njson: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
