"""Per-decision cost and SDK overhead, side by side with LiteLLM in the same process.

    python bench/decision_cost.py                  # both parts, writes bench/results/decision_cost.json
    python bench/decision_cost.py --quick          # smoke run

1. Per decision: this plugin's classify+select (classifier plus the pure selector over a four-deployment
   catalogue) beside LiteLLM's complexity router ``classify`` on the same 10-, 100- and 2,000-word
   prompts; p50 and p99 in microseconds.
2. SDK overhead: ``Router.acompletion`` on ``mock_response`` deployments through the plugin (with its
   in-process budget ledger) versus LiteLLM's default ``simple-shuffle`` on the same deployments;
   sequential calls; each router in its own process (LiteLLM's callback list is global to a
   process), rounds alternating between the two; median of the paired rounds' ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import RESULTS, machine, write_json

# Neutral working prose (no benchmark prompts), cut to the word counts the issue names.
_PROSE = (
    "Please read the notes below from our planning meeting and tell me which action items are still open. "
    "The team discussed the release calendar, the hiring plan for the support group, and the budget for "
    "the new office. Sam will send the revised calendar on Friday, Lee owns the interview schedule, and "
    "the finance lead asked for a short summary of last quarter's travel costs before the next review. "
    "We also agreed to move the weekly sync to Tuesday mornings and to keep the notes in the shared folder. "
).split()


def prompt_of(words: int) -> str:
    return " ".join((_PROSE * (words // len(_PROSE) + 1))[:words])


def timed(fn: Callable[[], object], iterations: int) -> tuple[float, float]:
    for _ in range(min(200, iterations)):
        fn()
    samples = []
    gc.disable()
    try:
        for _ in range(iterations):
            t0 = time.perf_counter_ns()
            fn()
            samples.append(time.perf_counter_ns() - t0)
    finally:
        gc.enable()
    samples.sort()
    return samples[len(samples) // 2] / 1000, samples[int(len(samples) * 0.99)] / 1000


def decision_cost(quick: bool) -> list[dict]:
    from litellm_slm_router import Budget, Catalogue, RoutingPolicy, TaskComplexityClassifier, select
    from litellm_slm_router.adapters.tokens import prompt_bound
    from litellm_slm_router.core.budget import estimate_prompt_tokens
    from litellm_slm_router.core.selector import PolicyView

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from routing_quality import litellm_complexity_router

    catalogue = Catalogue.from_model_list([
        {"model_name": "auto", "litellm_params": {"model": "ollama_chat/qwen3:1.7b"},
         "model_info": {"id": "l1", "slm_router": {"max_complexity": "simple"}}},
        {"model_name": "auto", "litellm_params": {"model": "ollama_chat/qwen2.5:7b"},
         "model_info": {"id": "l2", "slm_router": {"max_complexity": "moderate"}}},
        {"model_name": "auto", "litellm_params": {"model": "openai/gpt-4o-mini"},
         "model_info": {"id": "c1", "slm_router": {"max_complexity": "complex"}}},
        {"model_name": "auto", "litellm_params": {"model": "openai/gpt-4o"}, "model_info": {"id": "c2"}},
    ])
    options = catalogue.groups["auto"]
    view = PolicyView(RoutingPolicy())
    budget = Budget(0.10, 10_000)
    classifier = TaskComplexityClassifier()
    theirs = litellm_complexity_router()
    rows = []
    for words, iterations in ((10, 20_000), (100, 10_000), (2000, 1_000)):
        if quick:
            iterations = max(30, iterations // 200)  # a smoke run: the shape of the result, not its figures
        text = prompt_of(words)
        messages = [{"role": "user", "content": text}]
        tokens = estimate_prompt_tokens(messages)

        def ours(messages=messages, tokens=tokens) -> object:
            return select(classifier.assess(messages), options, view, budget, model_group="auto",
                          prompt_tokens=tokens)

        def litellm_classify(text=text) -> object:
            return theirs.classify(text)

        def classify_only(messages=messages) -> object:
            return classifier.assess(messages)

        def counted(messages=messages) -> object:
            # What the strategy does per request since issue #14: LiteLLM's token count and the bound.
            count, bound = prompt_bound(messages)
            return select(classifier.assess(messages), options, view, budget, model_group="auto",
                          prompt_tokens=count, prompt_token_bound=bound)

        # Interleave the three so drift hits all alike; report each one's median over the rounds.
        rounds: dict[str, list[tuple[float, float]]] = {"ours": [], "counted": [], "classify": [], "litellm": []}
        for _ in range(3):
            rounds["ours"].append(timed(ours, iterations))
            rounds["counted"].append(timed(counted, iterations))
            rounds["classify"].append(timed(classify_only, iterations))
            rounds["litellm"].append(timed(litellm_classify, iterations))
        med = {k: (statistics.median(r[0] for r in v), statistics.median(r[1] for r in v)) for k, v in rounds.items()}
        rows.append({"words": words, "iterations": iterations,
                     "classify_select_p50_us": med["ours"][0], "classify_select_p99_us": med["ours"][1],
                     "classify_only_p50_us": med["classify"][0],
                     "count_classify_select_p50_us": med["counted"][0],
                     "litellm_classify_p50_us": med["litellm"][0], "litellm_classify_p99_us": med["litellm"][1],
                     "speedup_p50": med["litellm"][0] / med["ours"][0],
                     "speedup_counted_p50": med["litellm"][0] / med["counted"][0]})
    return rows


MODEL_LIST = [
    {"model_name": "auto", "litellm_params": {"model": "ollama_chat/qwen3:1.7b", "mock_response": "local"},
     "model_info": {"id": "l1", "slm_router": {"max_complexity": "simple"}}},
    {"model_name": "auto", "litellm_params": {"model": "ollama_chat/qwen2.5:7b", "mock_response": "local 7b"},
     "model_info": {"id": "l2", "slm_router": {"max_complexity": "moderate"}}},
    {"model_name": "auto", "litellm_params": {"model": "openai/gpt-4o-mini", "api_key": "sk-x",
                                              "mock_response": "cloud mini"},
     "model_info": {"id": "c1", "slm_router": {"max_complexity": "complex"}}},
    {"model_name": "auto", "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-x", "mock_response": "cloud"},
     "model_info": {"id": "c2"}},
]


async def _round(router, calls: int, offset: int) -> list[float]:
    messages = [{"role": "user", "content": "hi, what's the capital of Portugal?"}]
    latencies = []
    for i in range(calls):
        t0 = time.perf_counter()
        await router.acompletion(model="auto", messages=messages, max_tokens=32,
                                 metadata={"task_id": f"task-{(offset + i) % 100}"})
        latencies.append(time.perf_counter() - t0)
    return latencies


def sdk_worker(kind: str, calls: int) -> None:
    """One process, one router, running a round of calls each time it reads a line on stdin and
    printing that round's median latency and throughput. One router per process because LiteLLM's
    callback list is process-global: a plain router in the plugin's process would also run the
    plugin's callback."""
    import litellm

    if kind == "litellm-slm-router":
        from litellm_slm_router import RoutingPolicy, install

        router = litellm.Router(model_list=[dict(d) for d in MODEL_LIST])
        install(router, RoutingPolicy(max_cost_per_task_usd=1000.0, max_tokens_per_task=None))
    else:
        # The plugin sends this simple prompt to the first (local) deployment every time. LiteLLM's
        # own per-call work depends on the deployment (its cost lookup for an Ollama model that is
        # not in its price map takes about a millisecond, for an OpenAI model microseconds), so the
        # baseline has the same four deployments with only the first one in the "auto" group: both
        # routers then make the same call and the ratio is the plugin's own cost.
        router = litellm.Router(model_list=[dict(d) if i == 0 else {**d, "model_name": "others"}
                                            for i, d in enumerate(MODEL_LIST)])

    async def serve() -> None:
        warm = await router.acompletion(model="auto", messages=[{"role": "user", "content": "hi"}], max_tokens=8)
        assert warm.model.endswith(MODEL_LIST[0]["litellm_params"]["model"].split("/")[-1]), warm.model
        await _round(router, 100, 0)
        print("ready", flush=True)
        for n, _ in enumerate(sys.stdin):
            latencies = await _round(router, calls, n * calls)
            print(json.dumps([statistics.median(latencies), len(latencies) / sum(latencies)]), flush=True)

    asyncio.run(serve())


