"""Catalogue: one :class:`ModelOption` per deployment of a LiteLLM ``model_list``.

Each deployment may carry a documented block in its ``model_info``::

    model_info:
      slm_router:
        local: true              # runs on our own hardware (inferred when absent)
        size_b: 1.7              # parameters, in billions (inferred from the model name when absent)
        max_complexity: simple   # hardest level it is trusted with (inferred from size and locality)
        capabilities: [code]     # if given, tasks needing a capability not listed are not sent here
        latency_s: 0.8           # typical seconds per call before the plugin has observed any
        context_window: 32768    # tokens (else LiteLLM's model info, else 8,192 local / 128,000 cloud)
        max_output_tokens: 4096  # tokens (else LiteLLM's model info)
        default_max_tokens: 512  # output bound of a call sent without max_tokens (else the policy's)

Prices come from ``litellm_params`` or ``model_info`` ``input_cost_per_token`` /
``output_cost_per_token``, else LiteLLM's price map; local deployments default to zero.
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlparse

from litellm_slm_router.adapters.tokens import tokenizer_for
from litellm_slm_router.core.errors import ConfigError
from litellm_slm_router.core.levels import TaskComplexity
from litellm_slm_router.core.needs import REQUEST_FEATURES, RESPONSE_SCHEMA, TOOLS, VISION
from litellm_slm_router.core.options import DEFAULT_LATENCY_S, DeploymentProfile, ModelOption
from litellm_slm_router.core.policy import validate_section

__all__ = ["Catalogue", "is_local_deployment", "managed_groups"]

LOCAL_PROVIDERS = frozenset({"ollama", "ollama_chat", "llamafile", "lm_studio", "hosted_vllm", "vllm", "llamacpp"})
LOCAL_HOSTS = frozenset({"localhost", "0.0.0.0", "host.docker.internal"})
DEFAULT_CONTEXT_LOCAL = 8_192
DEFAULT_CONTEXT_CLOUD = 128_000
_SIZE_IN_NAME = re.compile(r"(?<![a-z0-9.])(\d+(?:\.\d+)?)\s*([bm])(?![a-z0-9])", re.I)


def _provider(model: str, litellm_params: Mapping[str, Any]) -> str:
    custom = litellm_params.get("custom_llm_provider")
    if isinstance(custom, str) and custom:
        return custom
    return model.split("/", 1)[0] if "/" in model else ""


def _is_loopback(api_base: str) -> bool:
    host = urlparse(api_base if "//" in api_base else f"http://{api_base}").hostname or ""
    if host in LOCAL_HOSTS or host.endswith(".local") or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_local_deployment(model: str, litellm_params: Mapping[str, Any]) -> bool:
    """Local when the provider is a local runtime or the api_base is on this machine."""
    if _provider(model, litellm_params) in LOCAL_PROVIDERS:
        return True
    api_base = litellm_params.get("api_base")
    return isinstance(api_base, str) and bool(api_base) and _is_loopback(api_base)


def _size_from_name(model: str) -> float | None:
    m = _SIZE_IN_NAME.search(model.rsplit("/", 1)[-1])
    if not m:
        return None
    value = float(m.group(1))
    return value / 1000.0 if m.group(2).lower() == "m" else value


def _default_max_complexity(is_local: bool, size_b: float | None) -> TaskComplexity:
    if size_b is None:
        return TaskComplexity.SIMPLE if is_local else TaskComplexity.CRITICAL
    if size_b < 3:
        return TaskComplexity.SIMPLE
    if size_b < 20:
        return TaskComplexity.MODERATE
    return TaskComplexity.COMPLEX


def _litellm_info(model: str, is_local: bool) -> Mapping[str, Any]:
    """LiteLLM's model info without any network call (local runtimes are only looked up in the map)."""
    import litellm

    if is_local:
        return litellm.model_cost.get(model) or {}
    try:
        return litellm.get_model_info(model=model) or {}
    except Exception:
        return litellm.model_cost.get(model) or {}


def _first(*values: Any) -> Any:
    return next((v for v in values if v is not None), None)


