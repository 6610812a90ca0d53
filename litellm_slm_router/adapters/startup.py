"""The start-up check: the whole config file is checked before the proxy serves a request.

:func:`load_checked` reads the file the proxy loaded, runs every check of
:mod:`litellm_slm_router.core.validation` against its ``slm_router:`` section and its
``model_list`` (deployment profiles, prices, the names the section refers to, LiteLLM's Redis
settings, the decision log's path) and raises :class:`StartupRefused` listing every problem.
Inside the LiteLLM proxy, :func:`refuse_start` prints that list (one line per problem, no
traceback) and ends the process with exit status 3, uvicorn's own status for a failed start-up.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NoReturn

import yaml

from litellm_slm_router.adapters.catalogue import is_local_deployment, option_from_deployment
from litellm_slm_router.adapters.config import SECTION, PluginConfig, with_weight_files
from litellm_slm_router.core.classifier import TaskComplexityClassifier
from litellm_slm_router.core.errors import ConfigError, StartupRefused
from litellm_slm_router.core.options import DeploymentProfile
from litellm_slm_router.core.validation import (
    DeploymentRef,
    Problem,
    check_plugin_section,
    check_top_level,
    schema_problems,
)

__all__ = ["EXIT_STATUS", "check_config", "load_checked", "redis_setting_keys", "refuse_start"]

EXIT_STATUS = 3  # what uvicorn exits with when an application's start-up fails
# Settings LiteLLM's Redis helper reads besides redis.Redis's own keywords, and the ledger's own.
_REDIS_EXTRA = frozenset({"startup_nodes", "sentinel_nodes", "service_name", "sentinel_password", "prefix"})


def redis_setting_keys() -> frozenset[str]:
    """The keys ``ledger.redis`` may hold: what LiteLLM's Redis helper passes on, and ``prefix``."""
    from litellm._redis import _get_redis_kwargs

    return frozenset(_get_redis_kwargs()) | _REDIS_EXTRA


def _deployments(model_list: list[Any]) -> tuple[list[DeploymentRef], list[Problem]]:
    refs: list[DeploymentRef] = []
    problems: list[Problem] = []
    for i, deployment in enumerate(model_list):
        if not isinstance(deployment, Mapping):
            problems.append(Problem(f"model_list[{i}]", f"expected a deployment mapping, got {deployment!r}"))
            continue
        group = str(deployment.get("model_name") or "")
        params = deployment.get("litellm_params") if isinstance(deployment.get("litellm_params"), Mapping) else {}
        info = deployment.get("model_info") if isinstance(deployment.get("model_info"), Mapping) else {}
        model = str(params.get("model") or group)
        raw = info.get("slm_router")
        where = f"model_list[{group}: {model}].model_info.slm_router"
        found = schema_problems(DeploymentProfile, raw, where)
        problems += found
        is_local = is_local_deployment(model, params)
        if not found:
            profile = DeploymentProfile.model_validate(dict(raw or {}))
            is_local = profile.local if profile.local is not None else is_local
            try:  # the price check (and anything else the catalogue would refuse when installing)
                option_from_deployment(deployment, strict=True)
            except ConfigError as exc:
                key, _, message = str(exc).partition("]: ")
                problems.append(Problem(f"{key}]" if message else f"model_list[{group}: {model}]", message or str(exc)))
        refs.append(DeploymentRef(group, model, str(info.get("id") or ""), is_local, isinstance(raw, Mapping)))
    return refs, problems


def _decision_log(value: Any) -> list[Problem]:
    if not isinstance(value, str) or not value:
        return []
    key = f"{SECTION}.decision_log"
    path = Path(value).expanduser()
    if path.is_dir():
        return [Problem(key, f"'{value}' is a directory; name a file to append the decisions to")]
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return [Problem(key, f"'{value}' cannot be created: {parent} is not a directory")]
    if not os.access(parent, os.W_OK):
        return [Problem(key, f"'{value}' cannot be created: {parent} is not writable")]
    return []


def _build_check(section: Any) -> list[Problem]:
    """What the installation builds from the section, built once now (a safety net for the checks)."""
    try:
        plugin = PluginConfig.from_mapping(section)
        TaskComplexityClassifier(plugin.classifier)
    except (ConfigError, ValueError) as exc:
        return [Problem(SECTION, str(exc).removeprefix("invalid slm-router configuration: "))]
    return []


def check_config(data: Any, *, check_redis: bool = True) -> list[Problem]:
    """Every problem of a parsed LiteLLM config file, as far as the plugin is concerned."""
    if not isinstance(data, Mapping):
        return [Problem("(top level)", f"expected a mapping with model_list and slm_router, got {type(data).__name__}")]
    problems = check_top_level(data)
    model_list = data.get("model_list") or []
    refs: list[DeploymentRef] = []
    if not isinstance(model_list, list):
        problems.append(Problem("model_list", f"expected a list of deployments, got {type(model_list).__name__}"))
    else:
        refs, found = _deployments(model_list)
        problems += found
    section = data.get(SECTION)
    problems += check_plugin_section(PluginConfig, section, refs or None,
                                     redis_keys=redis_setting_keys() if check_redis else None)
    if isinstance(section, Mapping):
        problems += _decision_log(section.get("decision_log"))
    return problems or _build_check(section)


def load_checked(path: str | None) -> tuple[PluginConfig, list[dict[str, Any]]]:
    """The plugin's settings and the model list of the config file at ``path``, or :class:`StartupRefused`."""
    if not path or not Path(path).exists():
        return PluginConfig(), []
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise StartupRefused([f"{path}: not valid YAML: {' '.join(str(exc).split())}"], path) from None
    problems = check_config(data)
    if problems:
        raise StartupRefused(problems, path)
    try:
        plugin = with_weight_files(PluginConfig.from_mapping(data.get(SECTION)), Path(path).parent)
    except ConfigError as exc:
        raise StartupRefused([Problem(f"{SECTION}.classifier", str(exc))], path) from None
    return plugin, list(data.get("model_list") or [])


def in_proxy_start_up() -> bool:
    """True while the LiteLLM proxy is loading its config (and with it, this plugin)."""
    proxy_server = sys.modules.get("litellm.proxy.proxy_server")
    return proxy_server is not None and bool(getattr(proxy_server, "user_config_file_path", None))


def refuse_start(exc: StartupRefused) -> NoReturn:
    """Print the problems and end the proxy process: no traceback, and no request served with them.

    An exception raised here would reach the ASGI server's lifespan handler, which prints it with
    a traceback of hundreds of lines; the message is what the operator needs.
    """
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    sys.stderr.write(f"\n{exc}\n")
    sys.stderr.flush()
    os._exit(EXIT_STATUS)
