"""Savings report from a decision log: what was spent, what the cloud model would have cost, a chart.

    slm-router report decisions.jsonl [--chart savings.png] [--cloud-model openai/gpt-4o]

Reads the JSON-lines decision log the plugin writes (``slm_router.decision_log``): one line per
routing attempt (its decision and, once the call finished, its outcome, real cost and token usage)
and one line per refused request. Attempts of one request share its LiteLLM call id, so a request
whose local attempt failed and was retried on another deployment counts once, as *replaced*.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from litellm_slm_router.core.decision import Refusal, RoutingDecision
from litellm_slm_router.core.selector import FORCED_LOCAL
from litellm_slm_router.records.log import read_log

__all__ = ["CallRow", "SavingsSummary", "chart", "load", "rows_from_log", "summarize"]

LEVELS = ("simple", "moderate", "complex", "critical")


class CallRow(BaseModel):
    """One request as a client saw it, with what the decision log knows of it."""

    call_id: str | None = None
    task_id: str | None = None
    status: Literal["answered", "refused", "failed", "pending"]
    http_status: int | None = None  # of a refusal or failure
    complexity: str = ""
    deployment: str = ""  # the deployment that answered (or the last one tried)
    is_local: bool | None = None  # None: not known (no decision record)
    forced_local: bool = False
    replaced: tuple[str, ...] = ()  # deployments whose attempt failed before another answered
    cost_usd: float = 0.0
    cloud_cost_usd: float | None = None  # the same tokens at the cloud baseline's prices
    baseline: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reason: str = ""


class SavingsSummary(BaseModel):
    requests: int = 0
    answered: int = 0
    failed: int = 0
    pending: int = 0
    refused: dict[str, int] = {}  # HTTP status -> requests
    local_calls: int = 0
    unknown_locality: int = 0
    forced_local: int = 0
    replaced: dict[str, int] = {}  # deployment -> failed attempts that a retry replaced
    spend_usd: float = 0.0
    cloud_only_spend_usd: float = 0.0
    tokens: int = 0
    baseline: str = ""
    # complexity -> deployment -> [calls, spend]
    by_level: dict[str, dict[str, list[float]]] = {}
    local_deployments: list[str] = []
    errors: list[str] = []

    @property
    def refused_total(self) -> int:
        return sum(self.refused.values())

    @property
    def local_share(self) -> float:
        return self.local_calls / self.answered if self.answered else 0.0

    @property
    def saved_usd(self) -> float:
        return self.cloud_only_spend_usd - self.spend_usd

    def text(self) -> str:
        refused = ", ".join(f"{n} x {status}" for status, n in sorted(self.refused.items()))
        lines = [
            f"requests: {self.requests} ({self.answered} answered, {self.refused_total} refused"
            f"{': ' + refused if refused else ''}, {self.failed} failed"
            f"{f', {self.pending} unfinished' if self.pending else ''})",
            f"served locally: {self.local_calls} of {self.answered} answered ({self.local_share:.0%})"
            + (f"; {self.unknown_locality} without a decision record" if self.unknown_locality else ""),
            f"forced local by the budget ({FORCED_LOCAL}): {self.forced_local}",
        ]
        if self.replaced:
            lines.append(f"failed attempts replaced by a retry: {sum(self.replaced.values())} ("
                         + ", ".join(f"{dep}: {n}" for dep, n in sorted(self.replaced.items())) + ")")
        lines += [
            f"spend: ${self.spend_usd:.6f}",
            f"spend if every answered call had gone to {self.baseline or 'the cloud model'}: "
            f"${self.cloud_only_spend_usd:.6f} (saved ${self.saved_usd:.6f})",
            f"tokens: {self.tokens}",
        ]
        for level in LEVELS:
            for deployment, (calls, spend) in sorted(self.by_level.get(level, {}).items()):
                where = "local" if deployment in self.local_deployments else "cloud"
                lines.append(f"  {level:<9} {deployment:<44} {where:<5} {int(calls):>4} calls  ${spend:.6f}")
        return "\n".join(lines + self.errors)


def load(path: str | Path) -> tuple[list[RoutingDecision], list[Refusal], list[str]]:
    """The decisions, refusals and unreadable lines of a decision log."""
    with open(path, encoding="utf-8") as fh:
        return read_log(fh)


def _baseline(decision: RoutingDecision, cloud_model: str | None) -> tuple[str, float, float] | None:
    """(model, input price, output price) of the cloud deployment the baseline prices a call at."""
    clouds = [v.option for v in decision.candidates if not v.option.is_local]
    if cloud_model:
        clouds = [o for o in clouds if o.matches(cloud_model)]
    if not clouds:
        return None
    top = max(clouds, key=lambda o: (o.output_cost_per_token, o.input_cost_per_token))
    return top.model, top.input_cost_per_token, top.output_cost_per_token


def row_from_attempts(attempts: list[RoutingDecision], cloud_model: str | None = None) -> CallRow:
    """One request from its routing attempts (in the order they were made)."""
    last = next((d for d in reversed(attempts) if d.outcome == "ok"), attempts[-1])
    chosen = next((v.option for v in last.candidates if v.option.deployment_id == last.selected_deployment_id), None)
    status = {"ok": "answered", "failed": "failed", None: "pending"}[last.outcome]
    prompt, completion = last.usage_prompt_tokens or 0, last.usage_completion_tokens or 0
    row = CallRow(
        call_id=last.call_id, task_id=last.task_id, status=status, complexity=last.complexity.value,
        deployment=last.selected_model, is_local=chosen.is_local if chosen else None,
        forced_local=last.reason == FORCED_LOCAL,
        replaced=tuple(d.selected_model for d in attempts if d is not last and d.outcome == "failed"),
        cost_usd=last.cost_usd or 0.0, prompt_tokens=prompt, completion_tokens=completion, reason=last.reason,
    )
    base = _baseline(last, cloud_model)
    if base is not None:
        row.baseline, in_price, out_price = base
        row.cloud_cost_usd = prompt * in_price + completion * out_price
    return row


def rows_from_log(decisions: Iterable[RoutingDecision], refusals: Iterable[Refusal] = (),
                  cloud_model: str | None = None) -> list[CallRow]:
    """One row per request: attempts grouped by call id (a record without one is its own request)."""
    grouped: dict[str, list[RoutingDecision]] = defaultdict(list)
    for i, d in enumerate(decisions):
        grouped[d.call_id or f"#{i}"].append(d)
    rows = [row_from_attempts(attempts, cloud_model) for attempts in grouped.values()]
    seen = {call for call in grouped if not call.startswith("#")}
    for refusal in refusals:
        if refusal.call_id in seen:  # refused on a fallback after an attempt: the request is counted
            continue
        rows.append(CallRow(call_id=refusal.call_id, task_id=refusal.task_id, status="refused",
                            http_status=refusal.status, complexity=refusal.complexity or "",
                            deployment=f"refused ({refusal.status})", reason=refusal.reason))
        if refusal.call_id:
            seen.add(refusal.call_id)
    return rows


def summarize(rows: Iterable[CallRow]) -> SavingsSummary:
    """Totals over requests; the baseline prices each answered call's tokens at the cloud model's rates."""
    summary = SavingsSummary()
    by_level: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0.0]))
    refused: Counter[str] = Counter()
    replaced: Counter[str] = Counter()
    baselines: set[str] = set()
    local: set[str] = set()
    for row in rows:
        summary.requests += 1
        replaced.update(row.replaced)
        if row.status == "refused":
            refused[str(row.http_status or "?")] += 1
            continue
        if row.status == "failed":
            summary.failed += 1
            continue
        if row.status == "pending":
            summary.pending += 1
            continue
        summary.answered += 1
        if row.is_local is None:
            summary.unknown_locality += 1
        elif row.is_local:
            summary.local_calls += 1
            local.add(row.deployment)
        summary.forced_local += int(row.forced_local)
        summary.spend_usd += row.cost_usd
        summary.tokens += row.prompt_tokens + row.completion_tokens
        if row.cloud_cost_usd is not None:
            baselines.add(row.baseline)
            summary.cloud_only_spend_usd += row.cloud_cost_usd
        else:
            summary.cloud_only_spend_usd += row.cost_usd
        cell = by_level[row.complexity or "unknown"][row.deployment]
        cell[0] += 1
        cell[1] += row.cost_usd
    summary.refused = dict(refused)
    summary.replaced = dict(replaced)
    summary.baseline = ", ".join(sorted(baselines))
    summary.by_level = {level: dict(cells) for level, cells in by_level.items()}
    summary.local_deployments = sorted(local)
    return summary


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        from litellm_slm_router.core.errors import SLMRouterError

        raise SLMRouterError('the chart needs matplotlib, which is not installed: pip install matplotlib '
                             '(or pip install "litellm-slm-router[local]"); the text report above is complete '
                             'without it') from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


_LOCAL_COLOURS = ("#2e7d32", "#66bb6a", "#a5d6a7", "#1b5e20")
_CLOUD_COLOURS = ("#1565c0", "#ef6c00", "#6a1b9a", "#c62828", "#00838f")


def chart(summary: SavingsSummary, path: str | Path) -> Path:
    """A PNG: actual spend beside the all-cloud spend, and requests by complexity (local green, cloud
    other colours), with refused and forced-local requests counted."""
    plt = _pyplot()
    levels = [lv for lv in (*LEVELS, "unknown") if lv in summary.by_level or lv in LEVELS]
    deployments = sorted({dep for cells in summary.by_level.values() for dep in cells},
                         key=lambda d: (d not in summary.local_deployments, d))
    colours, local_i, cloud_i = {}, 0, 0
    for dep in deployments:
        if dep in summary.local_deployments:
            colours[dep] = _LOCAL_COLOURS[local_i % len(_LOCAL_COLOURS)]
            local_i += 1
        else:
            colours[dep] = _CLOUD_COLOURS[cloud_i % len(_CLOUD_COLOURS)]
            cloud_i += 1
    fig, (ax_spend, ax_calls) = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [1, 2]})

    # Left: what was spent, and what the same answered calls would have cost on the cloud model.
    bars = ax_spend.bar(["actual spend", f"all cloud\n({summary.baseline or 'cloud model'})"],
                        [summary.spend_usd, summary.cloud_only_spend_usd], color=["#2e7d32", "#9e9e9e"])
    for bar, value in zip(bars, (summary.spend_usd, summary.cloud_only_spend_usd), strict=True):
        ax_spend.annotate(f"{value:.6f} USD", (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                          ha="center", va="bottom", fontsize=9)
    ax_spend.set_ylabel("USD")
    ax_spend.set_title(f"spend of {summary.answered} answered requests")
    ax_spend.grid(axis="y", alpha=0.3)
    ax_spend.margins(y=0.15)

    # Right: requests by complexity, stacked by the deployment that answered, plus refusals.
    columns = [*levels, "refused"]
    bottom = [0.0] * len(columns)
    for dep in deployments:
        values = [summary.by_level.get(level, {}).get(dep, [0, 0.0])[0] for level in levels] + [0]
        where = "local" if dep in summary.local_deployments else "cloud"
        ax_calls.bar(columns, values, bottom=bottom, color=colours[dep], label=f"{dep} ({where})",
                     hatch="" if where == "local" else "//", edgecolor="white")
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax_calls.bar(["refused"], [summary.refused_total], color="#e0e0e0", edgecolor="#616161",
                 label="refused (" + (", ".join(f"{n} x {s}" for s, n in sorted(summary.refused.items()))
                                      or "none") + ")")
    ax_calls.set_ylabel("requests")
    ax_calls.set_title(f"requests by complexity: {summary.local_calls} of {summary.answered} answered locally, "
                       f"{summary.forced_local} forced local, {summary.refused_total} refused")
    ax_calls.yaxis.get_major_locator().set_params(integer=True)
    ax_calls.margins(y=0.12)
    ax_calls.grid(axis="y", alpha=0.3)
    ax_calls.legend(fontsize=8, loc="upper left", title="answered by", title_fontsize=8)
    # (a literal dollar sign would start matplotlib's math mode)
    fig.suptitle(f"served locally {summary.local_share:.0%}: spent {summary.spend_usd:.6f} USD instead of "
                 f"{summary.cloud_only_spend_usd:.6f} USD if every answered call had gone to the cloud model")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def shadow_text(decisions: Iterable[RoutingDecision]) -> str | None:
    """What shadow mode would have saved: the answered calls LiteLLM's strategy routed, at their real
    cost, beside the same calls' usage priced at the deployment the plugin would have chosen."""
    answered = [d for d in decisions if d.shadow and d.outcome == "ok"]
    if not answered:
        return None
    served = would = 0.0
    agreed = local = 0
    for d in answered:
        chosen = next((v.option for v in d.candidates if v.option.deployment_id == d.selected_deployment_id), None)
        served += d.cost_usd or 0.0
        if chosen is not None:
            would += ((d.usage_prompt_tokens or 0) * chosen.input_cost_per_token
                      + (d.usage_completion_tokens or 0) * chosen.output_cost_per_token)
            local += chosen.is_local
        agreed += d.served_deployment_id == d.selected_deployment_id
    n = len(answered)
    return "\n".join([
        f"shadow mode: {n} answered calls routed by LiteLLM's own strategy",
        f"  spent (LiteLLM's choices):            ${served:.6f}",
        f"  with the plugin's choices (same usage): ${would:.6f}  (would have saved ${served - would:.6f})",
        f"  same deployment chosen: {agreed}/{n}; the plugin would have served {local}/{n} locally",
    ])
