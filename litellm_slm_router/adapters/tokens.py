"""Prompt token bounds, counted with LiteLLM's own token counter (a LiteLLM adapter).

A call's reservation and its context-window check use one number per deployment: an upper bound
of the prompt's tokens on that deployment. It is LiteLLM's count (``litellm.token_counter``: system
and user text, tool schemas and calls, images at their documented token cost) with a stated
safety margin, because LiteLLM counts with its own tokenizer (tiktoken's ``cl100k_base`` for most
models, the bundled Claude tokenizer for old Anthropic models), not necessarily the deployment's:

    bound = min(UTF-8 bytes of the text + overhead,                      # text only
                ceil(1.25 * LiteLLM's count) + digits + whitespace runs
                + punctuation runs + overhead)
    overhead = 8 per message + 8

``cl100k_base`` groups up to three digits, runs of spaces, tabs or newlines and runs of
punctuation into one token, while other tokenizers (Gemma's, Llama's) may spend one token per
character on them: hence the character allowance. Byte-level and byte-fallback tokenizers never
need more than one token per byte, hence the byte bound. BENCHMARKS.md ("prompt token bounds")
shows the bound against the real token counts of Gemma 3 and of tiktoken on several hundred varied
prompts; it is never below them there.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

from litellm_slm_router.core.classifier import ask_text
from litellm_slm_router.core.options import ModelOption

__all__ = ["MARGIN", "answer_text", "count_for", "count_tokens", "prompt_bound", "text_bound", "tokenizer_for"]

MARGIN = 1.25
PER_MESSAGE = 8
PER_PROMPT = 8
# What cl100k_base packs into one token that another tokenizer may spend a token per character on.
_DENSE_RUNS = re.compile(r"\d|\s{2,}|[^\w\s]{2,}")
_TEXT_PART_TYPES = frozenset({"text", "input_text", "output_text"})


def tokenizer_for(model: str) -> str:
    """The tokenizer LiteLLM counts ``model`` with, among those available offline: 'anthropic' or 'openai'.

    LiteLLM would download the Llama and Cohere tokenizers from a model hub; the plugin never does
    I/O on the request path, so those models are counted with the default one (and the margin).
    """
    from litellm.utils import huggingface_tokenizer_kind

    bare = model.split("/", 1)[-1]
    return "anthropic" if huggingface_tokenizer_kind(bare) == "anthropic" else "openai"


def _custom_tokenizer(kind: str) -> dict[str, Any]:
    from litellm.utils import _get_default_encoding, _select_tokenizer

    if kind == "anthropic":
        return dict(_select_tokenizer("claude-2.1"))
    return {"type": "openai_tokenizer", "tokenizer": _get_default_encoding()}


_TOKENIZERS: dict[str, dict[str, Any]] = {}


def _as_messages(prompt: Any) -> list[dict[str, Any]] | None:
    """Chat messages for LiteLLM's counter (the Responses API's input items become messages)."""
    if isinstance(prompt, str):
        return [{"role": "user", "content": prompt}]
    if not isinstance(prompt, Sequence):
        return None
    messages = []
    for item in prompt:
        if not isinstance(item, Mapping):
            continue
        content = item.get("content")
        if isinstance(content, list):  # Responses API parts: input_text / input_image
            parts = []
            for part in content:
                if not isinstance(part, Mapping):
                    continue
                kind = part.get("type")
                if kind in _TEXT_PART_TYPES:
                    parts.append({"type": "text", "text": str(part.get("text") or "")})
                elif kind in ("image_url", "input_image"):
                    url = part.get("image_url")
                    url = url.get("url") if isinstance(url, Mapping) else url
                    parts.append({"type": "image_url", "image_url": {"url": str(url or ""),
                                                                     "detail": part.get("detail") or "auto"}})
            content = parts
        elif content is not None and not isinstance(content, str):
            content = str(content)
        message = {"role": str(item.get("role") or "user"), "content": content}
        for key in ("tool_calls", "function_call", "name"):
            if item.get(key) is not None:
                message[key] = item[key]
        messages.append(message)
    return messages


def count_tokens(prompt: Any, tools: Any = None, tokenizer: str = "openai") -> int:
    """LiteLLM's token count of a prompt (messages, a text, or Responses API input) and its tools."""
    from litellm import token_counter

    custom = _TOKENIZERS.get(tokenizer)
    if custom is None:
        custom = _TOKENIZERS[tokenizer] = _custom_tokenizer(tokenizer)
    messages = _as_messages(prompt)
    if not messages:
        return 0
    return int(token_counter(custom_tokenizer=custom, messages=messages,
                             tools=tools if isinstance(tools, list) and tools else None,
                             use_default_image_token_count=True))


