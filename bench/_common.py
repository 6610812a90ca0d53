"""Shared by the benchmark scripts: environment, machine description, result files."""

from __future__ import annotations

import json
import os
import platform
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DATA = ROOT.parent / "shared" / "bench-data" / "routellm"


def machine() -> dict[str, Any]:
    from importlib.metadata import version

    import litellm  # noqa: F401

    return {
        "cpus": os.cpu_count(),
        "cpu": platform.processor() or platform.machine(),
        "python": sys.version.split()[0],
        "litellm": version("litellm"),
        "litellm_slm_router": version("litellm-slm-router"),
        "platform": platform.platform(),
    }


def write_json(path: Path, payload: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, default=str) + "\n")
