"""The audit report: Markdown and HTML side by side, PASS/FAIL per check with what and where, and plots.

Plots are saved next to the report (`<stem>-plots/`): per order, the on-chain timeline (custody handoffs,
verdict windows, delivery deadline), and the temperature series with the SLA band and the verdict windows
when an API is configured. Without an API (or when it fails) the report says so: no series is ever invented.
"""

from __future__ import annotations

import html
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.dates as mdates
import matplotlib.pyplot as plt

from offchain.audit.audit import AuditReport
from offchain.audit.events import ChainEvent
from offchain.audit.history import OrderHistory, struct_field
from offchain.audit.series import SeriesError, fetch_readings

log = logging.getLogger(__name__)

_DELIVERY = 1  # CfpKind


@dataclass
class Figures:
    images: dict[int, list[Path]] = field(default_factory=dict)  # order id -> plot files
    remarks: dict[int, list[str]] = field(default_factory=dict)

    def remark(self, order_id: int, text: str) -> None:
        self.remarks.setdefault(order_id, []).append(text)


def _time(ts: int) -> float:
    """Unix seconds as a matplotlib date number (axes are formatted as UTC dates)."""
    return float(mdates.date2num(datetime.fromtimestamp(ts, tz=UTC)))  # type: ignore[no-untyped-call]


def _sla_cfp(order: OrderHistory) -> Any | None:
    """CfpOpened params in force: the last awarded DELIVERY CFP's, else the GOODS CFP's."""
    opened = {int(e.args["cfpId"]): e.args["params"] for e in order.of("CfpOpened")}
    awarded = [int(e.args["cfpId"]) for e in order.of("CfpAwarded")]
    deliveries = [c for c in awarded if c in opened and int(struct_field(opened[c], "kind", 0)) == _DELIVERY]
    chosen = deliveries[-1] if deliveries else order.order_id
    return opened.get(chosen)