def _texts(prompt: Any) -> tuple[list[str], bool]:
    """The prompt's texts, and whether it has anything else (images, tool calls) the bytes do not cover."""
    if isinstance(prompt, str):
        return [prompt], False
    texts, other = [], False
    for item in prompt if isinstance(prompt, Sequence) else ():
        if not isinstance(item, Mapping):
            continue
        content = item.get("content")
        texts.append(ask_text(content))
        if isinstance(content, list) and any(isinstance(p, Mapping) and p.get("type") not in _TEXT_PART_TYPES
                                             for p in content):
            other = True
        if item.get("tool_calls") or item.get("function_call"):
            other = True
    return texts, other


def prompt_bound(prompt: Any, tools: Any = None, tokenizer: str = "openai") -> tuple[int, int]:
    """(LiteLLM's count, the upper bound the plugin reserves and fits context windows with)."""
    texts, other = _texts(prompt)
    messages = 1 if isinstance(prompt, str) else max(1, len(texts))
    overhead = PER_MESSAGE * messages + PER_PROMPT
    dense = sum(len(m.group()) for text in texts for m in _DENSE_RUNS.finditer(text))
    try:
        counted = count_tokens(prompt, tools, tokenizer)
    except Exception:  # text LiteLLM's counter cannot encode (a lone surrogate): bytes bound it
        counted = sum(len(t.encode("utf-8", "surrogatepass")) for t in texts)
    bound = math.ceil(MARGIN * counted) + dense + overhead
    if not other and not tools:
        bound = min(bound, sum(len(t.encode("utf-8", "surrogatepass")) for t in texts) + overhead)
    return counted, bound


def text_bound(text: str, tokenizer: str = "openai") -> int:
    """An upper bound of the tokens of a model's answer ``text`` (the prompt bound without message overhead)."""
    if not text:
        return 0
    return prompt_bound(text, None, tokenizer)[1] - PER_MESSAGE - PER_PROMPT


def answer_text(response: Any) -> str:
    """Everything a response's choices (or Responses API output) carry that a provider bills as output:
    content, reasoning, refusals and tool calls."""
    parts: list[str] = []
    for choice in getattr(response, "choices", None) or ():
        message = getattr(choice, "message", None) or getattr(choice, "delta", None)
        for key in ("content", "reasoning_content", "refusal"):
            value = getattr(message, key, None)
            if isinstance(value, str):
                parts.append(value)
        for call in getattr(message, "tool_calls", None) or ():
            function = getattr(call, "function", None)
            parts.extend(str(getattr(function, key, None) or "") for key in ("name", "arguments"))
        text = getattr(choice, "text", None)  # a text completion
        if isinstance(text, str):
            parts.append(text)
    for item in getattr(response, "output", None) or ():  # the Responses API
        for part in getattr(item, "content", None) or ():
            text = getattr(part, "text", None)
            if isinstance(text, str):
                parts.append(text)
        for key in ("arguments", "name"):
            value = getattr(item, key, None)
            if isinstance(value, str):
                parts.append(value)
    return "\n".join(parts)


def count_for(prompt: Any, tools: Any, options: Sequence[ModelOption]
                  ) -> tuple[int, int, dict[str, int] | None]:
    """(LiteLLM's count, bound, per-deployment bounds when the candidates' tokenizers differ).

    The prompt is counted once per tokenizer; the count and bound are the largest over them.
    """
    by_tokenizer = {option.tokenizer: prompt_bound(prompt, tools, option.tokenizer) for option in options}
    count, bound = max(by_tokenizer.values(), default=(0, 0))
    if len(by_tokenizer) <= 1:
        return count, bound, None
    return count, bound, {o.deployment_id: by_tokenizer[o.tokenizer][1] for o in options}
