"""Consumers of the runner's events: the console, and JSON, JUnit XML and HTML reports."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from scenarios.certify.certificate import run_key, seal
from scenarios.certify.registry import MANDATORY, REGISTRY
from scenarios.certify.rules import rule_verdicts
from scenarios.certify.runner import CheckFinished, Event, RunFinished, RunStarted, Waiting
from scenarios.templating import clock

MARKS = {
    "passed": "PASS",
    "failed": "FAIL",
    "blocked": "BLKD",
    "not observed": "NOBS",
    "skipped": "SKIP",
    "error": "ERR ",
}


def console(echo: Callable[[str], None], quiet: bool = False) -> Callable[[Event], None]:
    """Plain lines, for logs and pipes: one per check as it finishes, what the run waits for, and the verdict.

    A wait is told when what is waited for changes, and then every tenth of --wait at most, so a
    ten-minute wait is a dozen lines, not six hundred.
    """
    told: dict[str, float] = {}

    def handle(event: Event) -> None:
        if isinstance(event, RunFinished):
            counts = ", ".join(f"{n} {v}" for v, n in event.counts.items() if n)
            echo(f"{verdict_of(event)}: {counts} (in {clock(event.duration_s)})")
            unseen = event.counts.get("not observed", 0)
            if unseen and not quiet:
                echo(f"{unseen} checks saw nothing happen within --wait: if the server is slower, raise --wait")
        elif quiet:
            return
        elif isinstance(event, RunStarted):
            about = f"contract {event.contract_version}, seed {event.seed}, {event.checks} checks"
            echo(f"certifying {event.target} as customer {event.customer} ({about})")
        elif isinstance(event, Waiting):
            step = max(event.wait_s / 10, 1.0)
            if event.what not in told or event.waited_s - told[event.what] >= step:
                told[event.what] = event.waited_s
                echo(f"       ... {event.what} ({clock(event.waited_s)} of {clock(event.wait_s)})")
        elif isinstance(event, CheckFinished):
            echo(f"  {line(event)}")
            if event.verdict != "passed" and event.message:
                echo(f"       {event.message.splitlines()[0]}")

    return handle


def line(event: CheckFinished) -> str:
    return f"{MARKS[event.verdict]} {event.id:<12} {event.title}  [{event.severity}, {event.duration_ms:.0f} ms]"


def verdict_of(finished: RunFinished) -> str:
    """CERTIFIED only for a run of every mandatory check; one that leaves some out certifies nothing.

    A certificate names the mandatory checks that did not apply (no --other-customer-number, no
    webhooks), so that no reader takes them for checked.
    """
    if not finished.passed and finished.ok:
        left_out = [i for i in finished.excluded if i in _mandatory_ids()]
        return f"PASSED (PARTIAL: {len(left_out)} mandatory checks left out, not a certification)"
    if not finished.passed:
        return "NOT CERTIFIED"
    unapplied = [r.id for r in finished.results if r.severity == MANDATORY and r.verdict == "skipped"]
    return f"CERTIFIED, except {', '.join(unapplied)}, which did not apply" if unapplied else "CERTIFIED"


def _mandatory_ids() -> set[str]:  # at call time: plugins register more checks
    return {c.id for c in REGISTRY if c.severity == MANDATORY}


class Collector:
    """Keeps the run's events for the file reports."""

    def __init__(self) -> None:
        self.started: RunStarted | None = None
        self.finished: RunFinished | None = None

    def __call__(self, event: Event) -> None:
        if isinstance(event, RunStarted):
            self.started = event
        elif isinstance(event, RunFinished):
            self.finished = event

    def document(self) -> dict[str, Any]:
        assert self.started is not None and self.finished is not None, "the run has not finished"
        return {
            "report": "Supplier API v1 certification",
            "contractVersion": self.started.contract_version,
            "harnessVersion": self.started.harness_version,
            "target": self.started.target,
            "customerNumber": self.started.customer,
            "seed": self.started.seed,
            "startedAt": self.started.started_at,
            "finishedAt": self.finished.finished_at,
            "durationS": round(self.finished.duration_s, 3),
            "certified": self.finished.passed,
            "verdict": verdict_of(self.finished),
            "excluded": self.finished.excluded,
            "notApplied": {r.id: r.message for r in self.finished.results if r.verdict == "skipped"},
            "counts": self.finished.counts,
            "notes": self.finished.notes,
            "checks": [asdict(r) for r in self.finished.results],
            "rules": rule_verdicts(self.finished.results, REGISTRY),
            "latency": self.finished.latency,
        }


