"""Consumers of the runner's events: the console, and JSON, JUnit XML and HTML reports."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from scenarios.certify.certificate import run_key, seal, short
from scenarios.certify.registry import MANDATORY, REGISTRY
from scenarios.certify.rules import rule_verdicts
from scenarios.certify.runner import CheckFinished, Event, RunFinished, RunStarted

MARKS = {
    "passed": "PASS",
    "failed": "FAIL",
    "blocked": "BLKD",
    "not observed": "NOBS",
    "skipped": "SKIP",
    "error": "ERR ",
}


def console(echo: Callable[[str], None]) -> Callable[[Event], None]:
    """One line per check as it finishes, and a summary."""

    def handle(event: Event) -> None:
        if isinstance(event, RunStarted):
            about = f"contract {event.contract_version}, seed {event.seed}"
            echo(f"certifying {event.target} as customer {event.customer} ({about})")
        elif isinstance(event, CheckFinished):
            echo(
                f"  {MARKS[event.verdict]} {event.id:<12} {event.title}  [{event.severity}, {event.duration_ms:.0f} ms]"
            )
            if event.verdict != "passed" and event.message:
                echo(f"       {event.message.splitlines()[0]}")
        elif isinstance(event, RunFinished):
            counts = ", ".join(f"{n} {v}" for v, n in event.counts.items() if n)
            echo(f"{verdict_of(event)}: {counts}")

    return handle


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
            "certified": self.finished.passed,
            "verdict": verdict_of(self.finished),
            "excluded": self.finished.excluded,
            "notApplied": {r.id: r.message for r in self.finished.results if r.verdict == "skipped"},
            "counts": self.finished.counts,
            "notes": self.finished.notes,
            "checks": [asdict(r) for r in self.finished.results],
            "rules": rule_verdicts(self.finished.results, REGISTRY),
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
    """One self-contained page: the summary on top, then each check with its verdict and evidence."""
    e = html.escape
    verdict, signature = document["verdict"], document["signature"]
    rows = []
    for r in document["checks"]:
        evidence = "".join(f"<pre>{e(json.dumps(x, indent=1))}</pre>" for x in r["evidence"])
        message = f"<p>{e(r['message'])}</p>" if r["message"] else ""
        opened = "" if r["verdict"] == "passed" else " open"  # what is not a pass is shown, not folded away
        rows.append(
            f"<details class='{r['verdict'].replace(' ', '-')}'{opened}><summary><b>{MARKS[r['verdict']]}</b> "
            f"{e(r['id'])} {e(r['title'])} <i>({e(r['severity'])})</i></summary>{message}{evidence}</details>"
        )
    notes = "".join(f"<li>{e(n)}</li>" for n in document["notes"])
    catalogue = "".join(
        f"<tr class='{e(r['verdict'].replace(' ', '-'))}'><td>{e(r['id'])}</td><td>{e(r['rule'])}</td>"
        f"<td>{e(', '.join(r['checks']) or r['why'])}</td><td><b>{e(r['verdict'])}</b></td></tr>"
        for r in document["rules"]
    )
    counts = ", ".join(f"{n} {e(v)}" for v, n in document["counts"].items())
    run = (
        f"Supplier API v1 (contract {e(document['contractVersion'])}) at <code>{e(document['target'])}</code>, "
        f"customer {e(document['customerNumber'])}; harness {e(document['harnessVersion'])}, seed {document['seed']}, "
        f"{e(document['startedAt'])} to {e(document['finishedAt'])}. Signed with Ed25519 key "
        f"<code title='{e(signature['keyFingerprint'])}'>{e(short(signature['keyFingerprint']))}</code>; "
        f"document digest <code>{e(signature['digest'])}</code> (<code>orderportal certify verify "
        f"certification.json</code> checks it; this page is not signed, the JSON is)."
    )
    style = (
        "body{font-family:sans-serif;margin:2em;max-width:70em}.passed b{color:#070}.failed b,.error b{color:#b00}"
        ".blocked b,.not-observed b{color:#b60}.skipped b,.not-judged b{color:#777}"
        "pre{background:#f4f4f4;padding:.5em;overflow:auto;font-size:85%}"
        "summary{cursor:pointer;padding:.2em}table{border-collapse:collapse}td,th{border:1px solid #ccc;"
        "padding:.2em .4em;text-align:left;vertical-align:top}.failed td b,.error td b{color:#b00}"
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{e(verdict)}: {e(document['target'])}</title>"
        f"<style>{style}</style></head><body><h1>{e(verdict)}</h1><p>{run}</p>"
        f"<p>{counts}. Credentials, tokens and the webhook secret are blanked as ***.</p>"
        f"<h2>Notes and latency</h2><ul>{notes}</ul><h2>Checks</h2>{''.join(rows)}"
        f"<h2>The contract's rules</h2><table><tr><th>rule</th><th>what it says</th><th>checked by</th>"
        f"<th>verdict</th></tr>{catalogue}</table></body></html>"
    )
    path.write_text(page, "utf-8")


def write_all(document: dict[str, Any], directory: Path, key: Ed25519PrivateKey | None = None) -> list[Path]:
    """Sign the document, with a key made for the run when none is given, and write the three reports."""
    sealed = seal(document, key or run_key(), made_for_run=key is None)
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / "certification.json", directory / "certification.junit.xml", directory / "certification.html"]
    for writer, target in zip((write_json, write_junit, write_html), paths, strict=True):
        writer(sealed, target)
    return paths
