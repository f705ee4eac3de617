"""What the HTML reports share: one jinja2 environment, its filters and the stylesheet every page inlines."""

from __future__ import annotations

import functools
import html
import json
from collections.abc import Callable
from importlib import resources
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import jinja2


def clock(seconds: float) -> str:
    """``2m10s``, ``45s``, ``1h02m``: a duration as people read it."""
    whole = int(seconds)
    if whole < 60:
        return f"{seconds:.1f}s" if seconds < 10 else f"{whole}s"
    if whole < 3600:
        return f"{whole // 60}m{whole % 60:02d}s"
    return f"{whole // 3600}h{whole % 3600 // 60:02d}m"


def milliseconds(ms: float | None) -> str:
    """``31 ms`` for a step, ``2.4s`` or ``1m05s`` once it takes a second."""
    value = ms or 0.0
    return f"{value:.0f} ms" if value < 1000 else clock(value / 1000)


def slug(verdict: str) -> str:
    return verdict.replace(" ", "-")


def json_html(value: Any, violations: list[str] | None = None) -> str:
    """Indented JSON, escaped, with the value at each failing pointer marked."""
    marks = {v.split(":", 1)[0] for v in violations or [] if v.startswith("/")}  # ``/items/0/x: must be ...``
    return _render(value, "", marks, 0)


def _render(value: Any, pointer: str, marks: set[str], depth: int) -> str:
    pad, inner = "  " * depth, "  " * (depth + 1)
    if isinstance(value, dict) and value:
        parts = [
            f"{inner}{html.escape(json.dumps(k))}: {_render(v, f'{pointer}/{k}', marks, depth + 1)}"
            for k, v in value.items()
        ]
        shown = "{\n" + ",\n".join(parts) + f"\n{pad}}}"
    elif isinstance(value, list) and value:
        parts = [f"{inner}{_render(v, f'{pointer}/{i}', marks, depth + 1)}" for i, v in enumerate(value)]
        shown = "[\n" + ",\n".join(parts) + f"\n{pad}]"
    else:
        shown = html.escape(json.dumps(value, ensure_ascii=False))
    return f"<mark>{shown}</mark>" if pointer in marks else shown


@functools.cache
def environment() -> jinja2.Environment:
    """The templates under ``scenarios/templates``, autoescaped, and strict: a missing value is an error, not blank."""
    import jinja2  # only a written page needs it
    from markupsafe import Markup

    built = jinja2.Environment(
        loader=jinja2.PackageLoader("scenarios", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
    )
    filters: dict[str, Callable[..., Any]] = {
        "clock": lambda seconds: clock(seconds or 0.0),
        "ms": milliseconds,
        "slug": slug,
        "json_html": lambda value, violations=None: Markup(json_html(value, violations)),
    }
    built.filters |= filters
    return built


def stylesheet() -> Any:
    """``report.css``, which each page inlines so that it fetches nothing; our own text, so never escaped.

    An escaped stylesheet is a broken one: browsers do not decode ``&gt;`` inside ``<style>``.
    """
    from markupsafe import Markup

    return Markup((resources.files("scenarios") / "templates" / "report.css").read_text("utf-8"))
