"""Agent configs and settings: the examples load; every mistake is an error naming the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from offchain.agents.config import AgentKind, ConfigError, load_config
from offchain.agents.settings import AgentSettings
from tests.chain_support import ROOT

EXAMPLES = sorted((ROOT / "offchain" / "agents" / "configs").glob("*.yaml"))
APPROVER = "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.name)
def test_example_configs_load(path: Path) -> None:
    assert load_config(path).name


def test_every_kind_has_an_example() -> None:
    assert {load_config(p).kind for p in EXAMPLES} == set(AgentKind)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no agent config at .*nope\.yaml"):
        load_config(tmp_path / "nope.yaml")


def test_broken_yaml_is_reported(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read agent config"):
        load_config(_write(tmp_path, "kind: [supplier"))


def test_a_list_is_not_a_config(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="must be a YAML mapping"):
        load_config(_write(tmp_path, "- a\n- b\n"))


def test_a_carrier_needs_a_fleet(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="a carrier needs a `fleet`"):
        load_config(_write(tmp_path, "kind: carrier\nname: c\nregion: x\n"))


def test_an_unknown_key_names_the_field(tmp_path: Path) -> None:
    text = "kind: supplier\nname: s\nregion: x\nproducts: [{product: beef, colour: red}]\n"
    with pytest.raises(ConfigError, match=r"products\.0\.colour"):
        load_config(_write(tmp_path, text))


def test_approvers_must_be_checksummed(tmp_path: Path) -> None:
    text = f"kind: logistics\nname: l\nregion: x\napprovals: {{approvers: ['{APPROVER.lower()}']}}\n"
    with pytest.raises(ConfigError, match="not a checksummed address"):
        load_config(_write(tmp_path, text))


def test_a_limit_without_approvers_is_refused(tmp_path: Path) -> None:
    text = "kind: logistics\nname: l\nregion: x\napprovals: {verdict_severity: 2}\n"
    with pytest.raises(ConfigError, match="no approvers"):
        load_config(_write(tmp_path, text))


def test_a_product_listed_twice_is_refused(tmp_path: Path) -> None:
    text = "kind: supplier\nname: s\nregion: x\nproducts: [{product: beef}, {product: beef}]\n"
    with pytest.raises(ConfigError, match="listed twice"):
        load_config(_write(tmp_path, text))


def test_inverted_sla_ranges_are_refused(tmp_path: Path) -> None:
    text = ("kind: retailer\nname: r\nregion: x\nproducts: [{product: beef}]\n"
            "buying: {sla: {temp_min_centi_c: 600, temp_max_centi_c: 500}}\n")
    with pytest.raises(ConfigError, match="inverted"):
        load_config(_write(tmp_path, text))


def test_settings_refuse_two_key_sources(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_AGENT_KEYSTORE", "/k.json")
    monkeypatch.setenv("ASC_AGENT_DEV_KEY_INDEX", "3")
    with pytest.raises(ValidationError, match="not both"):
        AgentSettings()


def test_settings_keep_the_password_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ASC_AGENT_KEYSTORE_PASSWORD", "hunter2-hunter2")
    settings = AgentSettings()
    assert "hunter2" not in repr(settings) and settings.database_url("w").endswith(".state/agents/w.sqlite")
