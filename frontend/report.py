"""The delivery report of one order, written after its delivery: route, durations, sensor statistics and
excursions, verdicts, penalties and settlement, as Markdown and HTML (one document model, two renderings)."""

from __future__ import annotations

import argparse
import datetime as dt
import html
import logging
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from frontend import ledger, sensors
from frontend.api import DappApi
from frontend.chain import Chain
from frontend.errors import explain
from frontend.settings import DappSettings
from offchain.manifest import load_manifest
from offchain.storage.cid import bytes32_to_cid, cid_to_text

log = logging.getLogger(__name__)
UNIT = 10**6


@dataclass
class Section:
    title: str
    paragraphs: list[str] = field(default_factory=list)
    header: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)


@dataclass
class DeliveryReport:
    title: str
    sections: list[Section]

    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for section in self.sections:
            out += [f"## {section.title}", ""]
            out += [*(p + "\n" for p in section.paragraphs)]
            if section.header:
                out.append("| " + " | ".join(section.header) + " |")
                out.append("|" + "---|" * len(section.header))
                out += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in section.rows]
                out.append("")
        return "\n".join(out)

    def html(self) -> str:
        e = html.escape
        body = [f"<h1>{e(self.title)}</h1>"]
        for section in self.sections:
            body.append(f"<h2>{e(section.title)}</h2>")
            body += [f"<p>{e(p)}</p>" for p in section.paragraphs]
            if section.header:
                head = "".join(f"<th>{e(h)}</th>" for h in section.header)
                rows = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in section.rows)
                body.append(f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>")
        style = (
            "body{font-family:sans-serif;max-width:70em;margin:2em auto}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:.2em .5em;text-align:left}"
        )
        return (
            f"<!doctype html><html><head><meta charset='utf-8'><title>{e(self.title)}</title>"
            f"<style>{style}</style></head><body>{''.join(body)}</body></html>\n"
        )


def _when(ts_s: int) -> str:
    return dt.datetime.fromtimestamp(ts_s, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _duration(seconds: float) -> str:
    hours, rest = divmod(int(seconds), 3600)
    return f"{hours} h {rest // 60:02d} min"


def _money(value: int) -> str:
    return f"{value / UNIT:,.2f}"


def build(
    network: str,
    order: ledger.EscrowOrder,
    twin_id: int,
    custody: list[ledger.CustodyRow],
    legs: list[ledger.CfpRow],
    verdicts: list[ledger.VerdictRow],
    readings: pd.DataFrame,
    sla: dict[str, int],
) -> DeliveryReport:
    accepted = [r for r in custody if r.step in ("minted", "accepted")]
    route = Section("Route", header=["holder", "from", "at place", "since", "held for"])
    for current, following in zip(accepted, [*accepted[1:], None], strict=True):
        held = _duration(following.timestamp - current.timestamp) if following else "(consignee)"
        route.rows.append(
            [
                current.holder_after,
                current.holder_before or "(minted)",
                current.place or "",
                _when(current.timestamp),
                held,
            ]
        )
    route.paragraphs.append(
        "Planned legs: "
        + "; ".join(f"{leg.origin} → {leg.destination} (carrier {leg.winner or 'none'})" for leg in legs)
        if legs
        else "No delivery leg was bought on chain."
    )

    durations = Section("Durations")
    if accepted and order.settled:
        first_pickup = next((r.timestamp for r in accepted if r.step == "accepted"), accepted[0].timestamp)
        delivered = order.settled["deliveredAt"]
        late = delivered - order.delivery_deadline
        durations.paragraphs += [
            f"Awarded (twin minted) {_when(accepted[0].timestamp)}; first pickup {_when(first_pickup)}; "
            f"delivered {_when(delivered)}.",
            f"In transit {_duration(delivered - first_pickup)}; deadline {_when(order.delivery_deadline)}: "
            + (f"late by {_duration(late)}." if late > 0 else f"on time with {_duration(-late)} to spare."),
        ]

    stats = Section("Sensor statistics", header=["metric", "readings", "min", "mean", "max", "SLA band"])
    limits = sensors.bands(sla)
    for s in sensors.statistics(readings):
        label, unit = sensors.METRICS[s.metric][:2]
        band = limits.get(s.metric)
        band_text = (
            "none on chain" if band is None else f"{band.low if band.low is not None else '-∞'} … {band.high} {unit}"
        )
        stats.rows.append(
            [label, str(s.count), f"{s.low:.2f} {unit}", f"{s.mean:.2f} {unit}", f"{s.high:.2f} {unit}", band_text]
        )
    if readings.empty:
        stats.paragraphs.append("The API holds no readings for this shipment.")
    found = sensors.excursions(readings, limits) if not readings.empty else []
    excursion = Section("Excursions", header=["metric", "from", "to", "minutes", "readings", "worst"])
    for x in found:
        unit = sensors.METRICS[x.metric][1]
        excursion.rows.append(
            [
                x.metric,
                _when(x.start_ms // 1000),
                _when(x.end_ms // 1000),
                f"{x.minutes:.0f}",
                str(x.readings),
                f"{x.worst:.2f} {unit}",
            ]
        )
    if not found:
        excursion.paragraphs.append("No reading left its SLA band.")

    verdict_section = Section(
        "Verdicts", header=["kind", "severity", "action", "window", "penalty claimed", "evidence", "transaction"]
    )
    for v in verdicts:
        verdict_section.rows.append(
            [
                v.kind,
                str(v.severity),
                v.action,
                f"{_when(v.window_start)} – {_when(v.window_end)}",
                _money(v.penalty),
                cid_to_text(bytes32_to_cid(v.evidence_hash)),
                v.tx_hash,
            ]
        )
    if not verdicts:
        verdict_section.paragraphs.append("No oracle verdict on this order.")

    penalties = Section("Penalties", header=["liable", "claimed", "charged"])
    penalties.rows = [[party, _money(claimed), _money(charged)] for party, claimed, charged in order.charges]
    if not order.charges:
        penalties.paragraphs.append("No penalty was charged.")

    settlement = Section("Settlement")
    if order.settled:
        paid = order.settled
        settlement.paragraphs.append(
            f"Order amount {_money(order.amount)}: seller {_money(paid['sellerPayout'])}, carriers "
            f"{_money(paid['carriersPayout'])}, buyer refund {_money(paid['buyerRefund'])}."
        )
    else:
        settlement.paragraphs.append(f"Not settled yet (status {order.status}).")
    title = f"Delivery report: order {order.order_id}, shipment {twin_id} ({network})"
    return DeliveryReport(title, [route, durations, stats, excursion, verdict_section, penalties, settlement])


def write_for(network: str, view: ledger.Shipment, readings: pd.DataFrame, folder: Path) -> tuple[Path, Path] | None:
    """Writes the report of a delivered, settled shipment; None (nothing written) before that."""
    if view.order is None or view.order.settled is None or view.sla is None:
        return None
    built = build(network, view.order, view.twin_id, view.custody, view.legs, view.verdicts, readings, view.sla)
    return write(built, folder, f"{network}-order-{view.order.order_id}")


def write(report: DeliveryReport, folder: Path, stem: str) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    md, page = folder / f"{stem}.md", folder / f"{stem}.html"
    md.write_text(report.markdown(), encoding="utf-8")
    page.write_text(report.html(), encoding="utf-8")
    log.info("delivery report written to %s", md)
    return md, page


def main(argv: Sequence[str] | None = None) -> int:
    """python -m frontend.report --twin ID [--out DIR]: the delivery report without the UI (settings: ASC_DAPP_*).

    Exit 0 written, 1 not delivered and settled yet, 2 bad input (manifest, node, API, unknown shipment)."""
    parser = argparse.ArgumentParser(prog="python -m frontend.report", description=main.__doc__)
    parser.add_argument("--twin", type=int, required=True, help="the shipment's custody twin id")
    parser.add_argument("--out", type=Path, help="folder for the report (default: ASC_DAPP_REPORT_DIR)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        settings = DappSettings()
        manifest = load_manifest(settings.manifests[0])
        chain = Chain(manifest, settings.rpc_url, log_chunk_blocks=settings.log_chunk_blocks)
        chain.check_network()
        history = chain.history()
        if args.twin not in history.twins:
            print(f"report: no shipment (custody twin) {args.twin} on {manifest.network}", file=sys.stderr)  # noqa: T201
            return 2
        view = ledger.shipment(history, lambda order: chain.call("Procurement", "slaTerms", order), args.twin)
        readings = (
            sensors.frame(DappApi(settings.api_url).readings(str(args.twin))) if settings.api_url else sensors.frame([])
        )
        written = write_for(manifest.network, view, readings, args.out or settings.report_dir)
    except Exception as exc:  # the CLI's whole job: one sentence, not a traceback
        print(f"report: {explain(exc)}", file=sys.stderr)  # noqa: T201
        return 2
    if written is None:
        print(f"report: shipment {args.twin} is not delivered and settled yet", file=sys.stderr)  # noqa: T201
        return 1
    print(f"{written[0]}\n{written[1]}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
