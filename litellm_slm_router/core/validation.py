"""Start-up checks of the ``slm_router:`` section: every problem at once, each naming its key.

Pure: the caller (``adapters/startup.py``) reads the config file, describes each ``model_list``
entry as a :class:`DeploymentRef` and passes the keys LiteLLM's Redis helper accepts. A
:class:`Problem` names the dotted key, what is wrong, the valid keys (or names) of that very
section and, when one is close, what was probably meant.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Literal

from pydantic import BaseModel, ValidationError

from litellm_slm_router.core.classifier import ClassifierThresholds
from litellm_slm_router.core.policy import RoutingPolicy

__all__ = ["DeploymentRef", "Problem", "check_plugin_section", "check_top_level", "close_match", "schema_problems"]

SECTION = "slm_router"
REDIS_URL_SCHEMES = ("redis://", "rediss://", "unix://")


@dataclass(frozen=True)
class Problem:
    """One configuration mistake."""

    key: str  # the dotted key path, e.g. slm_router.policy.prefer_lokal
    message: str  # what is wrong
    choices: tuple[str, ...] = ()  # the valid keys / names / values of that section
    choices_are: str = "valid keys"
    suggestion: str | None = None  # the close match: "did you mean ..."

    def __str__(self) -> str:
        text = f"{self.key}: {self.message}"
        if self.suggestion:
            text += f"; did you mean '{self.suggestion}'?"
        if self.choices:
            shown = ", ".join(self.choices[:16]) + (", ..." if len(self.choices) > 16 else "")
            text += f" ({self.choices_are}: {shown})"
        return text


@dataclass(frozen=True)
class DeploymentRef:
    """What the reference checks need to know about one ``model_list`` entry."""

    group: str  # model_name
    model: str  # litellm_params.model
    deployment_id: str  # model_info.id, "" when absent
    is_local: bool
    has_profile: bool  # carries a model_info.slm_router block

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(n for n in (self.group, self.model, self.deployment_id) if n)


def close_match(word: Any, choices: Iterable[str]) -> str | None:
    """The choice ``word`` was probably meant to be (difflib), or None."""
    if not isinstance(word, str) or not word:
        return None
    pool = list(dict.fromkeys(choices))
    by_lower = {c.lower(): c for c in pool}
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=0.6)
    return by_lower[found[0]] if found else None


# ---------------------------------------------------------------------------------------- schema


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return [m for arg in typing.get_args(annotation) for m in _models_in(arg)]
    return []


def _values_of(annotation: Any) -> tuple[str, ...]:
    """The values a Literal / Enum field (possibly Optional) accepts."""
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return tuple(str(m.value) for m in annotation)
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return tuple(str(a) for a in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return tuple(v for arg in typing.get_args(annotation) for v in _values_of(arg))
    return ()


def _walk(model: type[BaseModel], loc: Sequence[Any]) -> tuple[type[BaseModel], int]:
    """The innermost model section along ``loc`` and how many parts of ``loc`` lead to it."""
    depth = 0
    for part in loc:
        field = model.model_fields.get(part) if isinstance(part, str) else None
        nested = _models_in(field.annotation) if field is not None else []
        if not nested:
            break
        model, depth = nested[0], depth + 1
    return model, depth


def schema_problems(model: type[BaseModel], data: Any, where: str) -> list[Problem]:
    """Validate ``data`` against ``model``; one :class:`Problem` per field that is wrong."""
    if data is None:
        return []
    if not isinstance(data, Mapping):
        return [Problem(where, f"expected a mapping of settings, got {type(data).__name__} {data!r}",
                        tuple(model.model_fields))]
    try:
        model.model_validate(dict(data))
    except ValidationError as exc:
        return [_problem(model, err, where) for err in exc.errors()]
    return []


def _problem(root: type[BaseModel], err: Any, where: str) -> Problem:
    loc = [p for p in err["loc"] if not (isinstance(p, str) and ("[" in p or p.startswith("function-")))]
    key = where + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc)
    section, depth = _walk(root, loc)
    keys = tuple(section.model_fields)
    if err["type"] == "extra_forbidden":
        return Problem(key, "unknown key", keys, suggestion=close_match(str(loc[-1]), keys))
    got = err.get("input")
    if err["type"] == "model_type" or (err["type"] == "dict_type" and depth == len(loc)):
        return Problem(key, f"expected a mapping of settings, got {type(got).__name__} {got!r}", keys)
    field = section.model_fields.get(loc[depth]) if depth < len(loc) and isinstance(loc[depth], str) else None
    values = _values_of(field.annotation) if field is not None else ()
    if values:
        return Problem(key, f"{got!r} is not one of the accepted values", values, "accepted values",
                       close_match(got, values))
    return Problem(key, f"{err['msg']} (got {got!r})")


# ----------------------------------------------------------------------------- the whole section


def _get(data: Any, key: str, model: type[BaseModel]) -> Any:
    """The raw value of ``key`` in a section, else the model's default."""
    if isinstance(data, Mapping) and key in data:
        return data[key]
    field = model.model_fields[key]
    return field.get_default(call_default_factory=True)


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return float(value) if isinstance(value, str) else None
    except ValueError:
        return None


