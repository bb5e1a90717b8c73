"""Dependencies shared by the routers."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, HTTPException, Request, Security
from fastapi.security import APIKeyHeader

from kgrec.api.state import AppState


async def get_state(request: Request) -> AppState:
    """Async, so FastAPI resolves it on the event loop instead of a thread-pool round trip."""
    state: AppState = request.app.state.kgrec
    return state


State = Annotated[AppState, Depends(get_state)]


API_KEY_HEADER = APIKeyHeader(name="X-API-Key", auto_error=False, description="admin key")


def require_admin(state: State, x_api_key: Annotated[str | None, Security(API_KEY_HEADER)] = None) -> None:
    """401 without a key, 403 with a wrong one; compared in constant time."""
    if not x_api_key:
        raise HTTPException(status_code=401, detail="admin endpoints need the X-API-Key header")
    if not hmac.compare_digest(x_api_key.encode(), state.api_key.encode()):
        raise HTTPException(status_code=403, detail="wrong API key")


Admin = Depends(require_admin)
