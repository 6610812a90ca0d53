"""litellm-slm-router: route every LiteLLM call to the smallest capable model, local first."""

from litellm_slm_router.budget import Budget, estimate_prompt_tokens
from litellm_slm_router.catalogue import Catalogue, DeploymentProfile, ModelOption
from litellm_slm_router.classifier import Assessment, ClassifierThresholds, TaskComplexityClassifier
from litellm_slm_router.complexity import TaskComplexity
from litellm_slm_router.decision import CandidateVerdict, DecisionLog, RoutingDecision
from litellm_slm_router.errors import ConfigError, NoCapableDeploymentError, SLMRouterError
from litellm_slm_router.policy import RoutingPolicy
from litellm_slm_router.selector import FORCED_LOCAL, select
from litellm_slm_router.strategy import SLMRoutingStrategy, install

__version__ = "0.1.0"

__all__ = [
    "FORCED_LOCAL",
    "Assessment",
    "Budget",
    "CandidateVerdict",
    "Catalogue",
    "ClassifierThresholds",
    "ConfigError",
    "DecisionLog",
    "DeploymentProfile",
    "ModelOption",
    "NoCapableDeploymentError",
    "RoutingDecision",
    "RoutingPolicy",
    "SLMRouterError",
    "SLMRoutingStrategy",
    "TaskComplexity",
    "TaskComplexityClassifier",
    "__version__",
    "estimate_prompt_tokens",
    "install",
    "select",
]
