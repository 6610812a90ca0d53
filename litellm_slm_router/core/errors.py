"""Errors a user can meet. Each message says what was wrong and how to fix it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from litellm_slm_router.core.decision import CandidateVerdict


class SLMRouterError(Exception):
    """Base class of the plugin's errors."""


class ConfigError(SLMRouterError, ValueError):
    """A plugin setting is invalid. The message names the key and the fix."""


class NoCapableDeploymentError(SLMRouterError):
    """No deployment of a managed group satisfies the task's constraints.

    ``verdicts`` lists every candidate with the constraint that excluded it.
    """

    def __init__(self, model_group: str, complexity: str, verdicts: Sequence[CandidateVerdict], hint: str = ""):
        self.model_group = model_group
        self.complexity = complexity
        self.verdicts = list(verdicts)
        lines = "; ".join(f"{v.name}: {v.reason}" for v in self.verdicts) or "the group has no deployments"
        message = (
            f"slm-router: no deployment of model group '{model_group}' can take this {complexity} request "
            f"({lines})."
        )
        if hint:
            message += " " + hint
        super().__init__(message)

    status_code = 400  # retrying the same request cannot help: it must change (or the config must)
    num_retries = 0


class InvalidRequestError(SLMRouterError, ValueError):
    """Something in the request is malformed (task id, budget override); the client must change it."""

    status_code = 400
    num_retries = 0  # LiteLLM's Router reads this: retrying cannot help


class CannotFitError(InvalidRequestError):
    """A call that no task under these caps could ever afford (HTTP 400): the request must change."""


class BudgetExceededError(SLMRouterError):
    """The task's remaining budget cannot pay for any capable deployment now; nothing was called (HTTP 429).

    ``retry_after_s`` is set (and sent as ``Retry-After``) when only calls in flight hold the budget.
    """

    status_code = 429
    num_retries = 0  # LiteLLM's Router reads this: retrying at once cannot make the budget larger

    def __init__(self, message: str, *, task: str, cap_usd: float | None, cap_tokens: int | None,
                 spent_usd: float, reserved_usd: float, spent_tokens: int, reserved_tokens: int,
                 retry_after_s: int | None = None) -> None:
        self.retry_after_s = retry_after_s
        # LiteLLM's proxy copies an exception's ``headers`` into the error response.
        self.headers = {"retry-after": str(retry_after_s)} if retry_after_s else {}
        self.task = task
        self.cap_usd = cap_usd
        self.cap_tokens = cap_tokens
        self.spent_usd = spent_usd
        self.reserved_usd = reserved_usd
        self.spent_tokens = spent_tokens
        self.reserved_tokens = reserved_tokens
        super().__init__(message)


class LedgerUnavailableError(SLMRouterError):
    """The budget ledger (Redis) cannot be reached and the configured behaviour refuses the call."""

    status_code = 503
    num_retries = 0


class FeedbackError(SLMRouterError):
    """Feedback that cannot be recorded: bad values (400), a call the plugin has no record of (404),
    or a tenant whose outcome store is full (409). The message says which and what to do."""

    num_retries = 0

    def __init__(self, message: str, status_code: int = 400) -> None:
        self.status_code = status_code
        super().__init__(message)


class StartupRefused(ConfigError):
    """The configuration has problems; the proxy must not start. One short line per problem."""

    def __init__(self, problems: Sequence[object], source: str | None = None) -> None:
        self.problems = [str(p) for p in problems]
        self.source = source
        where = f" in {source}" if source else ""
        count = f"{len(self.problems)} configuration problem{'s' if len(self.problems) != 1 else ''}"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"slm-router refused to start: {count}{where}\n{lines}\n"
                         "Nothing was served. Fix these settings and start the proxy again.")
