"""The health endpoints `serve` answers, for a hosting platform's probes (no log-in):
`GET /healthz`, the process is alive; `GET /readyz`, it is ready for work (`bot.health`).
Both answer JSON: 200, or 503 with the reason of each failed check."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from bot.health import Readiness

router = APIRouter()


@router.get("/healthz", include_in_schema=False)
async def alive() -> JSONResponse:
    """Answers as long as the process serves requests at all; it reads nothing."""
    return JSONResponse({"status": "alive"})


@router.get("/readyz", include_in_schema=False)
async def ready(request: Request) -> JSONResponse:
    readiness: Readiness = request.app.state.readiness
    report = await readiness.check()
    return JSONResponse(report.as_json(), status_code=200 if report.ready else 503)
