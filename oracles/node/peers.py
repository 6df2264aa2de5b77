"""Signature exchange between oracle nodes over HTTP.

Each node serves ``POST /signatures``: a peer's compact EIP-712 signature over a verdict. A signature is kept
only if it recovers to a member of the on-chain oracle set of the verdict's epoch and that epoch is the
current one; anything else is refused (403) and never reaches the chain. Kept signatures are stored in the
checkpoint, so they survive a restart of the receiving node. Sending is ``PeerClient.send``: one POST, with
the caller re-sending later to peers that did not take it (peers may be down for a while).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, HTTPException
from starlette.concurrency import run_in_threadpool

from oracles.node.chain import OracleSet
from oracles.node.checkpoint import Checkpoint
from oracles.node.wire import SignatureMessage, verdict_from_dict, verdict_to_dict
from oracles.verdicts import Verdict, VerdictError, recover_signer, verdict_id

log = logging.getLogger("asc.oracle.peers")


def create_peer_app(
    checkpoint: Checkpoint,
    oracle_set: Callable[[], OracleSet],
    chain_id: int,
    hub_address: str,
    on_signature: Callable[[str], None] = lambda _: None,
) -> FastAPI:
    """The peer endpoint; ``oracle_set`` returns the current on-chain set (the chain client's reader)."""
    app = FastAPI(title="ASC oracle node", docs_url=None, redoc_url=None)

    def accept(message: SignatureMessage) -> dict[str, Any]:
        try:
            verdict = verdict_from_dict(message.verdict)
            signature = bytes.fromhex(message.signature.removeprefix("0x"))
            signer = recover_signer(verdict, signature, chain_id, hub_address)
        except VerdictError as exc:
            raise HTTPException(status_code=422, detail=str(exc)) from exc
        current = oracle_set()
        if verdict.epoch != current.epoch:
            raise HTTPException(
                status_code=409,
                detail=f"verdict epoch {verdict.epoch} is not the current epoch {current.epoch}",
            )
        if signer not in current.signers:
            log.warning("refused a signature by %s: not in the oracle set of epoch %d", signer, current.epoch)
            raise HTTPException(
                status_code=403, detail=f"{signer} is not in the oracle set of epoch {current.epoch}"
            )
        vid = "0x" + verdict_id(verdict, chain_id, hub_address).hex()
        added = checkpoint.add_signature(vid, signer, signature)
        if added:
            log.info("kept signature of %s for verdict %s", signer, vid)
            on_signature(vid)
        return {"verdict_id": vid, "signer": signer, "new": added}

    @app.post("/signatures", status_code=202)
    async def post_signature(message: SignatureMessage) -> dict[str, Any]:
        return await run_in_threadpool(accept, message)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


class PeerServer:
    """uvicorn in a background thread; ``stop`` lets in-flight requests finish."""

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        config = uvicorn.Config(
            app, host=host, port=port, log_config=None, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="peer-server", daemon=True)

    def start(self, timeout_s: float = 10.0) -> None:
        self._thread.start()
        for _ in range(int(timeout_s / 0.05)):
            if self._server.started:
                return
            if not self._thread.is_alive():
                break
            time.sleep(0.05)
        raise RuntimeError("the peer endpoint did not start (port taken?)")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)


class PeerClient:
    def __init__(self, peers: list[str], timeout_s: float) -> None:
        self.peers = list(peers)
        self._http = httpx.Client(timeout=timeout_s)

    def close(self) -> None:
        self._http.close()

    def send(self, peer: str, verdict: Verdict, signature: bytes) -> bool:
        """True when the peer took the signature (or already had it); False to try again later.

        A refusal (4xx) is final and logged: the peer disagrees about the oracle set or the epoch.
        """
        body = SignatureMessage(verdict=verdict_to_dict(verdict), signature="0x" + signature.hex())
        try:
            response = self._http.post(f"{peer}/signatures", json=body.model_dump())
        except httpx.TransportError as exc:
            log.debug("peer %s unreachable: %s", peer, type(exc).__name__)
            return False
        if response.status_code == 202:
            return True
        if 400 <= response.status_code < 500:
            log.error("peer %s refused our signature: %s %s", peer, response.status_code, response.text[:300])
            return True
        log.warning("peer %s answered %s; will retry", peer, response.status_code)
        return False
