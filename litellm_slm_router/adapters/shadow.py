"""Shadow mode (``slm_router.shadow: true``): the plugin decides and logs, LiteLLM's own strategy routes.

For a managed group each attempt is assessed and selected on the task's caps as if nothing had been
spent (no ledger is read or written, nothing is enforced or refused), and the decision is logged
beside the deployment LiteLLM's strategy chose, with that call's outcome and real cost once it has
ended. ``slm-router report`` then shows what the plugin's choices would have cost
(:mod:`~litellm_slm_router.local.report`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from litellm_slm_router.adapters.request import RESERVATION_KEY
from litellm_slm_router.core.budget import Budget
from litellm_slm_router.core.errors import SLMRouterError

__all__ = ["decide_in_shadow"]


def decide_in_shadow(strategy: Any, model_group: str, healthy: Sequence[dict], prompt: Any, request_kwargs: dict,
                     served: dict) -> dict:
    """Log what ``strategy`` would have chosen for this request; return ``served``, LiteLLM's choice."""
    try:
        plan = strategy._plan(model_group, healthy, prompt, request_kwargs)
        decision = strategy.reserver.decide(plan, Budget(plan.caps.cost_usd, plan.caps.tokens))
    except SLMRouterError as exc:
        strategy.log_refusal(model_group, request_kwargs, exc)  # what would have been refused
        return served
    option = strategy.catalogue.option_for(served)
    decision = decision.model_copy(update={"shadow": True, "served_deployment_id": option.deployment_id,
                                           "served_model": option.model})
    strategy.log.record(decision)
    plan.metadata[RESERVATION_KEY] = strategy.settlement.shadow_record(decision, plan.call_id, time.time())
    return served
