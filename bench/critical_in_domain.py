"""Critical detection with an operator's own labels: ``slm-router train-critical``, cross-validated.

    python bench/critical_in_domain.py        # writes bench/results/critical_in_domain.json

Each held-out set (critical_independent_5, _6, _7: never in the shipped model's training data) stands
for one operator's traffic. It is shuffled (fixed seed) into 5 folds; for each fold the shipped model
is re-fitted (``fit_critical``, as ``train-critical`` does; ``--l2`` as there, 150 steps) on the other four
folds, or on only the first N of their lines (a smaller labelling effort), and scores the held-out
fold. Recall and precision are pooled over the held-out folds and set beside the shipped model's on
the same prompts. No prompt is scored by a model that saw its label.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, ROOT, write_json

SETS = ("critical_independent_5.jsonl", "critical_independent_6.jsonl", "critical_independent_7.jsonl")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--budgets", default="50,100,all", help="labelled lines a fold trains on")
    parser.add_argument("--l2", type=float, default=0.01, help="train-critical's --l2 (default 0.01)")
    parser.add_argument("--json", type=Path, default=RESULTS / "critical_in_domain.json")
    args = parser.parse_args()

    from litellm_slm_router.core.classifier import TaskComplexityClassifier, critical_features_of, critical_weights
    from litellm_slm_router.core.classifier.critical_fit import fit_critical
    from litellm_slm_router.core.classifier.critical_model import CriticalModel
    from litellm_slm_router.core.levels import TaskComplexity

    shipped = TaskComplexityClassifier()
    budgets = [None if b == "all" else int(b) for b in args.budgets.split(",")]
    results: dict = {}

    def figures(got: list[bool], labels: list[bool]) -> dict:
        tp = sum(g and y for g, y in zip(got, labels, strict=True))
        return {"recall": round(tp / max(sum(labels), 1), 3), "precision": round(tp / max(sum(got), 1), 3)}

    for name in SETS:
        rows = [json.loads(line) for line in (ROOT / "tests" / "data" / name).read_text(encoding="utf-8").splitlines()
                if line.strip()]
        prompts, labels = [r["prompt"] for r in rows], [bool(r["critical"]) for r in rows]
        found = [critical_features_of(p) for p in prompts]
        order = list(range(len(rows)))
        random.Random(18).shuffle(order)
        entry = {"prompts": len(rows), "shipped": figures(
            [shipped.assess(p).complexity is TaskComplexity.CRITICAL for p in prompts], labels)}
        for budget in budgets:
            got = [False] * len(rows)
            for fold in range(args.folds):
                held = order[fold::args.folds]
                train = [i for i in order if i not in set(held)][:budget]
                weights = fit_critical([(found[i], labels[i]) for i in train if found[i] is not None],
                                       critical_weights.WEIGHTS, critical_weights.BIAS, l2=args.l2)
                model = TaskComplexityClassifier(critical_model=CriticalModel(weights, critical_weights.BIAS))
                for i in held:
                    got[i] = model.assess(prompts[i]).complexity is TaskComplexity.CRITICAL
            entry[f"refitted_{budget or 'all'}"] = figures(got, labels)
        results[name] = entry
        print(name, entry, flush=True)

    write_json(args.json, {"folds": args.folds, "budgets": args.budgets, "l2": args.l2, "sets": results})
    labels_row = " | ".join(f"re-fitted on {b} lines" if b != "all" else "re-fitted on 4 folds" for b in
                            args.budgets.split(","))
    print(f"\n| set | shipped model | {labels_row} |")
    print("| --- | ---: |" + " ---: |" * len(budgets))
    for name, entry in results.items():
        cells = [entry["shipped"]] + [entry[f"refitted_{b or 'all'}"] for b in budgets]
        print(f"| {name} ({entry['prompts']}) | " + " | ".join(f"{c['recall']:.3f} / {c['precision']:.3f}"
                                                             for c in cells) + " |")
    print(f"\njson: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
