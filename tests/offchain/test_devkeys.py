import pytest

from offchain.devkeys import NotALocalChainError, dev_account, dev_oracle_accounts


def test_index_zero_is_anvils_first_funded_account() -> None:
    assert dev_account(0, 31337).address == "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


def test_oracle_keys_are_distinct_from_funded_accounts() -> None:
    oracles = {a.address for a in dev_oracle_accounts(5, 31337)}
    funded = {dev_account(i, 31337).address for i in range(10)}
    assert len(oracles) == 5 and not oracles & funded


def test_refused_on_a_public_chain() -> None:
    with pytest.raises(NotALocalChainError, match="not chain 1;"):
        dev_account(0, 1)
