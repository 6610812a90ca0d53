"""litellm-slm-router: route every LiteLLM call to the smallest capable model, local first.

Names are imported on first use, so that ``import litellm_slm_router.cli`` can configure LiteLLM
(its offline price map) before LiteLLM itself is imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Assessment": "litellm_slm_router.core.classifier",
    "Budget": "litellm_slm_router.core.budget",
    "BudgetExceededError": "litellm_slm_router.core.errors",
    "CandidateVerdict": "litellm_slm_router.core.decision",
    "Catalogue": "litellm_slm_router.adapters.catalogue",
    "ClassifierThresholds": "litellm_slm_router.core.classifier",
    "ConfigError": "litellm_slm_router.core.errors",
    "CriticPanel": "litellm_slm_router.tasks.shapes",
    "DEFAULT_SHAPES": "litellm_slm_router.tasks.shapes",
    "DecisionLog": "litellm_slm_router.records.log",
    "DeploymentProfile": "litellm_slm_router.core.options",
    "FORCED_LOCAL": "litellm_slm_router.core.selector",
    "FeedbackError": "litellm_slm_router.core.errors",
    "FeedbackSettings": "litellm_slm_router.adapters.feedback",
    "InProcessLedger": "litellm_slm_router.ledger",
    "InvalidRequestError": "litellm_slm_router.core.errors",
    "LedgerUnavailableError": "litellm_slm_router.core.errors",
    "ModelOption": "litellm_slm_router.core.options",
    "NoCapableDeploymentError": "litellm_slm_router.core.errors",
    "RedisLedger": "litellm_slm_router.ledger",
    "Role": "litellm_slm_router.tasks.shapes",
    "RoutingDecision": "litellm_slm_router.core.decision",
    "RoutingPolicy": "litellm_slm_router.core.policy",
    "SLMRouterError": "litellm_slm_router.core.errors",
    "SLMRoutingStrategy": "litellm_slm_router.adapters.strategy",
    "Shape": "litellm_slm_router.tasks.shapes",
    "ShapeBook": "litellm_slm_router.tasks.shapes",
    "StepResult": "litellm_slm_router.tasks.run",
    "TaskComplexity": "litellm_slm_router.core.levels",
    "TaskComplexityClassifier": "litellm_slm_router.core.classifier",
    "TaskResult": "litellm_slm_router.tasks.run",
    "TaskSnapshot": "litellm_slm_router.ledger",
    "estimate_prompt_tokens": "litellm_slm_router.core.budget",
    "install": "litellm_slm_router.adapters.strategy",
    "run_task": "litellm_slm_router.tasks.run",
    "run_task_sync": "litellm_slm_router.tasks.run",
    "select": "litellm_slm_router.core.selector",
    "terminal_approver": "litellm_slm_router.tasks.run",
}

__all__ = [
    "DEFAULT_SHAPES",
    "FORCED_LOCAL",
    "Assessment",
    "Budget",
    "BudgetExceededError",
    "CandidateVerdict",
    "Catalogue",
    "ClassifierThresholds",
    "ConfigError",
    "CriticPanel",
    "DecisionLog",
    "DeploymentProfile",
    "FeedbackError",
    "FeedbackSettings",
    "InProcessLedger",
    "InvalidRequestError",
    "LedgerUnavailableError",
    "ModelOption",
    "NoCapableDeploymentError",
    "RedisLedger",
    "Role",
    "RoutingDecision",
    "RoutingPolicy",
    "SLMRouterError",
    "SLMRoutingStrategy",
    "Shape",
    "ShapeBook",
    "StepResult",
    "TaskComplexity",
    "TaskComplexityClassifier",
    "TaskResult",
    "TaskSnapshot",
    "__version__",
    "estimate_prompt_tokens",
    "install",
    "run_task",
    "run_task_sync",
    "select",
    "terminal_approver",
]

if TYPE_CHECKING:
    from litellm_slm_router.adapters.catalogue import Catalogue
    from litellm_slm_router.adapters.feedback import FeedbackSettings
    from litellm_slm_router.adapters.strategy import SLMRoutingStrategy, install
    from litellm_slm_router.core.budget import Budget, estimate_prompt_tokens
    from litellm_slm_router.core.classifier import Assessment, ClassifierThresholds, TaskComplexityClassifier
    from litellm_slm_router.core.decision import CandidateVerdict, RoutingDecision
    from litellm_slm_router.core.errors import (
        BudgetExceededError,
        ConfigError,
        FeedbackError,
        InvalidRequestError,
        LedgerUnavailableError,
        NoCapableDeploymentError,
        SLMRouterError,
    )
    from litellm_slm_router.core.levels import TaskComplexity
    from litellm_slm_router.core.options import DeploymentProfile, ModelOption
    from litellm_slm_router.core.policy import RoutingPolicy
    from litellm_slm_router.core.selector import FORCED_LOCAL, select
    from litellm_slm_router.ledger import InProcessLedger, RedisLedger, TaskSnapshot
    from litellm_slm_router.records.log import DecisionLog
    from litellm_slm_router.tasks.run import StepResult, TaskResult, run_task, run_task_sync, terminal_approver
    from litellm_slm_router.tasks.shapes import DEFAULT_SHAPES, CriticPanel, Role, Shape, ShapeBook


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
