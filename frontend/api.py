"""What the dapp reads from the ASC API, and the one thing it writes there: a person's signed decision.

Readings, positions and verdicts go through the shared client (`offchain.api.client`); agent messages and
approval requests follow interfaces/agents/README.md.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from frontend.errors import ApiUnavailable
from frontend.wallet import Wallet
from offchain.api.client import ApiClient, ApiError
from offchain.api.schemas import ReadingPublic, VerdictPublic
from offchain.storage.canonical import encode


class DappApi:
    def __init__(self, base_url: str | None, timeout_s: float = 10.0) -> None:
        if not base_url:
            raise ApiUnavailable("no API URL is configured (set ASC_DAPP_API_URL)")
        self.base_url = base_url.rstrip("/")
        self._client = ApiClient(self.base_url, timeout_s=timeout_s)
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout_s)

    def close(self) -> None:
        self._client.close()
        self._http.close()

    def _get(self, path: str, **params: Any) -> Any:
        response = self._http.get(path, params={k: v for k, v in params.items() if v is not None})
        return _body(response)

    # sensors
    def readings(self, shipment_id: str, from_ms: int | None = None, to_ms: int | None = None) -> list[ReadingPublic]:
        return list(self._client.readings(shipment_id, from_ms=from_ms, to_ms=to_ms, page_size=1000))

    def verdicts(self, shipment_id: str | None = None) -> list[VerdictPublic]:
        return self._client.verdicts(shipment_id, limit=1000)

    # agents (interfaces/agents/README.md)
    def messages(self, conversation: str | None = None, participant: str | None = None) -> list[dict[str, Any]]:
        """Every message, oldest first, following `next_after` across pages."""
        items: list[dict[str, Any]] = []
        after: int | None = None
        while True:
            page = self._get("/messages", conversation=conversation, participant=participant, after=after, limit=500)
            items += page["items"]
            after = page.get("next_after")
            if after is None or not page["items"]:
                return items

    def approvals(self, status: str = "pending", agent: str | None = None) -> list[dict[str, Any]]:
        body = self._get("/approvals", status=status, agent=agent)
        return list(body["items"] if isinstance(body, dict) else body)

    def decide(self, approval_id: str, decision: str, wallet: Wallet, comment: str = "") -> dict[str, Any]:
        """Sign the decision with the partner's key (EIP-191 over its canonical JSON) and post it."""
        unsigned = {
            "approval_id": approval_id,
            "decision": decision,
            "approver": wallet.address,
            "comment": comment,
            "decided_ms": time.time_ns() // 1_000_000,
        }
        signed = unsigned | {"signature": wallet.sign_message(encode(unsigned))}
        result: dict[str, Any] = _body(self._http.post(f"/approvals/{approval_id}/decision", json=signed))
        return result


def _body(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        try:
            problem = response.json()
        except ValueError:
            problem = {"detail": response.text}
        raise ApiError(response.status_code, problem if isinstance(problem, dict) else {"detail": problem})
    return response.json()
