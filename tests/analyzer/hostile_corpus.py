"""Generators of hostile OTLP JSON Lines: each class mixes valid records with bad ones and
says what must be kept and what must be reported.

A case is (name, file bytes, kept span ids, reported {line: reason fragment}). Valid spans
have ids "v…", bad ones "b…" (as 16 hex digits); every line is a TracesData of one span
unless the class needs more.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

TS = "1700000000000000000"
TRACE = "0af7651916cd43dd8448eb211c80319c"
U64_MAX = str(2**64 - 1)
I64_MAX = str(2**63 - 1)


@dataclass
class Case:
    name: str
    data: bytes
    kept: set[str] = field(default_factory=set)  # span ids that must be stored
    reported: dict[int, str] = field(default_factory=dict)  # line -> part of the reason


def sid(n: int) -> str:
    return f"{n:016x}"


def span(n: int, **extra) -> dict:
    s = {"traceId": TRACE, "spanId": sid(n), "name": f"op{n}", "startTimeUnixNano": TS,
         "endTimeUnixNano": TS}
    s.update(extra)
    return s


def line(*spans: dict, resource: dict | None = None, scopes=None) -> str:
    res = resource or {"attributes": [{"key": "session.id", "value": {"stringValue": "hostile"}}]}
    scope_spans = scopes if scopes is not None else [{"spans": list(spans)}]
    body = {"resource": res, "scopeSpans": scope_spans}
    return json.dumps({"resourceSpans": [body]})


def _case(name: str, rows: list[tuple[str | bytes, int | None, str | None]]) -> Case:
    """rows: (line text, span id kept or None, reason fragment or None)."""
    case = Case(name, b"")
    out = []
    for i, (text, kept, reason) in enumerate(rows, 1):
        out.append(text.encode() if isinstance(text, str) else text)
        if kept is not None:
            case.kept.add(sid(kept))
        if reason is not None:
            case.reported[i] = reason
    case.data = b"\n".join(out) + b"\n"
    return case


def out_of_range() -> Case:
    return _case("out_of_range", [
        (line(span(1)), 1, None),
        (line(span(2, endTimeUnixNano=U64_MAX)), None, "endTimeUnixNano 18446744073709551615"),
        (line(span(3, startTimeUnixNano=I64_MAX)), None, "out of range"),
        (line(span(4, flags="99999999999999999999")), 4, "flags: 99999999999999999999 is out"),
        (line(span(5, attributes=[{"key": "n", "value": {"intValue": U64_MAX}}])), 5,
         "intValue: 18446744073709551615 is out of range"),
        (line(span(6, droppedAttributesCount=-1)), 6, "droppedAttributesCount: -1 is out"),
        (line(span(7)), 7, None),
    ])


def control_bytes() -> Case:
    return _case("control_bytes", [
        (line(span(1, name="a\x01b\x1b[31m")), 1, None),    # escaped JSON: a fine name
        (line(span(2)).replace("op2", "op\x01\x02"), None, "invalid JSON: Invalid control"),
        ('{"resourceSpans": [\x07]}', None, "invalid JSON"),
        (b'{"x": "\x00"}', None, "NUL byte"),
        (line(span(5)), 5, None),
    ])


def _deep_attr(n: int, open_: str, close: str) -> str:
    """A span line whose attribute "deep" nests n levels (built as text: json.dumps would
    recurse)."""
    value = open_ * n + '{"intValue": "1"}' + close * n
    return line(span(900 + n, attributes=[{"key": "deep", "value": "@"}])).replace(
        '"@"', value)


def deep_nesting() -> Case:
    kvlist = ('{"kvlistValue": {"values": [{"key": "k", "value": ', "}]}}")
    array = ('{"arrayValue": {"values": [', "]}}")
    return _case("deep_nesting", [
        ("[" * 5000 + "]" * 5000, None, "invalid JSON: nested deeper than"),
        (_deep_attr(3000, *kvlist), 900 + 3000, None),
        (_deep_attr(200, *array), 900 + 200, None),
        (line(span(4)), 4, None),
    ])


def wrong_types() -> Case:
    return _case("wrong_types", [
        (line(span(1, kind="bogus")), 1, 'unknown kind "bogus"'),
        (line(span(2, startTimeUnixNano=True)), None, "startTimeUnixNano is not an unsigned"),
        (line(scopes={"spans": [span(3)]}), None, "scopeSpans: expected an array, got an object"),
        (line(span(4, status={"code": "STATUS_CODE_WAT"})), 4, 'unknown status code'),
        (line(span(5, traceId=12345)), None, "invalid traceId"),
        (line(span(6, spanId="zz" * 8)), None, "invalid spanId"),
        (line(span(7, spanId="abc")), None, "invalid spanId"),
        (line(span(8, startTimeUnixNano="NaN")), None, "not an unsigned 64-bit integer"),
        (line(span(9, attributes=[{"key": "d", "value": {"doubleValue": "Infinity"}}])), 9,
         None),
        ('{"resourceSpans": {}}', None, "resourceSpans: expected an array"),
        ("[" + line(span(11)) + "]", None, "not a JSON object but list"),
        ("{}", None, "no resourceSpans"),
        (line(span(13)), 13, None),
    ])


def oversized() -> Case:
    big = "x" * (2 * 1024 * 1024)
    many = [{"key": f"k{i}", "value": {"intValue": str(i)}} for i in range(10_000)]
    case = _case("oversized", [
        (line(span(1, attributes=[{"key": "big", "value": {"stringValue": big}}])), 1, None),
        (line(span(2), resource={"attributes": many}), 2, None),
        (line(*[span(100 + i) for i in range(2000)]), None, None),  # one huge line
        (line(span(4)), 4, None),
    ])
    case.kept |= {sid(100 + i) for i in range(2000)}
    return case


def encodings() -> Case:
    return _case("encodings", [
        (b"\xef\xbb\xbf" + line(span(1)).encode(), None, "invalid JSON"),  # a BOM
        (line(span(2)) + "\r", 2, None),                                    # CRLF
        (b'{"name": "caf\xe9"}', None, "not UTF-8"),
        (line(span(4)).replace('"name"', '"name": "dup", "name"'), 4, None),  # duplicate key
        (line(span(5)), 5, None),
    ])


GENERATORS: list[Callable[[], Case]] = [out_of_range, control_bytes, deep_nesting,
                                        wrong_types, oversized, encodings]
