"""One way to decode a JSON body, shared by both apps: strict UTF-8, no lone surrogates, bounded nesting.

orjson already refuses what JSON's text forbids (invalid UTF-8, a lone surrogate, escaped or raw, NaN) and
stops at 1024 levels; the schema validator stops at 256 levels with an error of its own, and the redaction
and the answer's encoder recurse. A body nested deeper than MAX_DEPTH is therefore refused here, before
any of them sees it. No message quotes the body: a refusal names the rule and the position only.
"""

from __future__ import annotations

from typing import Any

import orjson

MAX_DEPTH = 64  # levels of arrays and objects; every contract needs fewer than ten
TOO_DEEP = f"the body nests arrays and objects deeper than {MAX_DEPTH} levels"


class NotJson(ValueError):
    """A body that is not JSON this system takes; the message names the rule, never the body's text."""


class TooDeep(NotJson):
    """JSON that nests arrays and objects deeper than MAX_DEPTH."""


def decode_json(raw: bytes) -> Any:
    """The JSON value ``raw`` holds; NotJson when it is not JSON or nests deeper than MAX_DEPTH."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if exc.msg.startswith("depth limit exceeded"):  # orjson's own limit, at 1024 levels
            raise TooDeep(TOO_DEEP) from None
        raise NotJson(f"the body is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    # Fewer brackets than levels allowed cannot nest too deep: most bodies skip the walk.
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH and depth_over(value, MAX_DEPTH):
        raise TooDeep(TOO_DEEP)
    return value


def decoded_yaml_refusal(value: Any) -> str | None:
    """Why a value YAML decoded is no JSON this system takes (too deep, a lone surrogate); None when it is.

    YAML's escapes admit lone surrogates, which no JSON encoder of this system can write back out.
    """
    if depth_over(value, MAX_DEPTH):
        return TOO_DEEP
    level = [value]
    while level:
        item = level.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "the body holds a lone surrogate, which is not a character"
        elif isinstance(item, dict):
            level.extend(item.keys())
            level.extend(item.values())
        elif isinstance(item, list):
            level.extend(item)
    return None


def depth_over(value: Any, limit: int) -> bool:
    """Whether ``value`` nests arrays and objects more than ``limit`` levels deep; iterative, so it has no limit."""
    level: list[tuple[Any, int]] = [(value, 1)]
    while level:
        item, depth = level.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > limit:
            return True
        level.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False
