"""What the learned critical model (core/classifier/critical_model.py) costs per decision, in one process.

    python bench/critical_model_cost.py

For decision_cost.py's prose at 10 / 100 / 2,000 words: the model's own work (features and score),
classify+select with the model deciding and with the word rules alone (``critical: 1.0``; the two
alternating, the order swapped every round), and LiteLLM's heuristic in the same rounds. Each figure
is the median over 6 rounds of a p50.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decision_cost import prompt_of
from routing_quality import litellm_complexity_router

ROUNDS = 6


def p50_us(fn: Callable[[], object], n: int) -> float:
    samples = []
    for _ in range(n):
        start = time.perf_counter_ns()
        fn()
        samples.append(time.perf_counter_ns() - start)
    return statistics.median(samples) / 1000


def main() -> int:
    from litellm_slm_router import (
        Budget,
        Catalogue,
        ClassifierThresholds,
        RoutingPolicy,
        TaskComplexityClassifier,
        select,
    )
    from litellm_slm_router.core.budget import estimate_prompt_tokens
    from litellm_slm_router.core.classifier.critical_model import model_features
    from litellm_slm_router.core.classifier.text import words
    from litellm_slm_router.core.selector import PolicyView

    def deployment(model: str, id_: str, level: str | None) -> dict:
        info: dict = {"id": id_}
        if level:
            info["slm_router"] = {"max_complexity": level}
        return {"model_name": "auto", "litellm_params": {"model": model}, "model_info": info}

    options = Catalogue.from_model_list([
        deployment("ollama_chat/qwen3:1.7b", "l1", "simple"), deployment("ollama_chat/qwen2.5:7b", "l2", "moderate"),
        deployment("openai/gpt-4o-mini", "c1", "complex"), deployment("openai/gpt-4o", "c2", None),
    ]).groups["auto"]
    view, budget = PolicyView(RoutingPolicy()), Budget(0.10, 10_000)
    theirs = litellm_complexity_router()
    rules_alone = TaskComplexityClassifier(ClassifierThresholds(critical=1.0))
    classifiers = {"on": TaskComplexityClassifier(), "off": rules_alone}
    model = classifiers["on"].critical_model

    print("| prompt | model's own work (us) | classify+select, rules alone (us) | with the model (us) | ratio "
          "| LiteLLM classify (us) | with the model vs LiteLLM |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for count, n in ((10, 5000), (100, 3000), (2000, 300)):
        text = prompt_of(count)
        messages = [{"role": "user", "content": text}]
        tokens = estimate_prompt_tokens(messages)
        lower = text.lower()

        def ours(mode: str, messages: list = messages, tokens: int = tokens) -> object:
            return select(classifiers[mode].assess(messages), options, view, budget, model_group="auto",
                          prompt_tokens=tokens)

        def own(text: str = text, lower: str = lower, ask_words: list = words(lower)) -> float:  # noqa: B008
            return model.probability(model_features(text, lower, ask_words, frozenset(ask_words), ()))

        runs: dict[str, list[float]] = {"call": [], "on": [], "off": [], "litellm": []}
        for round_ in range(ROUNDS):
            for mode in (("on", "off") if round_ % 2 == 0 else ("off", "on")):
                runs[mode].append(p50_us(lambda mode=mode: ours(mode), n))
            runs["call"].append(p50_us(own, n))
            runs["litellm"].append(p50_us(lambda text=text: theirs.classify(text), n))
        m = {k: statistics.median(v) for k, v in runs.items()}
        print(f"| {count} words | {m['call']:.1f} | {m['off']:.1f} | {m['on']:.1f} | {m['on'] / m['off']:.2f}x | "
              f"{m['litellm']:.1f} | {m['litellm'] / m['on']:.1f}x faster |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
