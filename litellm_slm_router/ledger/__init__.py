"""The budget ledger: per-task spend and reservations, in this process or shared through Redis."""

from litellm_slm_router.ledger.base import DEFAULT_TTL_S, Ledger, TaskSnapshot
from litellm_slm_router.ledger.memory import InProcessLedger
from litellm_slm_router.ledger.redis import RedisLedger

__all__ = ["DEFAULT_TTL_S", "InProcessLedger", "Ledger", "RedisLedger", "TaskSnapshot"]
