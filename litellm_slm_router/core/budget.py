"""Budget arithmetic: pure functions of prices, token counts and what is left of a task's caps."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from litellm_slm_router.core.classifier import ask_text

__all__ = ["Budget", "OutputAllowance", "estimate_prompt_tokens", "output_allowance"]

# Tokens a chat template adds per message (role markers, separators), as OpenAI documents it.
_TOKENS_PER_MESSAGE = 4
# Characters per token of English prose for BPE tokenizers; non-ASCII text is counted per byte.
_CHARS_PER_TOKEN = 3.0


class Budget(NamedTuple):
    """What is left of a task's caps. ``None`` means no cap."""

    cost_usd: float | None = None
    tokens: int | None = None


# (output tokens a call may use on one deployment, its worst-case cost, why it cannot run or '').
# A plain tuple: this is computed for every candidate of every request.
OutputAllowance = tuple[int, float, str]


def estimate_prompt_tokens(messages: Sequence[Any] | str | None) -> int:
    """A quick, deliberately generous estimate of a prompt's token count (no tokenizer call)."""
    if messages is None:
        return 0
    if isinstance(messages, str):
        texts: list[str] = [messages]
        count = 1
    else:
        texts = []
        count = 0
        for m in messages:
            if isinstance(m, Mapping):
                texts.append(ask_text(m.get("content")))
                count += 1
    tokens = 0
    for t in texts:
        tokens += math.ceil(len(t) / _CHARS_PER_TOKEN) if t.isascii() else len(t.encode())
    return tokens + _TOKENS_PER_MESSAGE * count + 3


def output_allowance(
    prompt_tokens: int,
    requested_max_tokens: int | None,
    input_cost_per_token: float,
    output_cost_per_token: float,
    max_context: int,
    max_output_tokens: int | None,
    budget: Budget,
    min_output_tokens: int,
    default_max_tokens: int | None = None,
    choices: int = 1,
) -> OutputAllowance:
    """Output tokens a call may use on a deployment (per choice), its worst-case cost, and why it cannot run.

    ``prompt_tokens`` is the prompt's upper bound on this deployment. With ``requested_max_tokens``
    the call must fit as asked. Without it the allowance is ``default_max_tokens`` (no more than the
    deployment's output limit and context window allow), lowered to what the remaining token and
    cost budgets can pay for, and it must reach ``min_output_tokens``. ``choices`` (the request's
    ``n``) multiplies the output: every choice is billed.
    """
    prompt_cost = prompt_tokens * input_cost_per_token
    cost_left, tokens_left = budget
    if requested_max_tokens is not None:
        out = requested_max_tokens
        tokens = prompt_tokens + out * choices
        cost = prompt_cost + out * choices * output_cost_per_token
        if tokens_left is not None and tokens > tokens_left:
            return (out, cost, f"token budget: {prompt_tokens} prompt + {out * choices} output "
                               f"(max_tokens {out} x n {choices}) > {tokens_left} left")
        if cost_left is not None and cost > cost_left:
            return (out, cost, f"cost budget: projected ${cost:.6f} > ${cost_left:.6f} left")
        return (out, cost, "")

    out = max_context - prompt_tokens
    if max_output_tokens is not None:
        out = min(out, max_output_tokens)
    if default_max_tokens is not None:
        out = min(out, default_max_tokens)
    if tokens_left is not None:
        out = min(out, (tokens_left - prompt_tokens) // choices)
        if out < min_output_tokens:
            return (max(out, 0), prompt_cost,
                    f"token budget: {tokens_left} left, prompt needs {prompt_tokens} + "
                    f"{min_output_tokens * choices} output")
    if cost_left is not None and (input_cost_per_token or output_cost_per_token):
        left = cost_left - prompt_cost
        affordable = math.floor(left / (output_cost_per_token * choices)) if output_cost_per_token else out
        if left < 0 or affordable < min_output_tokens:
            minimal = prompt_cost + min_output_tokens * choices * output_cost_per_token
            return (max(min(out, affordable), 0), minimal,
                    f"cost budget: ${cost_left:.6f} left, a minimal call costs ${minimal:.6f}")
        out = min(out, affordable)
    return (out, prompt_cost + out * choices * output_cost_per_token, "")