def plot_order(report: AuditReport, order: OrderHistory, folder: Path, api_url: str | None, figures: Figures) -> None:
    verdict_windows = [
        (int(e.args["windowStart"]), int(e.args["windowEnd"]), int(e.args["kind"])) for e in order.of("VerdictAccepted")
    ]
    twins = [report.history.twins[t] for t in order.twin_ids if t in report.history.twins]
    handoffs = [e for twin in twins for e in twin.events if e.name == "HandoffAccepted"]
    opened = order.of("OrderOpened")
    # Only a plot decoration: Escrow's rules (and their event fields) belong to checks/escrow.py.
    deadline = int(opened[0].args.get("deliveryDeadline", 0)) if opened else None
    folder.mkdir(parents=True, exist_ok=True)

    fig, ax = plt.subplots(figsize=(9, 2.8))
    for index, (start, end, _) in enumerate(verdict_windows):
        label = "verdict window" if index == 0 else None
        ax.axvspan(_time(start), _time(end), color="tab:red", alpha=0.3, label=label)
    for i, event in enumerate(handoffs):
        ax.axvline(_time(int(event.args["timestamp"])), color="tab:blue")
        ax.annotate(f"-> {str(event.args['to'])[:8]}", (_time(int(event.args["timestamp"])), 0.2 + 0.2 * (i % 4)))
    if deadline:
        ax.axvline(_time(deadline), color="black", linestyle="--", label="delivery deadline")
    ax.set_yticks([])
    ax.set_title(f"order {order.order_id}: custody handoffs (blue), verdict windows (red), on-chain times (UTC)")
    if verdict_windows or deadline:
        ax.legend(loc="upper left", fontsize="small")
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M", tz=UTC))  # type: ignore[no-untyped-call]
    fig.autofmt_xdate()
    path = folder / f"order-{order.order_id}-timeline.png"
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)
    figures.images.setdefault(order.order_id, []).append(path)

    if api_url is None:
        figures.remark(order.order_id, "sensor series not plotted: no API configured (ASC_AUDIT_API_URL)")
        return
    params = _sla_cfp(order)
    times = [int(e.args["timestamp"]) for e in handoffs] + [w for s, e, _ in verdict_windows for w in (s, e)]
    if params is not None:
        times.append(int(struct_field(params, "windowStart", 5)))
    if deadline:
        times.append(deadline)
    for twin_id in order.twin_ids:
        try:
            readings = fetch_readings(api_url, twin_id, min(times) * 1000, (max(times) + 1) * 1000)
        except SeriesError as exc:
            figures.remark(order.order_id, f"sensor series of twin {twin_id} unavailable: {exc}")
            continue
        if not readings:
            figures.remark(order.order_id, f"the API holds no readings for twin {twin_id} in the order's time span")
            continue
        fig, ax = plt.subplots(figsize=(9, 3.5))
        ax.plot(
            [_time(r.ts_ms // 1000) for r in readings], [r.temp_centi_c / 100 for r in readings], label="temperature"
        )
        if params is not None:
            sla = struct_field(params, "sla", 13)
            low = int(struct_field(sla, "tempMinCentiC", 0)) / 100
            high = int(struct_field(sla, "tempMaxCentiC", 1)) / 100
            ax.axhspan(low, high, color="tab:green", alpha=0.15, label=f"SLA band {low:g}..{high:g} degC")
        for index, (start, end, _) in enumerate(verdict_windows):
            label = "verdict window" if index == 0 else None
            ax.axvspan(_time(start), _time(end), color="tab:red", alpha=0.3, label=label)
        ax.set_ylabel("degC")
        ax.set_title(f"order {order.order_id}, twin {twin_id}: {len(readings)} readings from the API")
        ax.legend(loc="upper left", fontsize="small")
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%m-%d %H:%M", tz=UTC))  # type: ignore[no-untyped-call]
        fig.autofmt_xdate()
        path = folder / f"order-{order.order_id}-twin-{twin_id}-temperature.png"
        fig.savefig(path, dpi=100, bbox_inches="tight")
        plt.close(fig)
        figures.images[order.order_id].append(path)


def describe(event: ChainEvent) -> str:
    """One line per event: its name and scalar fields (structs such as CFP terms are left out)."""
    fields = []
    for name, value in event.args.items():
        if isinstance(value, bytes | bytearray):
            fields.append(f"{name}=0x{bytes(value).hex()}")
        elif isinstance(value, int | str | bool):
            fields.append(f"{name}={value}")
        elif isinstance(value, list | tuple) and all(isinstance(v, int | str) for v in value):
            fields.append(f"{name}=[{', '.join(map(str, value))}]")
    return f"block {event.block_number}: {event.contract}.{event.name}({', '.join(fields)})"


def _summary_lines(report: AuditReport) -> list[str]:
    return [
        f"network {report.network}, chain {report.chain_id}, audited at block {report.block}",
        f"orders: {', '.join(map(str, sorted(report.history.orders))) or 'none'}",
        f"result: {'PASS' if report.passed else 'FAIL'}",
    ]


def render_markdown(report: AuditReport, figures: Figures, base: Path) -> str:
    out = ["# ASC audit report", ""] + [f"- {line}" for line in _summary_lines(report)] + ["", "## Checks", ""]
    out += ["| check | status | items | failures |", "|---|---|---|---|"]
    out += [f"| {c.title} | {c.status.value} | {c.checked} | {len(c.failures)} |" for c in report.checks]
    for check in report.checks:
        out += ["", f"### {check.status.value} {check.name}: {check.title}", ""]
        out += [f"- **{f.status.value}** {f.what} — _{f.where}_" for f in check.findings] or ["- nothing to report"]
    out += ["", "## Shipments", ""]
    for order_id in sorted(report.history.orders):
        out += [f"### Order {order_id}", ""]
        out += [f"![order {order_id}]({p.relative_to(base).as_posix()})" for p in figures.images.get(order_id, [])]
        out += [f"- {r}" for r in figures.remarks.get(order_id, [])]
        out += ["", "History rebuilt from events:", ""]
        out += [f"1. `{describe(e)}`" for e in report.history.timeline(order_id)]
        out.append("")
    out += ["## Withdrawals", ""]
    out += [f"- `{describe(e)}`" for e in report.history.withdrawals] or ["- none"]
    return "\n".join(out) + "\n"


def render_html(report: AuditReport, figures: Figures, base: Path) -> str:
    e = html.escape
    rows = "".join(
        f"<tr><td>{e(c.title)}</td><td class='{c.status.value}'>{c.status.value}</td><td>{c.checked}</td>"
        f"<td>{len(c.failures)}</td></tr>"
        for c in report.checks
    )
    body = [
        "<h1>ASC audit report</h1><ul>" + "".join(f"<li>{e(x)}</li>" for x in _summary_lines(report)) + "</ul>",
        f"<table><tr><th>check</th><th>status</th><th>items</th><th>failures</th></tr>{rows}</table>",
    ]
    for check in report.checks:
        items = "".join(
            f"<li><b class='{f.status.value}'>{f.status.value}</b> {e(f.what)} — <i>{e(f.where)}</i></li>"
            for f in check.findings
        )
        body.append(f"<h3>{check.status.value} {e(check.name)}: {e(check.title)}</h3><ul>{items}</ul>")
    for order_id in sorted(report.history.orders):
        images = "".join(f"<img src='{e(p.relative_to(base).as_posix())}'>" for p in figures.images.get(order_id, []))
        remarks = "".join(f"<li>{e(r)}</li>" for r in figures.remarks.get(order_id, []))
        timeline = "".join(f"<li><code>{e(describe(x))}</code></li>" for x in report.history.timeline(order_id))
        body.append(f"<h2>Order {order_id}</h2>{images}<ul>{remarks}</ul><ol>{timeline}</ol>")
    withdrawals = "".join(f"<li><code>{e(describe(x))}</code></li>" for x in report.history.withdrawals)
    body.append(f"<h2>Withdrawals</h2><ul>{withdrawals or '<li>none</li>'}</ul>")
    style = (
        "body{font-family:sans-serif;max-width:1000px}.PASS{color:green}.FAIL{color:#b00}.NOTE{color:#a60}"
        "td,th{padding:2px 8px}"
    )
    head = f"<head><meta charset='utf-8'><title>ASC audit</title><style>{style}</style></head>"
    return f"<!doctype html><html>{head}<body>{''.join(body)}</body></html>\n"


def write_report(report: AuditReport, path: Path, api_url: str | None) -> list[Path]:
    """Writes `<path>.md` and `<path>.html` (whatever suffix `path` has) and the plots; returns the files."""
    base = path.parent
    base.mkdir(parents=True, exist_ok=True)
    folder = base / f"{path.stem}-plots"
    figures = Figures()
    for order in report.history.orders.values():
        plot_order(report, order, folder, api_url, figures)
    markdown, page = path.with_suffix(".md"), path.with_suffix(".html")
    markdown.write_text(render_markdown(report, figures, base), encoding="utf-8")
    page.write_text(render_html(report, figures, base), encoding="utf-8")
    log.info("report written to %s and %s", markdown, page)
    return [markdown, page, *(p for paths in figures.images.values() for p in paths)]
