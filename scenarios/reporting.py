"""Scenario results on the console and as JSON, JUnit XML and HTML reports."""

from __future__ import annotations

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
    """One self-contained page in the certification report's design: verdict, summary, each step, each failure."""
    from scenarios.templating import environment, stylesheet  # jinja2 is needed only when a page is written

    failed = sum(not r.ok for r in results)
    verdict = f"All {len(results)} scenarios passed" if not failed else f"{failed} of {len(results)} scenarios failed"
    page = (
        environment()
        .get_template("scenarios.html.j2")
        .render(
            results=results,
            verdict=verdict,
            failed=failed,
            steps_run=sum(len(r.steps) for r in results),
            steps_skipped=sum(len(r.not_run) for r in results),
            harness=sorted({r.harness_version for r in results}),
            contract=sorted({r.contract_version for r in results}),
            seeds=sorted({r.seed for r in results}),
            started_at=min((r.started_at for r in results if r.started_at), default=""),
            duration_ms=sum(r.duration_ms for r in results),
            css=stylesheet(),
        )
    )
    path.write_text(page, "utf-8")
