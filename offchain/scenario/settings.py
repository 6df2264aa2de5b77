"""The one settings object of the orchestrator (environment prefix `ASC_SCENARIO_`)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ScenarioSettings(BaseSettings):
    """Where a run keeps its files, which ports it may use, how fast and how long it runs.

    The run's API tokens are generated per run (never configured, never logged); the chain's keys are
    anvil's public development keys, so the orchestrator refuses any chain that is not a local one.
    """

    model_config = SettingsConfigDict(env_prefix="ASC_SCENARIO_", env_file=None, extra="ignore")

    state_dir: Path = Field(default=Path(".state/scenario"), description="Runs go to <state_dir>/<run>/.")
    build_dir: Path = Field(
        default=Path(".state/scenario/brownie-project"),
        description="A copy of the contract sources compiled once and shared by runs (locked while compiling).",
    )
    port_min: int = Field(default=9300, ge=1024, le=65535, description="Lowest port the run may bind.")
    port_max: int = Field(default=9399, ge=1024, le=65535, description="Highest port the run may bind.")
    speed: float = Field(default=60.0, gt=0, description="Simulated seconds per wall second.")
    seed: int = Field(default=7, ge=0)
    oracle_nodes: int = Field(default=3, ge=1, le=10)
    oracle_threshold: int = Field(default=2, ge=1, description="k of an own chain's oracle set (n = oracle_nodes).")
    agent_poll_interval_s: float = Field(default=0.5, gt=0)
    agent_confirmations: int = Field(default=0, ge=0, description="Local automining chains do not reorg.")
    poll_interval_s: float = Field(default=0.5, gt=0, description="How often chain events are read.")
    start_timeout_s: float = Field(default=120.0, gt=0, description="Limit for each process to become ready.")
    stop_timeout_s: float = Field(default=10.0, gt=0, description="SIGTERM, then SIGKILL after this long.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
