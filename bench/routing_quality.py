"""Routing quality on RouteLLM's GSM8K and MT-Bench outcomes, beside LiteLLM's complexity router.

    python bench/routing_quality.py                 # full run, writes bench/results/routing_quality.json
    python bench/routing_quality.py --limit 50      # smoke run on the first 50 prompts of each set

For each router score (higher = send to the strong model) the prompts are sorted by score and the
top share goes to the strong model; the share is swept over every threshold. Ties are a random
split: inside a group of equal scores the expected gain grows linearly, so a constant score gives
the diagonal and an APGR of exactly 0.5.

- APGR: area between the curve and the weak model's line / area between strong and weak lines.
- CPT(x): smallest share of strong-model calls that recovers x of the gap.

Routers: this plugin's classifier score, LiteLLM's complexity_router heuristic (`classify`, default
config), prompt length, and a constant score. Also LiteLLM's own complexity eval cases
(`litellm/router_strategy/complexity_router/evals/eval_complexity_router.py`), run through both
routers with the tiers mapped to ours.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from statistics import fmean

sys.path.insert(0, str(Path(__file__).resolve().parent))
import itertools

from _common import DATA, RESULTS, machine, write_json

csv.field_size_limit(1 << 30)


# ---------------------------------------------------------------------------- data


def load_gsm8k(data: Path) -> tuple[list[str], list[float], list[float]]:
    drop = {json.loads(line)["eval_prompt"] for line in (data / "gsm8k_contaminated_prompts.jsonl").open()}
    prompts, weak, strong = [], [], []
    with (data / "gsm8k_responses.csv").open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row["prompt"] in drop:
                continue
            prompts.append(row["prompt"])
            weak.append(1.0 if row["mistralai/Mixtral-8x7B-Instruct-v0.1"] == "True" else 0.0)
            strong.append(1.0 if row["gpt-4-1106-preview"] == "True" else 0.0)
    return prompts, weak, strong


def load_mt_bench(data: Path) -> tuple[list[str], list[float], list[float]]:
    drop = {json.loads(line)["eval_prompt"] for line in (data / "mt_bench_contaminated_prompts.jsonl").open()}
    questions = [json.loads(line) for line in (data / "mt_bench_questions.jsonl").open()]
    scores: dict[tuple[int, str], list[float]] = defaultdict(list)
    for line in (data / "mt_bench_judgements.jsonl").open():
        j = json.loads(line)
        scores[(j["question_id"], j["model"])].append(float(j["score"]))
    prompts, weak, strong = [], [], []
    for q in questions:
        if any(turn in drop for turn in q["turns"]):
            continue
        prompts.append(q["turns"][0])
        weak.append(fmean(scores[(q["question_id"], "mistralai/Mixtral-8x7B-Instruct-v0.1")]))
        strong.append(fmean(scores[(q["question_id"], "gpt-4-1106-preview")]))
    return prompts, weak, strong


# ---------------------------------------------------------------------------- metrics


def curve(scores: Sequence[float], weak: Sequence[float], strong: Sequence[float]) -> list[tuple[float, float]]:
    """(strong share, mean quality) at every threshold, ties split at random (in expectation)."""
    n = len(scores)
    order = sorted(range(n), key=lambda i: -scores[i])
    quality = sum(weak) / n
    points = [(0.0, quality)]
    k = 0
    while k < n:
        j = k
        while j < n and scores[order[j]] == scores[order[k]]:
            j += 1
        group_gain = sum(strong[i] - weak[i] for i in order[k:j]) / (j - k)
        for step in range(k + 1, j + 1):
            quality += group_gain / n
            points.append((step / n, quality))
        k = j
    return points


def apgr(points: list[tuple[float, float]]) -> float:
    weak, strong = points[0][1], points[-1][1]
    area = sum((x2 - x1) * ((y1 + y2) / 2 - weak) for (x1, y1), (x2, y2) in itertools.pairwise(points))
    return area / (strong - weak)


def cpt(points: list[tuple[float, float]], recovered: float) -> float:
    weak, strong = points[0][1], points[-1][1]
    target = weak + recovered * (strong - weak)
    for (x1, y1), (x2, y2) in itertools.pairwise(points):
        if y2 >= target:
            return x1 if y2 == y1 else x1 + (x2 - x1) * (target - y1) / (y2 - y1)
    return 1.0


# ---------------------------------------------------------------------------- routers


def routers() -> dict[str, Callable[[str], float]]:
    from litellm_slm_router import TaskComplexityClassifier

    ours = TaskComplexityClassifier()
    litellm_router = litellm_complexity_router()
    return {
        "litellm-slm-router": lambda p: ours.assess(p).score,
        "LiteLLM complexity_router": lambda p: litellm_router.classify(p)[1],
        "prompt length": lambda p: float(len(p)),
        "constant (random)": lambda p: 0.0,
    }


def litellm_complexity_router():
    from unittest.mock import MagicMock

    from litellm.router_strategy.complexity_router.complexity_router import ComplexityRouter

    # The same construction LiteLLM's own eval uses: default config, no real router needed.
    return ComplexityRouter(model_name="bench", litellm_router_instance=MagicMock())


# ---------------------------------------------------------------------------- LiteLLM's eval cases

# Their tiers -> the levels of ours that count as a pass. Our critical level is about risky
# actions, which their suite does not have; it sends to the strongest model, like REASONING.
OURS_AS_THEIRS = {"simple": {"SIMPLE", "NON_REASONING"}, "moderate": {"MEDIUM"},
                  "complex": {"COMPLEX", "REASONING"}, "critical": {"COMPLEX", "REASONING"}}


def eval_cases() -> dict[str, dict[str, float]]:
    from litellm.router_strategy.complexity_router.evals.eval_complexity_router import EVAL_CASES

    from litellm_slm_router import TaskComplexityClassifier

    ours = TaskComplexityClassifier()
    theirs = litellm_complexity_router()
    passed = {"litellm-slm-router": 0, "LiteLLM complexity_router": 0}
    for case in EVAL_CASES:
        accepted = {case.expected_tier.value} | {t.value for t in (case.acceptable_tiers or [])}
        messages = ([{"role": "system", "content": case.system_prompt}] if case.system_prompt else []) + [
            {"role": "user", "content": case.prompt}]
        if OURS_AS_THEIRS[ours.assess(messages).complexity.value] & accepted:
            passed["litellm-slm-router"] += 1
        if theirs.classify(case.prompt, case.system_prompt)[0].value in accepted:
            passed["LiteLLM complexity_router"] += 1
    return {name: {"passed": n, "total": len(EVAL_CASES), "rate": n / len(EVAL_CASES)} for name, n in passed.items()}


# ---------------------------------------------------------------------------- report


def chart(curves: dict[str, dict[str, list[tuple[float, float]]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(curves), figsize=(6 * len(curves), 4.6))
    for ax, (dataset, by_router) in zip(axes, curves.items(), strict=True):
        for name, points in by_router.items():
            xs = [p[0] * 100 for p in points]
            ys = [p[1] for p in points]
            ax.plot(xs, ys, label=f"{name} (APGR {apgr(points):.3f})",
                    linestyle="--" if name.startswith("constant") else "-", linewidth=1.6)
        ax.set_title(f"{dataset}: quality vs strong-model share")
        ax.set_xlabel("calls sent to the strong model (%)")
        ax.set_ylabel("accuracy" if dataset == "GSM8K" else "mean judge score (1-10)")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=None, help="use only the first N prompts of each set")
    parser.add_argument("--json", type=Path, default=RESULTS / "routing_quality.json")
    parser.add_argument("--chart", type=Path, default=RESULTS / "cost_quality.png")
    args = parser.parse_args(argv)

    scorers = routers()
    results: dict[str, dict] = {}
    curves: dict[str, dict[str, list[tuple[float, float]]]] = {}
    for dataset, loader in (("GSM8K", load_gsm8k), ("MT-Bench", load_mt_bench)):
        prompts, weak, strong = loader(args.data)
        if args.limit:
            prompts, weak, strong = prompts[: args.limit], weak[: args.limit], strong[: args.limit]
        results[dataset] = {"prompts": len(prompts), "weak": fmean(weak), "strong": fmean(strong), "routers": {}}
        curves[dataset] = {}
        for name, score in scorers.items():
            points = curve([score(p) for p in prompts], weak, strong)
            curves[dataset][name] = points
            results[dataset]["routers"][name] = {"apgr": apgr(points), "cpt50": cpt(points, 0.5),
                                                 "cpt80": cpt(points, 0.8)}
    cases = eval_cases()
    chart(curves, args.chart)
    write_json(args.json, {"machine": machine(), "datasets": results, "litellm_eval_cases": cases})

    print("| router | GSM8K APGR | GSM8K CPT(50%) | GSM8K CPT(80%) | MT-Bench APGR | MT-Bench CPT(50%) | "
          "MT-Bench CPT(80%) |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name in scorers:
        g, m = results["GSM8K"]["routers"][name], results["MT-Bench"]["routers"][name]
        print(f"| {name} | {g['apgr']:.3f} | {g['cpt50']:.1%} | {g['cpt80']:.1%} | {m['apgr']:.3f} | "
              f"{m['cpt50']:.1%} | {m['cpt80']:.1%} |")
    for dataset, r in results.items():
        print(f"\n{dataset}: {r['prompts']} prompts, weak {r['weak']:.3f}, strong {r['strong']:.3f}")
    print("\nLiteLLM complexity eval cases (tiers mapped to ours):")
    for name, c in cases.items():
        print(f"- {name}: {c['passed']}/{c['total']} ({c['rate']:.1%})")
    print(f"\nchart: {args.chart}\njson:  {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
