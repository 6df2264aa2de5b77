"""`python -m offchain.sim serve`: build the world service from a scenario and the settings, and run it under
uvicorn until SIGINT/SIGTERM (uvicorn's handlers end the server; the lifespan stops the pacer and flushes
the readings still buffered)."""

from __future__ import annotations

import argparse
import logging
from datetime import datetime

import uvicorn
from pydantic import SecretStr

from offchain.api.client import ApiClient

from .clock import ChainClock, aligned_start_ms
from .devices import ApiPublisher, KeyStore
from .roads import RoadGraph
from .runner import MS_PER_MIN
from .scenario import load_scenario
from .service import WorldService, create_app
from .settings import SimSettings

logger = logging.getLogger(__name__)


class ServeInputError(ValueError):
    """The serve command's options or settings cannot work together."""


def serve(args: argparse.Namespace, settings: SimSettings, graph: RoadGraph) -> int:
    scenario = load_scenario(args.scenario, graph)
    speed = settings.speed if args.speed is None else args.speed
    if speed <= 0:
        raise ServeInputError("serve needs --speed > 0 (simulated seconds per wall second)")
    seed = settings.seed if args.seed is None else args.seed
    chain_url = args.chain or settings.chain_rpc_url
    clock = ChainClock(chain_url, warp_min_s=settings.chain_warp_min_s) if chain_url else None
    start: datetime | None = args.start
    if start is not None:
        scenario = scenario.model_copy(update={"start": start})
    if clock is not None:
        begin = aligned_start_ms(scenario.start_ms, clock.chain_now_s() * 1000)
        if begin != scenario.start_ms:
            logger.info(
                "the chain is past %s: the world starts the same time of day, +%d days",
                scenario.start.isoformat(),
                (begin - scenario.start_ms) // (24 * 60 * MS_PER_MIN),
            )
            scenario = scenario.model_copy(
                update={"start": datetime.fromtimestamp(begin / 1000, scenario.start.tzinfo)}
            )

    api_url = args.api or settings.api_url
    token: SecretStr | None = SecretStr(args.admin_token) if args.admin_token else settings.admin_token
    publisher: ApiPublisher | None = None
    client: ApiClient | None = None
    if api_url:
        if token is None:
            raise ServeInputError("posting readings to the API needs ASC_SIM_ADMIN_TOKEN (or --admin-token)")
        client = ApiClient(api_url, admin_token=token.get_secret_value())
        publisher = ApiPublisher(
            client,
            KeyStore(settings.data_dir / "device_keys.json"),
            batch_size=settings.batch_size,
            retries=settings.post_retries,
        )
    world = WorldService(
        scenario,
        graph,
        seed=seed,
        speed=speed,
        publisher=publisher,
        clock=clock,
        step_wall_s=settings.step_wall_s,
        loading_ms=round(settings.loading_min * MS_PER_MIN),
        handoff_dwell_ms=round(settings.handoff_dwell_min * MS_PER_MIN),
    )
    port = settings.port if args.port is None else args.port
    logger.info(
        "world service for %s on %s:%d (seed %d, %gx, start %s%s%s)",
        scenario.name,
        settings.host,
        port,
        seed,
        speed,
        scenario.start.isoformat(),
        f", readings to {api_url}" if api_url else "",
        f", chain {clock.chain_id} follows" if clock else "",
    )
    config = uvicorn.Config(
        create_app(world),
        host=settings.host,
        port=port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=settings.graceful_shutdown_s,
        # Agents poll the port several times a second: one access line each would drown the world's own log.
        access_log=settings.log_level == "DEBUG",
    )
    try:
        uvicorn.Server(config).run()
    finally:
        if client is not None:
            client.close()
    return 0
