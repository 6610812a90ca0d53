"""What a request needs of a deployment beyond its level: tools, vision, a JSON schema.

Read from the request's shape, not its wording: ``tools`` / ``functions`` the model may call (unless
``tool_choice`` is ``"none"``), image parts in the messages or Responses API input, and a
``response_format`` (or Responses API ``text.format``) of type ``json_schema``. A long prompt needs a
long context window, which the selector checks on every deployment anyway.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["REQUEST_FEATURES", "RESPONSE_SCHEMA", "TOOLS", "VISION", "request_needs"]

TOOLS, VISION, RESPONSE_SCHEMA = "tools", "vision", "response_schema"
REQUEST_FEATURES = (RESPONSE_SCHEMA, TOOLS, VISION)  # every need this module reports
_IMAGE_PARTS = frozenset({"image_url", "input_image", "image"})


def request_needs(prompt: Any, request: Mapping[str, Any]) -> tuple[str, ...]:
    """The features (sorted) that a deployment must support to answer this request."""
    needs = []
    if _schema(request):
        needs.append(RESPONSE_SCHEMA)
    if (request.get("tools") or request.get("functions")) and request.get("tool_choice") != "none":
        needs.append(TOOLS)
    if _has_image(prompt):
        needs.append(VISION)
    return tuple(needs)


def _schema(request: Mapping[str, Any]) -> bool:
    for holder, key in ((request, "response_format"), (request.get("text"), "format")):
        value = holder.get(key) if isinstance(holder, Mapping) else None
        if isinstance(value, Mapping) and value.get("type") == "json_schema":
            return True
        if isinstance(value, type):  # a pydantic model class passed to the SDK
            return True
    return False


def _has_image(prompt: Any) -> bool:
    if not isinstance(prompt, Sequence) or isinstance(prompt, str):
        return False
    for item in prompt:
        content = item.get("content") if isinstance(item, Mapping) else None
        if isinstance(content, Sequence) and not isinstance(content, str):
            if any(isinstance(part, Mapping) and part.get("type") in _IMAGE_PARTS for part in content):
                return True
    return False
