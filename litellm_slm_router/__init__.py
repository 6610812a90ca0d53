"""litellm-slm-router: route every LiteLLM call to the smallest capable model, local first.

Names are imported on first use, so that ``import litellm_slm_router.cli`` can configure LiteLLM
(its offline price map) before LiteLLM itself is imported.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS: dict[str, str] = {
    "Assessment": "litellm_slm_router.classifier",
    "Budget": "litellm_slm_router.budget",
    "BudgetExceededError": "litellm_slm_router.errors",
    "CandidateVerdict": "litellm_slm_router.decision",
    "Catalogue": "litellm_slm_router.catalogue",
    "ClassifierThresholds": "litellm_slm_router.classifier",
    "ConfigError": "litellm_slm_router.errors",
    "CriticPanel": "litellm_slm_router.shapes",
    "DEFAULT_SHAPES": "litellm_slm_router.shapes",
    "DecisionLog": "litellm_slm_router.decision",
    "DeploymentProfile": "litellm_slm_router.catalogue",
    "FORCED_LOCAL": "litellm_slm_router.selector",
    "InProcessLedger": "litellm_slm_router.ledger",
    "InvalidRequestError": "litellm_slm_router.errors",
    "LedgerUnavailableError": "litellm_slm_router.errors",
    "ModelOption": "litellm_slm_router.catalogue",
    "NoCapableDeploymentError": "litellm_slm_router.errors",
    "RedisLedger": "litellm_slm_router.ledger",
    "Role": "litellm_slm_router.shapes",
    "RoutingDecision": "litellm_slm_router.decision",
    "RoutingPolicy": "litellm_slm_router.policy",
    "SLMRouterError": "litellm_slm_router.errors",
    "SLMRoutingStrategy": "litellm_slm_router.strategy",
    "Shape": "litellm_slm_router.shapes",
    "ShapeBook": "litellm_slm_router.shapes",
    "StepResult": "litellm_slm_router.execution",
    "TaskComplexity": "litellm_slm_router.complexity",
    "TaskComplexityClassifier": "litellm_slm_router.classifier",
    "TaskResult": "litellm_slm_router.execution",
    "TaskSnapshot": "litellm_slm_router.ledger",
    "estimate_prompt_tokens": "litellm_slm_router.budget",
    "install": "litellm_slm_router.strategy",
    "run_task": "litellm_slm_router.execution",
    "run_task_sync": "litellm_slm_router.execution",
    "select": "litellm_slm_router.selector",
    "terminal_approver": "litellm_slm_router.execution",
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
    from litellm_slm_router.budget import Budget, estimate_prompt_tokens
    from litellm_slm_router.catalogue import Catalogue, DeploymentProfile, ModelOption
    from litellm_slm_router.classifier import Assessment, ClassifierThresholds, TaskComplexityClassifier
    from litellm_slm_router.complexity import TaskComplexity
    from litellm_slm_router.decision import CandidateVerdict, DecisionLog, RoutingDecision
    from litellm_slm_router.errors import (
        BudgetExceededError,
        ConfigError,
        InvalidRequestError,
        LedgerUnavailableError,
        NoCapableDeploymentError,
        SLMRouterError,
    )
    from litellm_slm_router.execution import StepResult, TaskResult, run_task, run_task_sync, terminal_approver
    from litellm_slm_router.ledger import InProcessLedger, RedisLedger, TaskSnapshot
    from litellm_slm_router.policy import RoutingPolicy
    from litellm_slm_router.selector import FORCED_LOCAL, select
    from litellm_slm_router.shapes import DEFAULT_SHAPES, CriticPanel, Role, Shape, ShapeBook
    from litellm_slm_router.strategy import SLMRoutingStrategy, install


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
