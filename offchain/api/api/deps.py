"""Request-scoped dependencies: settings, stores, feed hub and the two bearer-token checks."""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from ..agent_store import AgentStore
from ..feed import FeedHub
from ..problems import ProblemError
from ..settings import ApiSettings
from ..store import Store

_bearer = HTTPBearer(auto_error=False)


def get_settings(connection: HTTPConnection) -> ApiSettings:
    settings: ApiSettings = connection.app.state.settings
    return settings


def get_store(connection: HTTPConnection) -> Store:
    store: Store = connection.app.state.store
    return store


def get_agent_store(connection: HTTPConnection) -> AgentStore:
    agent_store: AgentStore = connection.app.state.agent_store
    return agent_store


def get_hub(connection: HTTPConnection) -> FeedHub:
    hub: FeedHub = connection.app.state.hub
    return hub


SettingsDep = Annotated[ApiSettings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
AgentStoreDep = Annotated[AgentStore, Depends(get_agent_store)]
HubDep = Annotated[FeedHub, Depends(get_hub)]
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]


def _check_token(credentials: HTTPAuthorizationCredentials | None, expected: str, role: str) -> None:
    if credentials is None:
        raise ProblemError(
            401,
            "unauthorized",
            "Missing token",
            f"a bearer {role} token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )
    # Constant-time comparison: the token must not leak through response timing.
    if not hmac.compare_digest(credentials.credentials.encode(), expected.encode()):
        raise ProblemError(
            403,
            "forbidden",
            "Wrong token",
            f"the bearer token is not the {role} token",
            headers={"WWW-Authenticate": "Bearer"},
        )


def require_admin(request: Request, credentials: Credentials) -> None:
    _check_token(credentials, get_settings(request).admin_token.get_secret_value(), "admin")


def require_oracle(request: Request, credentials: Credentials) -> None:
    _check_token(credentials, get_settings(request).oracle_token.get_secret_value(), "oracle")


AdminDep = Depends(require_admin)
OracleDep = Depends(require_oracle)
