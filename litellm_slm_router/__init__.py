"""litellm-slm-router: route every LiteLLM call to the smallest capable model, local first."""

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

__version__ = "0.1.0"

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
