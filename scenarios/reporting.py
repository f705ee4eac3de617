"""Scenario results on the console and as JSON, JUnit XML and HTML reports."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from xml.etree import ElementTree as ET

from scenarios.runner import Event, ScenarioFinished, StepFinished, StepsSkipped


def console(echo: Callable[[str], None]) -> Callable[[Event], None]:
    """One line per step, and one for the steps a failure skipped; for a failed step what the apps logged too.

    A failed step shows the expectation, what was found, the evidence and the apps' log lines.
    """

    def handle(event: Event) -> None:
        if isinstance(event, StepFinished):
            mark = "ok  " if event.ok else "FAIL"
            echo(f"  {mark} {event.scenario} step {event.index}: {event.action} ({event.duration_ms:.0f} ms)")
            if not event.ok:
                echo(f"       expected: {event.expected}")
                echo(f"       found:    {event.found.splitlines()[0] if event.found else ''}")
                for exchange in event.evidence[-2:]:
                    echo(f"       evidence: {json.dumps(exchange)[:400]}")
                for line in event.logs[-5:]:
                    echo(f"       log:      {line[:400]}")
        elif isinstance(event, StepsSkipped):
            which = f"step {event.first}" if event.first == event.last else f"steps {event.first}-{event.last}"
            echo(f"  skip {event.scenario} {which}: not run, {event.reason}")
        else:
            verdict = "passed" if event.ok else f"FAILED - reproduce with: {event.reproduce}"
            echo(f"{event.name}: {verdict} ({event.duration_ms:.0f} ms)")

    return handle


def write_json(results: list[ScenarioFinished], path: Path) -> None:
    path.write_text(json.dumps([asdict(r) for r in results], indent=2), "utf-8")


def write_junit(results: list[ScenarioFinished], path: Path) -> None:
    failed = sum(not r.ok for r in results)
    suite = ET.Element("testsuite", name="orderportal scenarios", tests=str(len(results)), failures=str(failed))
    if results:
        _properties(suite, harness=results[0].harness_version, contract=results[0].contract_version)
    for result in results:
        seconds = f"{result.duration_ms / 1000:.3f}"
        case = ET.SubElement(suite, "testcase", classname="scenarios", name=result.name, time=seconds)
        _properties(case, seed=str(result.seed))
        bad = next((s for s in result.steps if not s.ok), None)
        if bad is not None:
            found = bad.found.splitlines()[0] if bad.found else ""
            message = f"step {bad.index} ({bad.action}): expected {bad.expected}, found {found}"
            ET.SubElement(case, "failure", message=message).text = (
                json.dumps(bad.evidence, indent=1) + "".join(f"\n{line}" for line in bad.logs) + f"\n{result.reproduce}"
            )
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def _properties(parent: ET.Element, **values: str) -> None:
    listed = ET.SubElement(parent, "properties")
    for name, value in values.items():
        ET.SubElement(listed, "property", name=name, value=value)


def write_html(results: list[ScenarioFinished], path: Path) -> None:
    e = html.escape
    parts = []
    for result in results:
        steps = "".join(_step_html(s) for s in result.steps)
        verdict = "passed" if result.ok else f"failed: {e(result.reproduce)}"
        about = f"seed {result.seed}, {result.duration_ms:.0f} ms"
        parts.append(
            f"<h2 class='{'ok' if result.ok else 'bad'}'>{e(result.name)}: {verdict}</h2>"
            f"<p class='about'>{about}</p><ol>{steps}</ol>"
        )
    style = (
        ".ok{color:#070}.bad{color:#b00}.about,.ms{color:#555}pre{background:#f4f4f4;padding:.5em;color:#000}"
        "body{font-family:sans-serif}"
    )
    passed = sum(r.ok for r in results)
    versions = (
        f"<p class='about'>harness {e(results[0].harness_version)}, contract {e(results[0].contract_version)}</p>"
        if results
        else ""
    )
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>Scenarios</title><style>{style}</style></head><body>"
    )
    path.write_text(
        page + f"<h1>{passed} of {len(results)} scenarios passed</h1>{versions}{''.join(parts)}</body></html>", "utf-8"
    )


def _step_html(step: StepFinished) -> str:
    """One step as an item of its scenario's ordered list, which numbers it."""
    e = html.escape
    took = f" <span class='ms'>({step.duration_ms:.0f} ms)</span>"
    if step.ok:
        return f"<li class='ok'>{e(step.action)}{took}</li>"
    evidence = e(json.dumps(step.evidence, indent=1))
    logs = "".join(f"<br>log: {e(line)}" for line in step.logs)
    found = f"<br>expected {e(step.expected)}<br>found {e(step.found)}{logs}<pre>{evidence}</pre>"
    return f"<li class='bad'>{e(step.action)}{took}{found}</li>"
