"""JSON-lines files of the tuning commands: read line by line with clear errors, and results written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from litellm_slm_router.core.errors import SLMRouterError

__all__ = ["json_lines", "request_of", "write_result"]


def json_lines(path: str) -> list[tuple[int, dict[str, Any]]]:
    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a byte-order mark is not part of the first line
    except FileNotFoundError:
        raise SLMRouterError(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise SLMRouterError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8 JSON "
                             "lines") from None
    except OSError as exc:
        raise SLMRouterError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise SLMRouterError(f"{path}:{number}: not JSON: {exc}") from None
        if not isinstance(item, dict):
            raise SLMRouterError(f"{path}:{number}: expected a JSON object")
        out.append((number, item))
    return out


def request_of(item: dict[str, Any]) -> Any:
    for key in ("messages", "prompt", "input"):
        value = item.get(key)
        if isinstance(value, (str, list)):
            return value
    return None


def write_result(path: str, payload: dict[str, Any]) -> None:
    try:
        Path(path).write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        raise SLMRouterError(f"cannot write {path}: {exc.strerror or exc}; choose another --out") from None
