"""The shape a request to a managed group must have before the plugin routes it (the proxy's pre-check).

Everything a client can get wrong in the body is refused here with :class:`InvalidRequestError`
(HTTP 400) and a message that names the field and what to send instead, so that no malformed request
reaches the router, the ledger or a provider (where it would become a 5xx, or be billed):

- messages: a non-empty list of objects with a known role and string or typed-part content; text parts
  carry text, image parts a URL, tool messages their ``tool_call_id``, ``tool_calls`` a list;
- ``prompt`` (/v1/completions) and ``input`` (/v1/responses): non-empty, of the types the route takes;
- no string the client sends (in messages, prompt, input, tools, metadata, any field, at any depth)
  holds a lone UTF-16 surrogate: JSON can carry one (``"\\ud800"``), but it is not Unicode text, and
  no provider can be sent it (LiteLLM's provider call fails to encode it: a 500);
- ``stream`` is a boolean and ``stream_options`` an object sent with ``stream: true``;
- ``tools`` a list of tool objects (a function tool names its function), and ``tool_choice`` comes with
  tools;
- output bounds (``max_tokens``, ``max_completion_tokens``, ``max_output_tokens``) no larger than what
  the largest deployment of the group can produce.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from litellm_slm_router.core.caps import OUTPUT_KEYS
from litellm_slm_router.core.errors import InvalidRequestError
from litellm_slm_router.core.options import ModelOption

__all__ = ["check_output_bounds", "check_request"]

_ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})
# Content part types LiteLLM passes on (OpenAI's, and those LiteLLM maps for other providers).
_PART_TYPES = frozenset({"text", "image_url", "input_audio", "audio_url", "video_url", "file", "document",
                         "refusal", "thinking", "redacted_thinking", "input_text", "input_image", "input_file",
                         "output_text"})
# What LiteLLM adds to the request before the hook (its copy of the body, its logging object): not the client's.
_NOT_CLIENT = frozenset({"proxy_server_request", "litellm_logging_obj"})
_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse(message: str) -> InvalidRequestError:
    return InvalidRequestError(message)


def _check_part(part: Any, where: str) -> None:
    if not isinstance(part, Mapping):
        raise _refuse(f"{where} must be an object such as {{\"type\": \"text\", \"text\": ...}}, got "
                      f"{type(part).__name__}")
    kind = part.get("type")
    if not isinstance(kind, str):
        raise _refuse(f"{where}.type is missing: every content part names its type, e.g. "
                      "{\"type\": \"text\", \"text\": ...}")
    if kind not in _PART_TYPES:
        raise _refuse(f"{where}.type must be one of {', '.join(sorted(_PART_TYPES))}, got {kind!r}")
    if kind in ("text", "input_text", "output_text") and not isinstance(part.get("text"), str):
        raise _refuse(f"{where}.text must be a string (a {kind} part carries its text), got "
                      f"{type(part.get('text')).__name__}")
    if kind == "image_url":
        image = part.get("image_url")
        url = image.get("url") if isinstance(image, Mapping) else image
        if not isinstance(url, str) or not url:
            raise _refuse(f"{where}.image_url must be {{\"url\": \"https://... or data:image/...;base64,...\"}} "
                          "(or that URL as a string)")


def check_messages(messages: Any) -> None:
    """Chat messages: a non-empty list of well-formed message objects."""
    if not isinstance(messages, list) or not messages:
        raise _refuse("'messages' must be a non-empty list of {\"role\": ..., \"content\": ...} objects")
    for i, message in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(message, Mapping):
            raise _refuse(f"{where} must be an object with 'role' and 'content', got {type(message).__name__}")
        role = message.get("role")
        if role not in _ROLES:
            raise _refuse(f"{where}.role must be one of {', '.join(sorted(_ROLES))}, got {role!r}")
        tool_calls = message.get("tool_calls")
        if tool_calls is not None and not (isinstance(tool_calls, list)
                                           and all(isinstance(c, Mapping) for c in tool_calls)):
            raise _refuse(f"{where}.tool_calls must be a list of tool-call objects "
                          "({\"id\": ..., \"type\": \"function\", \"function\": {...}}), got "
                          f"{type(tool_calls).__name__}")
        if role == "tool" and not (isinstance(message.get("tool_call_id"), str) and message["tool_call_id"]):
            raise _refuse(f"{where}.tool_call_id is required: a tool message answers the assistant's tool call "
                          "with that id")
        content = message.get("content")
        if content is None and role == "assistant" and (tool_calls or message.get("function_call")):
            continue
        if isinstance(content, str):
            continue
        if isinstance(content, list):
            if not content:
                raise _refuse(f"{where}.content must have at least one part (or be a string)")
            for j, part in enumerate(content):
                _check_part(part, f"{where}.content[{j}]")
            continue
        raise _refuse(f"{where}.content must be a string or a list of typed parts ({{\"type\": \"text\", "
                      f"\"text\": ...}}), got {type(content).__name__}")


def _check_input(data: Mapping[str, Any], call_type: str) -> None:
    if call_type in ("completion", "acompletion"):
        check_messages(data.get("messages"))
    elif call_type in ("atext_completion", "text_completion"):
        prompt = data.get("prompt")
        if not (isinstance(prompt, str) and prompt) and not (
                isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt)):
            raise _refuse("'prompt' must be a non-empty string (or a list of strings) on /v1/completions; chat "
                          "messages go to /v1/chat/completions")
    elif call_type in ("aresponses", "responses"):
        given = data.get("input")
        if isinstance(given, str) and given:
            return
        if not isinstance(given, list) or not given:
            raise _refuse("'input' must be a non-empty string or a non-empty list of input items on /v1/responses")
        for i, item in enumerate(given):
            if not isinstance(item, Mapping):
                raise _refuse(f"input[{i}] must be an input item object such as {{\"role\": \"user\", "
                              f"\"content\": ...}}, got {type(item).__name__}")


def _lone_surrogate(data: Mapping[str, Any]) -> tuple[str, str, re.Match[str]] | None:
    """The first string the client sent (value or key, at any depth) holding a lone surrogate, if any."""
    stack: list[tuple[str, Any]] = [(key, value) for key, value in data.items()
                                    if isinstance(key, str) and key not in _NOT_CLIENT][::-1]
    while stack:
        where, value = stack.pop()
        if isinstance(value, str):
            found = _SURROGATE.search(value)
            if found:
                return where, value, found
        elif isinstance(value, Mapping):
            for key, item in reversed(list(value.items())):
                found = _SURROGATE.search(key) if isinstance(key, str) else None
                if found:
                    return f"{where} (a key)", key, found
                stack.append((f"{where}.{key}", item))
        elif isinstance(value, (list, tuple)):
            stack.extend((f"{where}[{i}]", item) for i, item in reversed(list(enumerate(value))))
    return None


def _check_text(data: Mapping[str, Any]) -> None:
    hit = _lone_surrogate(data)
    if hit is not None:
        where, _, found = hit
        raise _refuse(
            f"{where}: contains a lone UTF-16 surrogate (U+{ord(found.group()):04X} at character {found.start()}), "
            "which is not Unicode text and cannot be sent to any provider. Remove it, or send the character's whole "
            "surrogate pair (e.g. \\ud83d\\ude00), or the character itself in UTF-8.")


def _check_stream(data: Mapping[str, Any]) -> None:
    stream = data.get("stream")
    if stream is not None and not isinstance(stream, bool):
        raise _refuse(f"stream must be true or false, got {stream!r}")
    options = data.get("stream_options")
    if options is None:
        return
    if not isinstance(options, Mapping):
        raise _refuse(f"stream_options must be an object such as {{\"include_usage\": true}}, got {options!r}"[:300])
    if stream is not True:
        raise _refuse("stream_options is only allowed with stream: true; send both, or neither")
    usage = options.get("include_usage")
    if usage is not None and not isinstance(usage, bool):
        raise _refuse(f"stream_options.include_usage must be true or false, got {usage!r}"[:300])


def _check_tools(data: Mapping[str, Any], call_type: str) -> None:
    tools = data.get("tools")
    if tools is None:
        choice = data.get("tool_choice")
        if choice is not None and choice != "none" and not data.get("functions"):
            raise _refuse(f"tool_choice ({choice!r}) needs tools: send a 'tools' list, or leave tool_choice out"[:300])
        return
    if not isinstance(tools, list):
        raise _refuse(f"tools must be a list of tool objects ({{\"type\": \"function\", \"function\": "
                      f"{{\"name\": ...}}}}), got {type(tools).__name__}")
    chat = call_type not in ("aresponses", "responses")
    for i, tool in enumerate(tools):
        if not isinstance(tool, Mapping) or not isinstance(tool.get("type"), str):
            raise _refuse(f"tools[{i}] must be an object with a 'type' (e.g. {{\"type\": \"function\", "
                          f"\"function\": {{\"name\": ...}}}}), got {type(tool).__name__}")
        if chat and tool["type"] == "function":
            function = tool.get("function")
            if not isinstance(function, Mapping):
                raise _refuse(f"tools[{i}].function must be an object: {{\"name\": ..., \"parameters\": {{...}}}}")
            if not (isinstance(function.get("name"), str) and function["name"]):
                raise _refuse(f"tools[{i}].function.name is required: the name the model calls the tool by")


def check_request(data: Mapping[str, Any], call_type: str) -> None:
    """Refuse (400) a body that is not a well-formed request of its route; see the module docstring."""
    _check_input(data, call_type)
    _check_text(data)
    _check_stream(data)
    _check_tools(data, call_type)


def check_output_bounds(data: Mapping[str, Any], model_group: str, options: Sequence[ModelOption]) -> None:
    """Refuse an output bound no deployment of the group can produce (checked after their type)."""
    if not options:
        return
    limits = {o.model: min(o.max_output_tokens or o.max_context, o.max_context) for o in options}
    name, limit = max(limits.items(), key=lambda item: item[1])
    for key in OUTPUT_KEYS:
        asked = data.get(key)
        if isinstance(asked, int) and asked > limit:
            raise _refuse(
                f"{key}: {asked} is more output than any deployment of model group '{model_group}' can produce: "
                f"at most {limit} tokens ({name}). Send {key} <= {limit}, or leave it out to get the policy's "
                "default_max_tokens.")
