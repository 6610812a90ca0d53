"""The operator surface on the LiteLLM proxy, behind the proxy's own key authentication.

- ``GET /slm-router/tasks/{task_id}``: the budget snapshot of one of the caller's tasks;
- ``GET /slm-router/decisions?limit=N``: the caller's last N routing decisions (newest last);
- ``GET /slm-router/metrics``: the plugin's Prometheus metrics (:mod:`.metrics`);
- ``POST /slm-router/feedback``: the outcome of one of the caller's answered calls, by its
  ``x-litellm-call-id`` (:mod:`.feedback`); ``GET /slm-router/outcomes``: the caller's recorded
  outcomes as JSON lines, the input of ``slm-router fit``; ``DELETE /slm-router/outcomes`` clears them.

A task or decision belongs to a tenant: the caller's team, else its API key (the namespace the
plugin budgets under, :func:`~litellm_slm_router.core.caps.resolve_task`), so a caller sees only its
own. The routes are added to the proxy's FastAPI app when the plugin's handler is loaded there.
"""


# No ``from __future__ import annotations`` here: FastAPI reads the routes' annotations (the ``Caller``
# dependency is local to add_routes) at definition time.
import json
import logging
from typing import Annotated, Any

from litellm_slm_router.adapters.metrics import CONTENT_TYPE_LATEST, METRICS
from litellm_slm_router.core.caps import resolve_task
from litellm_slm_router.core.errors import FeedbackError, LedgerUnavailableError

__all__ = ["PREFIX", "add_routes"]

PREFIX = "/slm-router"
logger = logging.getLogger("litellm_slm_router.proxy")


def _namespace(auth: Any) -> str:
    """The budget namespace of an authenticated caller, as the plugin derives it for its requests."""
    metadata = {"user_api_key_team_id": getattr(auth, "team_id", None),
                "user_api_key_hash": getattr(auth, "api_key", None), "task_id": "x"}
    return resolve_task(metadata).namespace


def add_routes(app: Any, handler: Any) -> None:
    """Add the operator routes to the proxy's FastAPI ``app`` (once); ``handler`` is the proxy's
    :class:`~litellm_slm_router.adapters.proxy.SLMRouterProxy`."""
    from fastapi import Body, Depends, HTTPException, Query, Request
    from fastapi.responses import Response
    from litellm.proxy.auth.user_api_key_auth import user_api_key_auth

    if any(getattr(route, "path", "").startswith(PREFIX) for route in app.routes):
        return
    Caller = Annotated[Any, Depends(user_api_key_auth)]  # the proxy's own key check

    def strategy() -> Any:
        installed = handler.ensure_installed()
        if installed is None:
            raise HTTPException(status_code=503, detail="slm-router is not installed on the proxy's router yet")
        return installed

    @app.get(PREFIX + "/tasks/{task_id}", tags=["slm-router"])
    async def task_state(task_id: str, auth: Caller) -> dict:
        """What one of the caller's tasks has spent, has reserved and has left."""
        installed = strategy()
        try:
            task = resolve_task({"user_api_key_team_id": getattr(auth, "team_id", None),
                                 "user_api_key_hash": getattr(auth, "api_key", None), "task_id": task_id})
        except Exception as exc:  # a malformed task id
            raise HTTPException(status_code=400, detail=str(exc)) from None
        snapshot = await installed.ledger.asnapshot(task, installed.default_caps)
        return snapshot.model_dump()

    @app.get(PREFIX + "/decisions", tags=["slm-router"])
    async def decisions(auth: Caller, limit: int = Query(20, ge=1, le=1000)) -> dict:
        """The caller's last ``limit`` routing decisions, newest last."""
        namespace = _namespace(auth)
        mine = [d for d in strategy().log.decisions if d.tenant == namespace][-limit:]
        return {"tenant": namespace, "decisions": [
            {"timestamp": d.timestamp, "model_group": d.model_group, **d.metadata_record()} for d in mine]}

    @app.get(PREFIX + "/metrics", tags=["slm-router"])
    async def metrics(auth: Caller) -> Response:
        """The plugin's Prometheus metrics."""
        return Response(METRICS.exposition(), media_type=CONTENT_TYPE_LATEST)

    @app.post(PREFIX + "/feedback", tags=["slm-router"])
    async def feedback(auth: Caller, request: Request, body: Annotated[Any, Body()] = None) -> dict:
        """Record the quality (0-1) of one of the caller's answered calls: ``{"call_id": ..., "quality": ...}``
        for the deployment that answered, or ``"weak"`` / ``"strong"``."""
        installed = strategy()
        if not isinstance(body, dict) or not isinstance(body.get("call_id"), str) or not body["call_id"]:
            sent_as = request.headers.get("content-type", "")
            hint = "" if "json" in sent_as else f" with Content-Type: application/json (this one came as {sent_as!r})"
            raise HTTPException(status_code=400, detail='slm-router feedback: send a JSON object {"call_id": '
                                '<the x-litellm-call-id header of the call>, "quality": <0-1>}' + hint)
        unknown = sorted(set(body) - {"call_id", "quality", "weak", "strong"})
        if unknown:
            raise HTTPException(status_code=400, detail=f"slm-router feedback: unknown key(s) {', '.join(unknown)} "
                                "(valid: call_id, quality, weak, strong)")
        try:
            line = await installed.feedback.arecord(body["call_id"], quality=body.get("quality"),
                                                    weak=body.get("weak"), strong=body.get("strong"),
                                                    tenant=_namespace(auth))
        except FeedbackError as exc:
            raise HTTPException(status_code=exc.status_code, detail=str(exc)) from None
        except LedgerUnavailableError as exc:
            raise HTTPException(status_code=503, detail=str(exc)) from None
        return {"recorded": {k: v for k, v in line.items() if k != "features"}}

    @app.get(PREFIX + "/outcomes", tags=["slm-router"])
    async def outcomes(auth: Caller) -> Response:
        """The caller's recorded outcomes, one JSON object per line (``slm-router fit`` reads them)."""
        lines = await strategy().feedback.aoutcomes(_namespace(auth))
        return Response("".join(json.dumps(line) + "\n" for line in lines), media_type="application/x-ndjson")

    @app.delete(PREFIX + "/outcomes", tags=["slm-router"])
    async def clear_outcomes(auth: Caller) -> dict:
        """Drop the caller's recorded outcomes (after exporting them)."""
        return {"cleared": await strategy().feedback.aclear(_namespace(auth))}

    logger.info("slm-router: operator routes at %s/tasks/{task_id}, /decisions, /metrics, /feedback, /outcomes",
                PREFIX)
