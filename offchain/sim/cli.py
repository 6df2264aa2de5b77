"""Command line of the simulator.

    python -m offchain.sim run SCENARIO.yaml --seed 7 --speed 60 [--api URL --admin-token T] [--out x.csv]
    python -m offchain.sim serve SCENARIO.yaml --port 9350 --api URL --speed 60 --seed 7 [--chain RPC_URL]
    python -m offchain.sim route FROM TO [--at 2026-06-15T08:00:00Z] [--closed EDGE ...]
    python -m offchain.sim places
    python -m offchain.sim plot readings.csv --out fig.png [--band 0,5]

Settings come from `ASC_SIM_*` (see settings.py); options override them. Prefer `ASC_SIM_ADMIN_TOKEN`
to `--admin-token`: a command line is visible to other users of the machine.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from pydantic import SecretStr, ValidationError

from offchain.api.client import ApiClient

from .clock import ClockError
from .devices import ApiPublisher, KeyStore, KeyStoreError, PublishError
from .environment import traffic_factor
from .plot import PlotInputError, plot_run
from .roads import NoRouteError, RoadGraph, UnknownPlaceError
from .runner import MS_PER_MIN, CsvSink, SampleSink, build_simulator, run
from .scenario import ScenarioError, load_scenario
from .serve import ServeInputError, serve
from .settings import SimSettings

logger = logging.getLogger("offchain.sim")

EXIT_BAD_INPUT = 2
EXIT_API = 1
EXIT_INTERRUPTED = 130


def _out(text: str) -> None:
    """The command's own output (results, tables) goes to stdout; logging goes to stderr."""
    sys.stdout.write(text + "\n")


def _err(text: str) -> None:
    sys.stderr.write(text + "\n")


def _utc(text: str) -> datetime:
    if text == "now":
        return datetime.now(UTC).replace(second=0, microsecond=0)
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if value.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a timezone, e.g. 2026-06-15T08:00:00Z")
    return value.astimezone(UTC)


def _band(text: str) -> tuple[float, float]:
    try:
        low, high = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected LOW,HIGH in C, e.g. 0,5; got {text!r}") from None
    if low >= high:
        raise argparse.ArgumentTypeError(f"LOW must be below HIGH: {text!r}")
    return low, high


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m offchain.sim", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("run", help="play a scenario; write readings to CSV and/or post them to the API")
    r.add_argument("scenario", type=Path)
    r.add_argument("--seed", type=int, help="default ASC_SIM_SEED (7)")
    r.add_argument("--speed", type=float, help="simulated s per wall s; 0 = flat out (default ASC_SIM_SPEED)")
    r.add_argument("--start", type=_utc, help="override the scenario's start (ISO-8601 with zone, or 'now')")
    r.add_argument("--until-min", type=float, help="stop after this many simulated minutes")
    r.add_argument("--api", help="ingestion API base URL (default ASC_SIM_API_URL)")
    r.add_argument("--admin-token", help="API admin token (prefer ASC_SIM_ADMIN_TOKEN)")
    r.add_argument("--out", type=Path, help="write the readings to this CSV (the replay format)")

    w = sub.add_parser("serve", help="the world as an HTTP service (the world port) for the agents")
    w.add_argument("scenario", type=Path)
    w.add_argument("--port", type=int, help="default ASC_SIM_PORT (9350)")
    w.add_argument("--api", help="ingestion API base URL (default ASC_SIM_API_URL)")
    w.add_argument("--admin-token", help="API admin token (prefer ASC_SIM_ADMIN_TOKEN)")
    w.add_argument("--speed", type=float, help="simulated s per wall s, > 0 (default ASC_SIM_SPEED)")
    w.add_argument("--seed", type=int, help="default ASC_SIM_SEED (7)")
    w.add_argument("--start", type=_utc, help="override the scenario's start (ISO-8601 with zone, or 'now')")
    w.add_argument("--chain", help="local chain RPC URL whose clock follows the world (ASC_SIM_CHAIN_RPC_URL)")

    q = sub.add_parser("route", help="print the fastest route and its ETA")
    q.add_argument("origin")
    q.add_argument("destination")
    q.add_argument("--at", type=_utc, help="departure time (traffic by time of day); default: free flow")
    q.add_argument("--closed", nargs="*", default=[], metavar="EDGE", help="edge ids to avoid")
    q.add_argument("--max-speed", type=float, default=90.0, help="vehicle limiter, km/h")

    sub.add_parser("places", help="list the places and roads of the graph")

    f = sub.add_parser("plot", help="temperature band and route map of a readings CSV")
    f.add_argument("readings", type=Path)
    f.add_argument("--out", type=Path, required=True)
    f.add_argument("--band", type=_band, default=(0.0, 5.0), help="allowed temperature LOW,HIGH in C (0,5)")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        settings = SimSettings()
    except ValidationError as exc:
        _err(f"invalid ASC_SIM_ settings:\n{exc}")
        return EXIT_BAD_INPUT
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    graph = RoadGraph.load()
    try:
        if args.command == "route":
            return _route(args, graph)
        if args.command == "places":
            return _places(graph)
        if args.command == "plot":
            plot_run(args.readings, args.out, args.band, graph)
            _out(f"wrote {args.out}")
            return 0
        if args.command == "serve":
            return serve(args, settings, graph)
        return _run(args, settings, graph)
    except (
        ScenarioError,
        UnknownPlaceError,
        NoRouteError,
        PlotInputError,
        KeyStoreError,
        ServeInputError,
        ClockError,
    ) as exc:
        _err(f"error: {exc}")
        return EXIT_BAD_INPUT
    except PublishError as exc:
        _err(f"error: {exc}")
        return EXIT_API