def sdk_overhead(quick: bool) -> dict:
    """Both routers' processes stay up; rounds alternate between them (ABBA order), so drift on the
    machine hits both alike, and each pair of neighbouring rounds gives one ratio."""
    calls, rounds = (40, 1) if quick else (500, 12)
    kinds = ("simple-shuffle", "litellm-slm-router")
    workers = {kind: subprocess.Popen([sys.executable, __file__, "--sdk-worker", kind, "--calls", str(calls)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for kind in kinds}
    out: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
    try:
        for worker in workers.values():
            assert worker.stdout is not None and worker.stdout.readline().strip() == "ready"
        for r in range(rounds):
            for kind in (kinds if r % 2 == 0 else kinds[::-1]):
                worker = workers[kind]
                assert worker.stdin is not None and worker.stdout is not None
                worker.stdin.write("round\n")
                worker.stdin.flush()
                median, throughput = json.loads(worker.stdout.readline())
                out[kind].append((median, throughput))
    finally:
        for worker in workers.values():
            if worker.stdin is not None:
                worker.stdin.close()
            worker.wait(timeout=60)
    summary: dict = {}
    for name, values in out.items():
        summary[name] = {"median_latency_ms": statistics.median(v[0] for v in values) * 1000,
                         "throughput_calls_per_s": statistics.median(v[1] for v in values)}
    plain, ours = out["simple-shuffle"], out["litellm-slm-router"]
    summary["latency_ratio"] = statistics.median(o[0] / p[0] for o, p in zip(ours, plain, strict=True))
    summary["throughput_ratio"] = statistics.median(o[1] / p[1] for o, p in zip(ours, plain, strict=True))
    summary["round_latency_ratios"] = [round(o[0] / p[0], 4) for o, p in zip(ours, plain, strict=True)]
    summary["calls_per_round"], summary["rounds"] = calls, rounds
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--part", choices=("decision", "sdk", "all"), default="all")
    parser.add_argument("--json", type=Path, default=RESULTS / "decision_cost.json")
    parser.add_argument("--sdk-worker", choices=("simple-shuffle", "litellm-slm-router"), help=argparse.SUPPRESS)
    parser.add_argument("--calls", type=int, default=500, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.sdk_worker:
        sdk_worker(args.sdk_worker, args.calls)
        return 0
    result: dict = {"machine": machine()}
    if args.part in ("decision", "all"):
        result["decision"] = decision_cost(args.quick)
        print("| prompt | count+classify+select p50 (us) | speed-up | classify+select p50 (us) | p99 (us) | "
              "classify only p50 (us) | "
              "LiteLLM classify p50 (us) | p99 (us) | speed-up (p50) |")
        print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
        for r in result["decision"]:
            print(f"| {r['words']} words | {r['count_classify_select_p50_us']:.1f} | {r['speedup_counted_p50']:.1f}x "
                  f"| {r['classify_select_p50_us']:.1f} | {r['classify_select_p99_us']:.1f} | "
                  f"{r['classify_only_p50_us']:.1f} | {r['litellm_classify_p50_us']:.1f} | "
                  f"{r['litellm_classify_p99_us']:.1f} | {r['speedup_p50']:.1f}x |")
    if args.part in ("sdk", "all"):
        s = result["sdk"] = sdk_overhead(args.quick)
        print("\n| Router.acompletion (mock deployments) | median latency (ms) | throughput (calls/s) |")
        print("| --- | ---: | ---: |")
        for name in ("simple-shuffle", "litellm-slm-router"):
            print(f"| {name} | {s[name]['median_latency_ms']:.3f} | {s[name]['throughput_calls_per_s']:.0f} |")
        print(f"| ratio plugin / simple-shuffle (median of paired rounds) | {s['latency_ratio']:.3f} | "
              f"{s['throughput_ratio']:.3f} |")
    write_json(args.json, result)
    print(f"\njson: {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
