"""Application factory: `create_app(settings)` wires the store, the feed hub and the routers."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Receive, Scope, Send

from .agent_store import AgentStore
from .api.routes import approvals, batches, devices, feed, health, messages, shipments, verdicts
from .feed import FeedHub
from .problems import PROBLEM_MEDIA_TYPE, ProblemError, install_problem_handlers
from .settings import ApiSettings
from .signing import SIGNING_DOMAIN
from .store import open_store

logger = logging.getLogger(__name__)

API_VERSION = "1.0.0"
# JSON of one reading is about 150 bytes; the slack covers the envelope and pretty-printing.
BYTES_PER_READING = 512

DESCRIPTION = f"""
Device ingestion, durable reading store, queries and live feed of the ASC dapp.

## Units
Every physical value is a fixed-point integer with its unit in the field name (`ts_ms`, `temp_centi_c`,
`humidity_bp` = basis points of relative humidity, `light_lux`, `shock_milli_g`, `lat_e7`/`lon_e7` =
degrees x 1e7). No floats: they round differently across languages.

## Signing a batch
A batch is signed by the device's secp256k1 key (registered as an Ethereum address) with EIP-191
`personal_sign` over the canonical JSON of

    {{"domain": "{SIGNING_DOMAIN}", "device_id": ..., "shipment_id": ..., "seq": ...,
     "readings": [{{"ts_ms", "temp_centi_c", "humidity_bp", "light_lux", "shock_milli_g", "lat_e7",
                   "lon_e7"}}, ...]}}

Canonical JSON: keys sorted at every level, separators `,` and `:` without spaces, ASCII, integers only,
readings in posted order. The message is `"\\x19Ethereum Signed Message:\\n" + len(bytes) + bytes`; the
signature is 65 bytes `r || s || v` (v = 27/28) as 0x-hex. The batch hash is keccak256 of the canonical
bytes. `seq` is per device and strictly increasing.

## Rejections
Every 4xx is `{PROBLEM_MEDIA_TYPE}` (RFC 9457) with `type` `urn:asc:problem:<kind>` and an `errors`
list naming the offending reading (index in the batch), field and reason. A batch is accepted entirely or
not at all: 401 unknown device / bad signature, 403 device not allowed for the shipment, 409 seq reused
with other content / seq not increasing / readings already accepted, 413 too large, 422 malformed /
out of order (timestamps must increase within the batch and follow the device's last accepted reading) /
implausible (temperature outside -60..+80 C, humidity outside 0..100 %, light outside 0..200000 lux,
shock outside 0..200 g, latitude/longitude out of range, timestamp too far in the future, movement faster
than the configured speed between consecutive fixes).

## Agents: transcript and approvals
Messages, approval requests and decisions are signed with EIP-191 `personal_sign` over the canonical JSON
(RFC 8785, integers only) of the body without `signature`; every field is present, nullable ones as
`null`. The id of a message or request is keccak256 of those bytes. Contract: interfaces/agents/README.md;
helpers: `offchain.api.agent_signing`. 401 bad signature, 403 approver not in the request's list, 409 a
different decision was recorded first.

## Live feed
`/ws/feed?shipment_id=...&after_id=...` streams JSON text frames `{{"type": "reading"|"verdict"|"message"|
"approval"|"gap", "data": ..., "dropped": ...}}`; `message` and `approval` frames (agents) go to clients
without a `shipment_id` filter. With `after_id`, stored readings after that id are sent first. Each
client has a bounded buffer: when it is full the oldest message is dropped, and the client then
receives a `gap` frame with the number dropped. A slow client never slows ingestion.
"""


class BodyLimit:
    """Rejects oversized bodies before they are read, using Content-Length (required for POST/PUT)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("POST", "PUT"):
            headers = dict(scope["headers"])
            declared = headers.get(b"content-length")
            problem: tuple[int, str, str] | None = None
            if declared is None and headers.get(b"transfer-encoding") is not None:
                problem = (411, "length-required", "send the body with a Content-Length header")
            elif declared is not None and (not declared.isdigit() or int(declared) > self.max_bytes):
                problem = (413, "body-too-large", f"body larger than {self.max_bytes} bytes")
            if problem is not None:
                await _send_problem(send, *problem)
                return
        await self.app(scope, receive, send)


async def _send_problem(send: Send, status: int, slug: str, detail: str) -> None:
    body = json.dumps(ProblemError(status, slug, detail, detail).body()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def _problem_openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, with errors described as the problem details this API really sends."""
    if app.openapi_schema is not None:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    problem_ref = {"$ref": "#/components/schemas/Problem"}
    validation_ref = {"$ref": "#/components/schemas/HTTPValidationError"}
    for operations in schema["paths"].values():
        for operation in operations.values():
            for response in operation.get("responses", {}).values():
                declared = response.get("content", {}).get("application/json", {}).get("schema")
                if declared == validation_ref:
                    response["description"] = "Malformed request."
                if declared in (problem_ref, validation_ref):
                    response["content"] = {PROBLEM_MEDIA_TYPE: {"schema": problem_ref}}
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    app.openapi_schema = schema
    return schema


def build_app(lifespan: Any = None) -> FastAPI:
    """The app's routes and documentation, without state; `create_app` adds the running parts."""
    app = FastAPI(
        title="ASC device and query API",
        version=API_VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    install_problem_handlers(app)
    app.openapi = lambda: _problem_openapi(app)  # type: ignore[method-assign]
    for module in (health, devices, batches, shipments, verdicts, messages, approvals, feed):
        app.include_router(module.router)
    return app


def create_app(settings: ApiSettings) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = await run_in_threadpool(
            open_store,
            settings.resolved_database_url(),
            max_future_ms=settings.max_future_ms,
            max_speed_kmh=settings.max_speed_kmh,
        )
        hub = FeedHub(settings.feed_queue_size)
        app.state.settings, app.state.store, app.state.hub = settings, store, hub
        app.state.agent_store = AgentStore(store)
        try:
            yield
        finally:
            hub.close()
            store.close()
            logger.info("store closed")

    app = build_app(lifespan)
    app.add_middleware(BodyLimit, max_bytes=settings.max_batch_readings * BYTES_PER_READING + 4096)
    return app
