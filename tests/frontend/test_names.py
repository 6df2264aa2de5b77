"""frontend/names.py: the names agents registered under, roles and short addresses otherwise."""

from __future__ import annotations

from frontend.names import directory, name
from offchain.audit.events import ChainEvent
from offchain.audit.history import History

AGENT = "0x" + "a1" * 20
PLAIN = "0x" + "b2" * 20


def _registered(account: str, roles: int, uri: str, block: int) -> ChainEvent:
    args = {
        "account": account,
        "roles": roles,
        "productType": b"beef-chilled".ljust(32, b"\0"),
        "region": b"cambridge".ljust(32, b"\0"),
        "capacity": 100,
        "metadataURI": uri,
    }
    return ChainEvent("ParticipantRegistry", "ParticipantRegistered", args, block, 0, "0x00", "0x00")


def _history() -> History:
    return History(31337, 10, [_registered(AGENT, 1, "asc-agent:supplier-ely", 1), _registered(PLAIN, 1, "", 2)])


def test_an_agent_is_named_by_the_name_it_registered_under() -> None:
    assert directory(_history())[AGENT] == "supplier-ely (supplier)"


def test_an_account_without_an_agent_name_is_its_roles_and_short_address() -> None:
    assert directory(_history())[PLAIN] == "supplier 0xb2b2…b2b2"


def test_an_unknown_address_is_shortened_and_broadcast_is_everyone() -> None:
    assert name({}, "0x" + "c3" * 20) == "0xc3c3…c3c3"
    assert name({}, "broadcast") == "everyone"
