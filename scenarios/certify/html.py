"""The certification report as one self-contained HTML page, rendered with jinja2: no script, no fetch."""

from __future__ import annotations

from typing import Any

from scenarios.certify.rules import rule_catalogue
from scenarios.templating import environment, stylesheet

# Why each family of checks matters to a retailer: the report says it beside each check.
WHY = {
    "AUTH": "A retailer's portal signs in with these credentials; a server that lets the wrong ones in, or another "
    "customer's, leaks orders and prices.",
    "PAGING": "The portal reads the whole catalog page by page; a product on no page is never orderable, one on two "
    "is imported twice.",
    "DELTA": "The portal syncs only what changed since its last read; a wrong delta leaves stale prices and barcodes.",
    "SEARCH": "Shop staff find products by number, name or barcode, in whatever case they type.",
    "ORDER": "An order is money: it must be created once, hold what was sent, and be safe to send again after a "
    "timeout.",
    "NOTFOUND": "A portal asking for an order the supplier does not have must get a clear 404, not a crash.",
    "ERRORS": "Error messages end up in logs and screens; echoing what was sent can leak a misplaced password.",
    "LIST": "The portal polls the order list for changes; an order missed or listed twice is a wrong stock level.",
    "STATUS": "The portal books stock by status; an order that moves back, or out of a final status, corrupts it.",
    "REJECT": "A rejection's reason tells the shop what to fix; a wrong or missing one leaves it guessing.",
    "ACCEPT": "A good order rejected for its product or containers means empty shelves.",
    "DISPATCH": "Dispatch notifications drive goods receipt; shipping more than ordered, or before acceptance, "
    "books stock that never comes.",
    "WEBHOOK": "Events let the portal react at once; unsigned, malformed or lost events are worse than none.",
    "CONTRACT": "Every answer is parsed by the portal as the contract says; one that differs breaks it.",
    "LATENCY": "Slow answers make the portal slow; this is advice, not a condition of the certificate.",
}


def _latency_rows(latency: dict[str, dict[str, float]]) -> list[dict[str, Any]]:
    """Bars for the chart, scaled so that the slowest p99 is 300 px wide."""
    slowest = max((row["p99"] for row in latency.values()), default=0.0) or 1.0
    return [
        {
            "endpoint": endpoint,
            "n": int(row["n"]),
            "p50": round(row["p50"], 1),
            "p99": round(row["p99"], 1),
            "p50_w": max(1, round(300 * row["p50"] / slowest)),
            "p99_w": max(1, round(300 * row["p99"] / slowest)),
        }
        for endpoint, row in sorted(latency.items())
    ]


def render(document: dict[str, Any]) -> str:
    rules = {r["id"]: r["rule"] for r in rule_catalogue()}
    verdict = document["verdict"]
    tone = "good" if verdict.startswith("CERTIFIED") else "partial" if verdict.startswith("PASSED") else "bad"
    return (
        environment()
        .get_template("certification.html.j2")
        .render(
            d=document,
            tone=tone,
            css=stylesheet(),
            latency=_latency_rows(document.get("latency", {})),
            why=lambda check_id: WHY.get(check_id.rsplit("-", 1)[0], ""),
            rule_text=lambda rule_id: rules.get(rule_id, ""),
        )
    )