def check_top_level(data: Mapping[str, Any]) -> list[Problem]:
    """A config file whose plugin section is misspelt (the plugin would run on defaults)."""
    if SECTION in data:
        return []
    for key in data:
        if isinstance(key, str) and close_match(key, [SECTION]):
            return [Problem(key, "unknown top-level section", suggestion=SECTION)]
    return []


def check_plugin_section(root: type[BaseModel], data: Any, deployments: Sequence[DeploymentRef] | None = None, *,
                         redis_keys: Collection[str] | None = None) -> list[Problem]:
    """Every problem of the ``slm_router:`` section: its keys and values, then what they mean together.

    ``root``: the model of the whole section (``PluginConfig``); ``deployments``: the model_list
    (None: not known, reference checks skipped); ``redis_keys``: the connection settings LiteLLM's
    Redis helper accepts (None: not checked).
    """
    problems = schema_problems(root, data, SECTION)
    if data is not None and not isinstance(data, Mapping):
        return problems
    data = data or {}
    policy = data.get("policy") if isinstance(data.get("policy"), Mapping) else {}
    problems += _thresholds(data.get("classifier"))
    problems += _policy_numbers(policy)
    problems += _ledger(data.get("ledger"), policy, redis_keys)
    if deployments:
        groups = _model_groups(data.get("model_groups"), deployments, problems)
        problems += _references(policy, deployments, groups)
    return problems


def _thresholds(classifier: Any) -> list[Problem]:
    if classifier is not None and not isinstance(classifier, Mapping):
        return []
    problems = []
    critical = _number(_get(classifier, "critical", ClassifierThresholds))
    if classifier and classifier.get("critical_weights") and critical is not None and critical >= 1.0:
        problems.append(Problem(f"{SECTION}.classifier.critical_weights", "has no effect with classifier.critical: 1 "
                                "(the word rules alone decide): remove critical: 1 to use the critical model, or "
                                "remove critical_weights"))
    moderate = _number(_get(classifier, "moderate", ClassifierThresholds))
    complex_ = _number(_get(classifier, "complex", ClassifierThresholds))
    if moderate is None or complex_ is None or moderate < complex_:
        return problems
    return [*problems, Problem(f"{SECTION}.classifier.moderate", f"{moderate:g} must be below classifier.complex "
                               f"({complex_:g}): scores below moderate are simple, scores from complex up are complex")]


def _policy_numbers(policy: Mapping[str, Any]) -> list[Problem]:
    where = f"{SECTION}.policy"
    floor = _number(_get(policy, "min_output_tokens", RoutingPolicy))
    if floor is None:
        return []
    problems = []
    default = _number(_get(policy, "default_max_tokens", RoutingPolicy))
    if default is not None and default < floor:
        problems.append(Problem(f"{where}.default_max_tokens", f"{default:g} is below min_output_tokens ({floor:g}), "
                                "so a call sent without max_tokens could never be given its minimum output"))
    cap = _number(_get(policy, "max_tokens_per_task", RoutingPolicy))
    if cap is not None and cap < floor:
        problems.append(Problem(f"{where}.max_tokens_per_task", f"{cap:g} is below min_output_tokens ({floor:g}), "
                                "so every call of every task would be refused"))
    return problems


def _ledger(ledger: Any, policy: Mapping[str, Any], redis_keys: Collection[str] | None) -> list[Problem]:
    if not isinstance(ledger, Mapping):
        return []
    where = f"{SECTION}.ledger"
    problems = []
    lease = _number(ledger.get("reservation_lease_s"))
    latency = _number(_get(policy, "max_latency_per_call_s", RoutingPolicy))
    if lease is not None and latency is not None and 0 < lease < latency:
        problems.append(Problem(f"{where}.reservation_lease_s", f"{lease:g} s is shorter than "
                                f"policy.max_latency_per_call_s ({latency:g} s): a reservation could lapse while "
                                "its call still runs, and the task overspend"))
    redis = ledger.get("redis")
    backend = ledger.get("backend", "memory")
    if redis and backend == "memory":
        problems.append(Problem(f"{where}.redis", "is set but ledger.backend is 'memory', so it would be ignored "
                                "and every proxy keep its own budgets; set ledger.backend: redis or remove it"))
    if isinstance(redis, Mapping) and redis_keys is not None:
        problems += _redis(redis, f"{where}.redis", redis_keys)
    return problems


