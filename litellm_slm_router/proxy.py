"""The path a LiteLLM proxy config names: ``callbacks: litellm_slm_router.proxy.handler``.

The handler itself lives in :mod:`litellm_slm_router.adapters.proxy`; this module keeps the
documented config path stable.
"""

from litellm_slm_router.adapters.proxy import SLMRouterProxy, handler

__all__ = ["SLMRouterProxy", "handler"]
