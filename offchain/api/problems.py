"""RFC 9457 problem details: every rejection says which reading, which field and why."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from .schemas import ProblemItem

PROBLEM_MEDIA_TYPE = "application/problem+json"
PROBLEM_TYPE_PREFIX = "urn:asc:problem:"


class ProblemError(Exception):
    """Raised anywhere in request handling; rendered as problem details with `status`."""

    def __init__(
        self,
        status: int,
        slug: str,
        title: str,
        detail: str,
        errors: Sequence[ProblemItem] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers

    def body(self) -> dict[str, Any]:
        return {
            "type": PROBLEM_TYPE_PREFIX + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "errors": [item.model_dump() for item in self.errors],
        }


def _problem_response(problem: ProblemError) -> JSONResponse:
    return JSONResponse(
        problem.body(), status_code=problem.status, media_type=PROBLEM_MEDIA_TYPE, headers=problem.headers
    )


def _item_from_pydantic(error: dict[str, Any]) -> ProblemItem:
    loc = [part for part in error.get("loc", ()) if part not in ("body", "query", "path")]
    reading: int | None = None
    if len(loc) >= 2 and loc[0] == "readings" and isinstance(loc[1], int):
        reading = loc[1]
    field = ".".join(str(part) for part in loc) or None
    return ProblemItem(reading=reading, field=field, reason=str(error.get("msg", "invalid")))


async def _on_api_problem(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return _problem_response(exc)


async def _on_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    items = [_item_from_pydantic(dict(error)) for error in exc.errors()]
    return _problem_response(
        ProblemError(422, "malformed", "Malformed request", f"{len(items)} schema violation(s)", items)
    )


async def _on_http_exception(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return _problem_response(
        ProblemError(exc.status_code, slug, str(exc.detail), str(exc.detail), headers=dict(exc.headers or {}))
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ProblemError, _on_api_problem)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