_COMMON_REDIS_KEYS = ("url", "host", "port", "password", "username", "db", "ssl")


def _redis(redis: Mapping[str, Any], where: str, accepted: Collection[str]) -> list[Problem]:
    problems = []
    common = tuple(k for k in _COMMON_REDIS_KEYS if k in accepted)
    shown = (*common, f"and {len(accepted) - len(common)} more keywords of redis.Redis / LiteLLM's helper")
    for key in redis:
        if key not in accepted:
            problems.append(Problem(f"{where}.{key}", "not a Redis connection setting LiteLLM's Redis helper "
                                    "accepts", shown, suggestion=close_match(str(key), accepted)))
    port = redis.get("port")
    number = int(port) if isinstance(port, str) and port.isdigit() else port
    if port is not None and not (isinstance(number, int) and not isinstance(number, bool) and 0 < number < 65536):
        problems.append(Problem(f"{where}.port", f"expected a TCP port number (1-65535), got {port!r}"))
    url = redis.get("url")
    if url is not None and not (isinstance(url, str) and url.startswith(REDIS_URL_SCHEMES)):
        problems.append(Problem(f"{where}.url", f"expected a URL starting with {', '.join(REDIS_URL_SCHEMES)}, "
                                f"got {url!r}"))
    return problems


def _model_groups(requested: Any, deployments: Sequence[DeploymentRef], problems: list[Problem]) -> set[str]:
    """The managed groups (for the reference checks); problems with ``model_groups`` are appended."""
    where = f"{SECTION}.model_groups"
    groups = tuple(dict.fromkeys(d.group for d in deployments))
    if requested is None:
        chosen = {d.group for d in deployments if d.has_profile}
        if not chosen:
            problems.append(Problem(where, "no model group to manage: list them (model_groups: [auto]) or add a "
                                    "model_info.slm_router block to the deployments of the groups to route",
                                    groups, "model groups"))
        return chosen
    names = [requested] if isinstance(requested, str) else requested
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, str) for n in names):
        return set()  # the schema check has said what is wrong
    if not names:
        problems.append(Problem(where, "is empty, so no model group would be managed", groups, "model groups"))
    for i, name in enumerate(names):
        if name not in groups:
            key = where if isinstance(requested, str) else f"{where}[{i}]"
            problems.append(Problem(key, f"'{name}' is not a model_name of the model_list", groups,
                                    "model groups", _best(name, deployments, groups)))
    return {n for n in names if n in groups}


def _best(name: str, deployments: Sequence[DeploymentRef], groups: Sequence[str]) -> str | None:
    """A group suggestion: the group of a deployment ``name`` names, else the closest group name."""
    owners = sorted({d.group for d in deployments if name in (d.model, d.deployment_id)})
    return owners[0] if len(owners) == 1 else close_match(name, groups)


def _references(policy: Mapping[str, Any], deployments: Sequence[DeploymentRef], managed: set[str]) -> list[Problem]:
    where = f"{SECTION}.policy"
    groups = tuple(dict.fromkeys(d.group for d in deployments))
    problems = []
    fallback = policy.get("fallback_model")
    if isinstance(fallback, str) and fallback:
        if fallback not in groups:
            owners = sorted({d.group for d in deployments if fallback in (d.model, d.deployment_id)})
            what = (f"'{fallback}' names a deployment (in {', '.join(owners)}), not a model group; LiteLLM falls "
                    "back by model group, so name a model_name" if owners
                    else f"'{fallback}' is not a model_name of the model_list")
            problems.append(Problem(f"{where}.fallback_model", what, groups, "model groups",
                                    _best(fallback, deployments, groups)))
        elif managed and managed <= {fallback}:
            problems.append(Problem(f"{where}.fallback_model", f"'{fallback}' is the only managed group: a group "
                                    "cannot fall back to itself; name another model group",
                                    tuple(g for g in groups if g != fallback), "other model groups"))
    for key, local in (("local_model", True), ("cloud_model", False)):
        value = policy.get(key)
        if not isinstance(value, str) or not value:
            continue
        named = [d for d in deployments if value in d.names]
        tier = [d for d in named if d.is_local == local and d.group in managed]
        if tier or not managed:
            continue
        candidates = tuple(dict.fromkeys(n for d in deployments if d.is_local == local and d.group in managed
                                         for n in (d.deployment_id or d.model,)))
        kind = "local" if local else "cloud"
        if not named:
            what = f"'{value}' is not a model_name, litellm_params.model or model_info.id of the model_list"
        else:
            what = (f"'{value}' names no {kind} deployment of a managed group ({', '.join(sorted(managed))}), so the "
                    f"preference would have no effect")
        problems.append(Problem(f"{where}.{key}", what, candidates, f"{kind} deployments of the managed groups",
                                close_match(value, [n for d in deployments for n in d.names])))
    return problems
