"""The model's .sql files spell convention names as literals (SQL cannot import them): each one
must exist in swarmscope.conventions, so a renamed convention cannot silently empty a view."""

from __future__ import annotations

import enum
import re

from swarmscope import conventions
from swarmscope.analyzer import db

# The model's own files (ingest, schema, views, listing).
MODEL_SQL = ("schema", "views", "list_sessions")

# Lower-case literals that are words of the model or of OTLP, not convention names.
MODEL_WORDS = {
    # metric types and problems as the model names them
    "gauge", "sum", "histogram", "exponential_histogram", "summary", "orphan", "zombie",
    "unknown_service",
    # struct field names built in SQL and read_json options
    "attributes", "key", "value", "name", "time", "quantile", "resource", "schema_url",
    "trace_id", "span_id", "trace_state", "line", "newline_delimited",
    # OTLP JSON field names the shape in ingest_shape.sql spells (the camelCase ones are not
    # mistaken for convention names)
    "spans",
}


def convention_values() -> set[str]:
    values: set[str] = set()
    for value in vars(conventions).values():
        if isinstance(value, str):
            values.add(value)
        elif isinstance(value, type) and issubclass(value, enum.Enum):
            values.update(str(m.value) for m in value)
    return values


def sql_literals(name: str) -> set[str]:
    text = re.sub(r"--[^\n]*", "", db.load_sql(name))
    return {m.replace("''", "'") for m in re.findall(r"'((?:[^']|'')*)'", text)}


def model_sql_names() -> list[str]:
    return list(MODEL_SQL) + [n for n in db.sql_names() if n.startswith("ingest_")]


def test_every_name_literal_in_the_model_sql_is_a_convention() -> None:
    known = convention_values()
    unknown = {}
    for name in model_sql_names():
        for literal in sql_literals(name):
            if re.fullmatch(r"[a-z][a-z0-9_.]*", literal) and literal not in known | MODEL_WORDS:
                unknown.setdefault(name, []).append(literal)
    assert not unknown, f"literals that are not in swarmscope.conventions: {unknown}"


def test_the_check_sees_the_names_the_views_depend_on() -> None:
    views = sql_literals("views")
    for name in (conventions.EVENT_ORPHAN, conventions.EVENT_ZOMBIE, conventions.PROCESS_PID,
                 str(conventions.Operation.CREATE_AGENT),
                 str(conventions.Operation.TERMINATE_AGENT)):
        assert name in views
    spans = sql_literals("ingest_spans")
    assert {conventions.GEN_AI_AGENT_ID, conventions.TERMINATION_REASON,
            conventions.PROCESS_EXIT_CODE} <= spans
    assert conventions.SESSION_ID in sql_literals("ingest_macros")