def _route(args: argparse.Namespace, graph: RoadGraph) -> int:
    unknown = [edge for edge in args.closed if edge not in graph.edges]
    if unknown:
        _err(f"error: unknown edge(s) {', '.join(unknown)}")
        return EXIT_BAD_INPUT
    at_ms = None if args.at is None else int(args.at.timestamp() * 1000)
    route = graph.shortest_path(
        args.origin,
        args.destination,
        vehicle_max_kmh=args.max_speed,
        closed=frozenset(args.closed),
        speed_factor=None if at_ms is None else (lambda cls: traffic_factor(cls, at_ms)),
    )
    for leg in route.legs:
        start, end = graph.node(leg.start_id), graph.node(leg.end_id)
        _out(f"{start.name:<48} -> {end.name:<48} {leg.edge.road:<28} {leg.length_m / 1000:6.2f} km")
    _out(f"total {route.length_m / 1000:.2f} km, ETA {route.travel_s / 60:.0f} min (without incidents)")
    return 0


def _places(graph: RoadGraph) -> int:
    for node in sorted(graph.nodes.values(), key=lambda n: (n.kind, n.id)):
        _out(f"{node.id:<26} {node.kind:<11} {node.lat:.5f} {node.lon:.5f}  {node.name}")
    for edge in sorted(graph.edges.values(), key=lambda e: e.id):
        _out(f"{edge.id:<36} {edge.road:<30} {edge.from_id} <-> {edge.to_id} {edge.length_m / 1000:.2f} km")
    return 0


def _run(args: argparse.Namespace, settings: SimSettings, graph: RoadGraph) -> int:
    scenario = load_scenario(args.scenario, graph)
    if args.start is not None:
        scenario = scenario.model_copy(update={"start": args.start})
    seed = settings.seed if args.seed is None else args.seed
    speed = settings.speed if args.speed is None else args.speed
    if speed < 0:
        _err("error: --speed must be >= 0")
        return EXIT_BAD_INPUT
    api_url = args.api or settings.api_url
    token: SecretStr | None = SecretStr(args.admin_token) if args.admin_token else settings.admin_token
    if api_url and token is None:
        _err("error: posting to the API needs ASC_SIM_ADMIN_TOKEN (or --admin-token)")
        return EXIT_BAD_INPUT
    if not api_url and args.out is None:
        _err("error: nothing to do: give --out CSV and/or --api URL")
        return EXIT_BAD_INPUT

    sim = build_simulator(scenario, graph, seed)
    minutes = scenario.duration_min if args.until_min is None else min(args.until_min, scenario.duration_min)
    until_ms = scenario.start_ms + round(minutes * MS_PER_MIN)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %d: stopping at the next sample and flushing", signum)
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    client: ApiClient | None = None
    sinks: list[SampleSink] = []
    try:
        if args.out is not None:
            sinks.append(CsvSink(args.out))
        if api_url and token is not None:
            client = ApiClient(api_url, admin_token=token.get_secret_value())
            keys = KeyStore(settings.data_dir / "device_keys.json")
            sinks.append(ApiPublisher(client, keys, batch_size=settings.batch_size, retries=settings.post_retries))
        logger.info(
            "scenario %s from %s, seed %d, speed %s, %s simulated minutes%s",
            scenario.name,
            scenario.start.isoformat(),
            seed,
            speed or "max",
            minutes,
            f", posting to {api_url}" if api_url else "",
        )
        summary = run(
            sim,
            until_ms,
            sinks,
            speed=speed,
            stop=stop,
            progress_every_ms=round(settings.progress_every_min * MS_PER_MIN),
        )
    finally:
        if client is not None:
            client.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    for sink in sinks:
        if isinstance(sink, ApiPublisher):
            _out(f"posted {sink.readings_posted} readings in {sink.batches_posted} signed batches to {api_url}")
    delivered = ", ".join(
        f"{sid} {'at +%.0f min' % ((ms - scenario.start_ms) / MS_PER_MIN) if ms else 'not delivered'}"
        for sid, ms in summary.delivered.items()
    )
    flags = ", ".join(
        sorted(
            {f"{f.kind}:{f.subject}" for f in sim.active_flags(scenario.start_ms + 1)}
            | {f"{f.kind}:{f.subject}" for f in sim.active_flags()}
        )
    )
    _out(
        f"{summary.readings} readings over {summary.sim_minutes:.0f} simulated min "
        f"in {summary.wall_s:.2f} s; "
        f"{delivered or 'no shipments started'}" + (f"; flags: {flags}" if flags else "")
    )
    if args.out is not None:
        _out(f"wrote {args.out}")
    return EXIT_INTERRUPTED if summary.interrupted else 0
