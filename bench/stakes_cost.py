"""What the stakes backstop (core/classifier/stakes.py) costs per decision, side by side in one process.

    python bench/stakes_cost.py

For decision_cost.py's prose at 10 / 100 / 2,000 words: the backstop's own call, classify+select
with it and with it switched off (the two alternating, the order swapped every round), and LiteLLM's
heuristic in the same rounds. Each figure is the median over 6 rounds of a p50.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterator
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


def compare(n: int, timed: Callable[[str], Callable[[], object]], call: Callable[[], object],
            litellm: Callable[[], object]) -> dict[str, float]:
    """Medians over ROUNDS of p50s: ``timed("on")`` and ``timed("off")`` alternating (the order swapped
    every round), the component's own ``call`` and LiteLLM's heuristic in the same rounds."""
    runs: dict[str, list[float]] = {"call": [], "on": [], "off": [], "litellm": []}
    for round_ in range(ROUNDS):
        for mode in (("on", "off") if round_ % 2 == 0 else ("off", "on")):
            runs[mode].append(p50_us(timed(mode), n))
        runs["call"].append(p50_us(call, n))
        runs["litellm"].append(p50_us(litellm, n))
    return {k: statistics.median(v) for k, v in runs.items()}


def row(count: int, m: dict[str, float]) -> str:
    return (f"| {count} words | {m['call']:.1f} | {m['off']:.1f} | {m['on']:.1f} | {m['on'] / m['off']:.2f}x | "
            f"{m['litellm']:.1f} | {m['litellm'] / m['on']:.1f}x faster |")


def cases() -> Iterator[tuple[int, int, str, list, int]]:
    """decision_cost.py's prose at 10 / 100 / 2,000 words: (words, timed calls, text, messages, tokens)."""
    from litellm_slm_router.core.budget import estimate_prompt_tokens

    for count, n in ((10, 5000), (100, 3000), (2000, 300)):
        text = prompt_of(count)
        messages = [{"role": "user", "content": text}]
        yield count, n, text, messages, estimate_prompt_tokens(messages)


def selection_setup() -> tuple:
    """decision_cost.py's four-deployment catalogue, the default policy's view and a task budget."""
    from litellm_slm_router import Budget, Catalogue, RoutingPolicy
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
    return options, PolicyView(RoutingPolicy()), Budget(0.10, 10_000)


def main() -> int:
    import litellm_slm_router.core.classifier as classifier_module
    from litellm_slm_router import TaskComplexityClassifier, select
    from litellm_slm_router.core.classifier.stakes import stakes_action
    from litellm_slm_router.core.classifier.text import words

    options, view, budget = selection_setup()
    classifier, theirs = TaskComplexityClassifier(), litellm_complexity_router()

    def off(lower: str, word_set: frozenset[str]) -> str:
        return ""

    print("| prompt | backstop call (us) | classify+select, off (us) | on (us) | ratio | LiteLLM classify (us) "
          "| on vs LiteLLM |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for count, n, text, messages, tokens in cases():
        lower = text.lower()
        word_set = frozenset(words(lower))

        def ours(messages: list = messages, tokens: int = tokens) -> object:
            return select(classifier.assess(messages), options, view, budget, model_group="auto",
                          prompt_tokens=tokens)

        def timed(mode: str, ours: Callable[[], object] = ours) -> Callable[[], object]:
            classifier_module.stakes_action = stakes_action if mode == "on" else off
            return ours

        m = compare(n, timed, lambda lower=lower, word_set=word_set: stakes_action(lower, word_set),
                    lambda text=text: theirs.classify(text))
        classifier_module.stakes_action = stakes_action
        print(row(count, m))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
