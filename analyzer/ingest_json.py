"""JSON in Python, bounded: parsing a line without unbounded recursion, and naming the
field of a line that does not fit the OTLP shape.

Python's json module recurses once per nesting level, so a line nested a few thousand
levels deep raises RecursionError (or worse, deep inside a caller). Every json.loads of
telemetry goes through ``loads`` here, which measures the depth first. DuckDB parses the
lines itself; Python only looks at the few lines that need a precise reason.
"""

from __future__ import annotations

import json
import re
from typing import Any

import duckdb

MAX_DEPTH = 200  # OTLP needs ~20 levels; Python's own limit is ~1000 frames
_SPECIAL = re.compile(rb'[\[\]{}"\\]')


class TooDeep(ValueError):
    """A JSON text nested deeper than MAX_DEPTH."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"nested deeper than {limit} levels")


def depth_exceeds(text: bytes | str, limit: int = MAX_DEPTH) -> bool:
    """Whether ``text`` nests arrays/objects more than ``limit`` deep (strings ignored)."""
    data = text.encode("utf-8", "surrogatepass") if isinstance(text, str) else text
    if data.count(b"[") + data.count(b"{") <= limit:
        return False  # cannot be deeper than it has brackets: the usual, cheap answer
    # One pass over the special characters only, in linear time whatever the input.
    depth, in_string, escaped = 0, False, -1
    for m in _SPECIAL.finditer(data):
        ch, pos = m.group(), m.start()
        if in_string:
            if ch == b"\\" and escaped != pos:
                escaped = pos + 1  # the next character is escaped
            elif ch == b'"' and escaped != pos:
                in_string = False
        elif ch == b'"':
            in_string = True
        elif ch in (b"[", b"{"):
            depth += 1
            if depth > limit:
                return True
        elif ch in (b"]", b"}"):
            depth -= 1
    return False


def loads(text: bytes | str, limit: int = MAX_DEPTH, strict: bool = True) -> Any:
    """json.loads that refuses (TooDeep, a ValueError) what would recurse too deep.
    ``strict=False`` accepts raw control characters in strings, as DuckDB does."""
    if depth_exceeds(text, limit):
        raise TooDeep(limit)
    return json.loads(text, strict=strict)


def dumps_compact(value: Any) -> str:
    """``value`` (from ``loads``, so at most MAX_DEPTH deep) as one line of JSON."""
    return json.dumps(value, separators=(",", ":"))


def line_reason(text: str) -> str:
    """Why a line that DuckDB did not take as a JSON object is not one."""
    try:
        value = loads(text)
    except TooDeep as exc:
        return f"invalid JSON: {exc}"
    except ValueError as exc:
        col = getattr(exc, "colno", None)
        msg = getattr(exc, "msg", str(exc))
        return f"invalid JSON: {msg}" + (f" at column {col}" if col else "")
    return f"not a JSON object but {type(value).__name__}"


# --- which field does not fit ----------------------------------------------------------------

_INT_RANGE = {
    "UBIGINT": (0, 2**64 - 1), "BIGINT": (-(2**63), 2**63 - 1),
    "INTEGER": (-(2**31), 2**31 - 1), "UINTEGER": (0, 2**32 - 1),
}
MAX_FIELD_PROBLEMS = 5  # per line: the first few name the trouble well enough


def misfits(doc: Any, shape: duckdb.typing.DuckDBPyType) -> list[str]:
    """The fields of ``doc`` (a parsed line) whose value does not fit ``shape`` (the OTLP
    shape as a DuckDB type): "path: reason", at most MAX_FIELD_PROBLEMS."""
    out: list[str] = []
    _walk(doc, shape, "", out)
    return out[:MAX_FIELD_PROBLEMS]


def _walk(value: Any, shape: duckdb.typing.DuckDBPyType, path: str, out: list[str]) -> None:
    if value is None or len(out) >= MAX_FIELD_PROBLEMS:
        return
    kind = shape.id
    if kind == "struct":
        if not isinstance(value, dict):
            out.append(f"{path or 'line'}: expected an object, got {_name(value)}")
            return
        for key, child in shape.children:
            if key in value:
                _walk(value[key], child, f"{path}.{key}" if path else key, out)
    elif kind == "list":
        if not isinstance(value, list):
            out.append(f"{path}: expected an array, got {_name(value)}")
            return
        for i, item in enumerate(value):
            _walk(item, shape.child, f"{path}[{i}]", out)
    else:
        problem = _scalar_problem(value, str(shape))
        if problem:
            out.append(f"{path}: {problem}")


def _scalar_problem(value: Any, type_name: str) -> str | None:
    if type_name in _INT_RANGE:
        lo, hi = _INT_RANGE[type_name]
        number = _integer(value)
        if number is None:
            return f"expected an integer, got {_name(value)}"
        if not lo <= number <= hi:
            return f"{number} is out of range for a {type_name} ({lo} to {hi})"
    elif type_name == "DOUBLE":
        if isinstance(value, bool) or not isinstance(value, int | float | str):
            return f"expected a number, got {_name(value)}"
        if isinstance(value, str):
            try:
                float(value)
            except ValueError:
                return f"expected a number, got {_name(value)}"
    elif type_name == "BOOLEAN" and not isinstance(value, bool):
        return f"expected true or false, got {_name(value)}"
    elif type_name == "VARCHAR" and isinstance(value, dict | list):
        return f"expected a string, got {_name(value)}"
    return None


def _integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and re.fullmatch(r"\s*-?\d+\s*", value):
        return int(value)
    return None


def _name(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return f"the string {json.dumps(value[:40])}"
    return f"the number {value!r}"[:60]