def write_json(document: dict[str, Any], path: Path) -> None:
    path.write_text(json.dumps(document, indent=2), "utf-8")


# How a verdict shows in JUnit: anything that is not a pass of a mandatory check fails the suite.
JUNIT_TAGS = {
    "failed": "failure",
    "not observed": "failure",
    "blocked": "failure",
    "error": "error",
    "skipped": "skipped",
}


def write_junit(document: dict[str, Any], path: Path) -> None:
    tags = [JUNIT_TAGS.get(r["verdict"]) for r in document["checks"]]
    suite = ET.Element(
        "testsuite",
        name=f"Supplier API v1 certification of {document['target']}",
        tests=str(len(document["checks"])),
        failures=str(tags.count("failure")),
        errors=str(tags.count("error")),
        skipped=str(tags.count("skipped")),
        timestamp=document["startedAt"],
    )
    properties = ET.SubElement(suite, "properties")
    for name in ("verdict", "certified", "contractVersion", "harnessVersion", "customerNumber", "seed"):
        ET.SubElement(properties, "property", name=name, value=str(document[name]))
    signature = document["signature"]
    ET.SubElement(properties, "property", name="digest", value=signature["digest"])
    ET.SubElement(properties, "property", name="keyFingerprint", value=signature["keyFingerprint"])
    for result, tag in zip(document["checks"], tags, strict=True):
        _testcase(suite, result, tag)
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def _testcase(suite: ET.Element, result: dict[str, Any], tag: str | None) -> None:
    """A check as a testcase: its rules as properties, its verdict, and its evidence digests to point at."""
    name = f"{result['id']} {result['title']}"
    seconds = f"{result['duration_ms'] / 1000:.3f}"
    case = ET.SubElement(suite, "testcase", classname=f"certify.{result['severity']}", name=name, time=seconds)
    if result["rules"]:
        properties = ET.SubElement(case, "properties")
        for rule in result["rules"]:
            ET.SubElement(properties, "property", name="rule", value=rule)
    if tag:
        message = result["message"].splitlines()[0] if result["message"] else ""
        text = result["message"] + ("\n" + json.dumps(result["evidence"], indent=1) if result["evidence"] else "")
        ET.SubElement(case, tag, message=message, type=result["verdict"]).text = text
    if result["evidence_digests"]:
        lines = [f"evidence item {i}: {d}" for i, d in enumerate(result["evidence_digests"], 1)]
        ET.SubElement(case, "system-out").text = "\n".join(lines)


def write_html(document: dict[str, Any], path: Path) -> None:
    """One self-contained page to show a retailer: verdict, summary, findings with evidence, rules, latency."""
    from scenarios.certify.html import render  # jinja2 is needed only when a page is written

    path.write_text(render(document), "utf-8")


def write_all(document: dict[str, Any], directory: Path, key: Ed25519PrivateKey | None = None) -> list[Path]:
    """Sign the document, with a key made for the run when none is given, and write the three reports."""
    sealed = seal(document, key or run_key(), made_for_run=key is None)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "certification.json", directory / "certification.junit.xml", directory / "certification.html"]
    for writer, target in zip((write_json, write_junit, write_html), paths, strict=True):
        writer(sealed, target)
    return paths
