"""Savings report from a decision log: what was spent, what the cloud model would have cost, a chart.

    slm-router report decisions.jsonl [--chart savings.png] [--cloud-model openai/gpt-4o]

Reads the JSON-lines decision log the plugin writes (``slm_router.decision_log``); each line holds a
decision and, once the call finished, its outcome, real cost and token usage.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from pydantic import BaseModel

from litellm_slm_router.decision import RoutingDecision, read_decisions

__all__ = ["SavingsSummary", "chart", "load", "summarize"]

LEVELS = ("simple", "moderate", "complex", "critical")


class SavingsSummary(BaseModel):
    calls: int = 0
    failed: int = 0
    local_calls: int = 0
    spend_usd: float = 0.0
    cloud_only_spend_usd: float = 0.0
    tokens: int = 0
    baseline: str = ""
    # complexity -> deployment -> [calls, spend]
    by_level: dict[str, dict[str, list[float]]] = {}
    errors: list[str] = []

    @property
    def local_share(self) -> float:
        return self.local_calls / self.calls if self.calls else 0.0

    @property
    def saved_usd(self) -> float:
        return self.cloud_only_spend_usd - self.spend_usd

    def text(self) -> str:
        lines = [
            f"calls: {self.calls} answered, {self.failed} failed",
            f"served locally: {self.local_calls}/{self.calls} ({self.local_share:.0%})",
            f"spend: ${self.spend_usd:.6f}",
            f"spend if every call had gone to {self.baseline or 'the cloud model'}: ${self.cloud_only_spend_usd:.6f}"
            f" (saved ${self.saved_usd:.6f})",
            f"tokens: {self.tokens}",
        ]
        for level in LEVELS:
            for deployment, (calls, spend) in sorted(self.by_level.get(level, {}).items()):
                lines.append(f"  {level:<9} {deployment:<44} {int(calls):>4} calls  ${spend:.6f}")
        return "\n".join(lines + self.errors)


def load(path: str | Path) -> tuple[list[RoutingDecision], list[str]]:
    decisions, errors = [], []
    with open(path, encoding="utf-8") as fh:
        for _, decision, error in read_decisions(fh):
            if decision is None:
                errors.append(error)
            else:
                decisions.append(decision)
    return decisions, errors


def summarize(decisions: Iterable[RoutingDecision], cloud_model: str | None = None) -> SavingsSummary:
    """Totals over finished calls; the baseline prices each call's tokens at the cloud model's rates
    (``cloud_model``, else the most expensive cloud candidate of that decision)."""
    summary = SavingsSummary()
    by_level: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0, 0.0]))
    baselines: set[str] = set()
    for d in decisions:
        if d.outcome is None:
            continue
        if d.outcome != "ok":
            summary.failed += 1
            continue
        cost = d.cost_usd or 0.0
        prompt, completion = d.usage_prompt_tokens or 0, d.usage_completion_tokens or 0
        chosen = next((v.option for v in d.candidates if v.option.deployment_id == d.selected_deployment_id), None)
        summary.calls += 1
        summary.local_calls += int(bool(chosen and chosen.is_local))
        summary.spend_usd += cost
        summary.tokens += prompt + completion
        clouds = [v.option for v in d.candidates if not v.option.is_local]
        if cloud_model:
            clouds = [o for o in clouds if o.matches(cloud_model)]
        if clouds:
            top = max(clouds, key=lambda o: (o.output_cost_per_token, o.input_cost_per_token))
            baselines.add(top.model)
            summary.cloud_only_spend_usd += prompt * top.input_cost_per_token + completion * top.output_cost_per_token
        else:
            summary.cloud_only_spend_usd += cost
        cell = by_level[d.complexity.value][d.selected_model]
        cell[0] += 1
        cell[1] += cost
    summary.baseline = ", ".join(sorted(baselines))
    summary.by_level = {level: dict(cells) for level, cells in by_level.items()}
    return summary


def chart(summary: SavingsSummary, path: str | Path) -> Path:
    """A PNG with spend and calls by complexity, stacked by deployment."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    deployments = sorted({dep for cells in summary.by_level.values() for dep in cells})
    fig, (ax_spend, ax_calls) = plt.subplots(1, 2, figsize=(12, 4.8))
    for ax, index, title in ((ax_spend, 1, "spend (USD)"), (ax_calls, 0, "calls")):
        bottom = [0.0] * len(LEVELS)
        for dep in deployments:
            values = [summary.by_level.get(level, {}).get(dep, [0, 0.0])[index] for level in LEVELS]
            ax.bar(LEVELS, values, bottom=bottom, label=dep)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_title(f"{title} by complexity")
        ax.grid(axis="y", alpha=0.3)
    ax_calls.legend(fontsize=8, loc="upper right")
    # (a literal dollar sign would start matplotlib's math mode)
    fig.suptitle(f"served locally {summary.local_share:.0%}; spend {summary.spend_usd:.4f} USD vs "
                 f"{summary.cloud_only_spend_usd:.4f} USD if every call had gone to the cloud model")
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