def option_from_deployment(deployment: Mapping[str, Any], *, strict: bool = True) -> ModelOption:
    """Build a :class:`ModelOption` from one ``model_list`` entry.

    With ``strict`` a cloud deployment whose price is unknown is an error (a budget cannot be
    enforced on it); otherwise it is priced at zero and flagged in ``inferred``.
    """
    group = str(deployment.get("model_name") or "")
    params: Mapping[str, Any] = deployment.get("litellm_params") or {}
    info: Mapping[str, Any] = deployment.get("model_info") or {}
    model = str(params.get("model") or group)
    deployment_id = str(info.get("id") or _stable_id(deployment))
    where = f"model_list[{group}: {model}].model_info.slm_router"
    raw_profile = info.get("slm_router") or {}
    profile = validate_section(DeploymentProfile, raw_profile, where)

    inferred: list[str] = []
    is_local = profile.local
    if is_local is None:
        is_local = is_local_deployment(model, params)
        inferred.append(f"local={is_local} from provider/api_base")
    size_b = profile.size_b
    if size_b is None:
        size_b = _size_from_name(model)
        if size_b is not None:
            inferred.append(f"size_b={size_b} from model name")
    max_complexity = profile.max_complexity
    if max_complexity is None:
        max_complexity = _default_max_complexity(is_local, size_b)
        inferred.append(f"max_complexity={max_complexity.value} from size/locality")

    lookup = _litellm_info(model, is_local)
    in_price = _first(params.get("input_cost_per_token"), info.get("input_cost_per_token"),
                      lookup.get("input_cost_per_token"))
    out_price = _first(params.get("output_cost_per_token"), info.get("output_cost_per_token"),
                       lookup.get("output_cost_per_token"))
    if in_price is None or out_price is None:
        if not is_local and strict:
            raise ConfigError(
                f"model_list[{group}: {model}]: no price is known for this cloud deployment, so its cost "
                "cannot be budgeted. Set litellm_params.input_cost_per_token and output_cost_per_token "
                "(USD per token), or mark it local with model_info.slm_router.local: true."
            )
        if not is_local:
            inferred.append("price unknown: counted as 0")
        in_price = in_price or 0.0
        out_price = out_price or 0.0
    context = _first(profile.context_window, info.get("max_input_tokens"), lookup.get("max_input_tokens"))
    if context is None:
        context = DEFAULT_CONTEXT_LOCAL if is_local else DEFAULT_CONTEXT_CLOUD
        inferred.append(f"context_window={context} by default")
    max_output = _first(profile.max_output_tokens, info.get("max_output_tokens"), lookup.get("max_output_tokens"))
    supports = _supports(profile, info, lookup, inferred)
    return ModelOption(
        deployment_id=deployment_id,
        model_group=group,
        model=model,
        is_local=is_local,
        size_b=size_b,
        max_complexity=max_complexity,
        capabilities=profile.capabilities,
        supports=supports,
        input_cost_per_token=float(in_price),
        output_cost_per_token=float(out_price),
        max_context=int(context),
        max_output_tokens=int(max_output) if max_output is not None else None,
        avg_latency_s=profile.latency_s or DEFAULT_LATENCY_S,
        default_max_tokens=profile.default_max_tokens,
        tokenizer=tokenizer_for(model),
        inferred=tuple(inferred),
    )


_SUPPORT_FLAGS = {RESPONSE_SCHEMA: "supports_response_schema", TOOLS: "supports_function_calling",
                  VISION: "supports_vision"}


def _supports(profile: DeploymentProfile, info: Mapping[str, Any], lookup: Mapping[str, Any],
              inferred: list[str]) -> tuple[str, ...]:
    """The request features a deployment takes (tools, vision, response_schema).

    ``model_info.slm_router.capabilities``, when given, is the whole list (``[chat]``: none of them).
    Otherwise each of LiteLLM's flags (``supports_function_calling``, ``supports_vision``,
    ``supports_response_schema``) from the deployment's ``model_info``, else from LiteLLM's model map
    for a model it knows (an unset flag there means no); a model LiteLLM does not know (no
    ``supports_*`` flag in its entry) is assumed to take them all.
    """
    if profile.capabilities is not None:
        return tuple(f for f in REQUEST_FEATURES if f in profile.capabilities)
    # An entry with no supports_* flag at all is only a price LiteLLM registered for a custom model name.
    known = any(key.startswith("supports_") and value is not None for key, value in lookup.items())
    supported = []
    for feature, flag in _SUPPORT_FLAGS.items():
        value = info.get(flag)
        if value is None and known:
            value = bool(lookup.get(flag))
            if not value:
                inferred.append(f"no {feature}: {flag} not set in LiteLLM's model map")
        if value is None or value:
            supported.append(feature)
    return tuple(supported)


def _stable_id(deployment: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(deployment, sort_keys=True, default=str).encode()).hexdigest()[:16]


class Catalogue:
    """The options of a router's ``model_list``, by deployment id and by model group."""

    def __init__(self, options: Iterable[ModelOption]) -> None:
        self.by_id: dict[str, ModelOption] = {}
        self.groups: dict[str, list[ModelOption]] = {}
        for option in options:
            self.by_id[option.deployment_id] = option
            self.groups.setdefault(option.model_group, []).append(option)

    @classmethod
    def from_model_list(cls, model_list: Sequence[Mapping[str, Any]], *, strict: bool = True) -> Catalogue:
        return cls(option_from_deployment(d, strict=strict) for d in model_list)

    def option_for(self, deployment: Mapping[str, Any]) -> ModelOption:
        """The option of a deployment dict the router handed us (built and cached if new)."""
        info = deployment.get("model_info") or {}
        option = self.by_id.get(str(info.get("id")))
        if option is None:
            option = option_from_deployment(deployment, strict=False)
            self.by_id[option.deployment_id] = option
            self.groups.setdefault(option.model_group, []).append(option)
        return option

    def names(self) -> set[str]:
        names: set[str] = set()
        for option in self.by_id.values():
            names.update((option.deployment_id, option.model_group, option.model))
        return names

    def __len__(self) -> int:
        return len(self.by_id)


def managed_groups(model_list: Sequence[Mapping[str, Any]], requested: Iterable[str] | None = None) -> frozenset[str]:
    """The model groups the plugin routes: ``requested``, or those whose deployments carry ``slm_router``."""
    groups = {str(d.get("model_name")) for d in model_list}
    if requested is None:
        chosen = frozenset(
            str(d.get("model_name")) for d in model_list
            if isinstance((d.get("model_info") or {}).get("slm_router"), Mapping)
        )
        if not chosen:
            raise ConfigError(
                "slm_router.model_groups: no model group to manage. List them (model_groups: [auto]) or "
                "add a model_info.slm_router block to the deployments of the groups to route."
            )
        return chosen
    chosen = frozenset([requested] if isinstance(requested, str) else requested)
    unknown = sorted(chosen - groups)
    if unknown:
        raise ConfigError(
            f"slm_router.model_groups: {', '.join(unknown)} not in the router's model_list "
            f"(its model groups: {', '.join(sorted(groups))})."
        )
    return chosen
