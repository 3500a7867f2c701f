"""A real demo swarm (5 agent processes, embedded file exporter) becomes one session with five
agents and their lifecycle; docs/schema.md's example queries run against it."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from swarmscope import conventions as C
from swarmscope.analyzer import db
from swarmscope.analyzer.ingest import ingest

SCHEMA_DOC = Path(__file__).resolve().parents[2] / "docs" / "schema.md"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from swarmscope.cli.demo import run_demo

    data_dir = tmp_path_factory.mktemp("demo") / "data"
    saved = dict(os.environ)
    try:
        run_demo(data_dir, agents=5, duration=2.5, sample_interval=0.25, finish_tasks=True)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    summary = ingest([data_dir], data_dir, progress=False)
    assert summary.errors == []
    yield data_dir


@pytest.fixture
def con(demo_db: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    connection = db.connect(demo_db, read_only=True)
    yield connection
    connection.close()


def test_one_session_with_five_agents(con: duckdb.DuckDBPyConnection) -> None:
    sessions = con.execute(
        "SELECT session_id, agent_count, topology, strategy, duration_s, span_count,"
        " metric_point_count FROM sessions").fetchall()
    assert len(sessions) == 1
    session_id, agents, topology, strategy, duration, spans, points = sessions[0]
    assert (agents, topology, strategy) == (5, "mesh", "balanced")
    assert duration > 2.0 and spans >= 5 * 3 and points > 0
    # every process of the swarm reports under the same session
    assert con.execute("SELECT count(DISTINCT session_id) FROM resources").fetchone() == (1,)
    assert con.execute("SELECT count(*) FROM resources").fetchone()[0] >= 6  # one per process


def test_agents_have_their_whole_lifecycle(con: duckdb.DuckDBPyConnection) -> None:
    agents = con.execute(
        "SELECT agent_id, agent_name, kind, pid, parent_pid, spawn_time, terminate_time,"
        " exit_code, termination_reason, task_count, failed_tasks FROM agents").fetchall()
    assert len(agents) == 5
    (orchestrator,) = {a[4] for a in agents}
    for (_id, name, kind, pid, _ppid, spawn, terminate, code, reason, tasks, failed) in agents:
        assert name and kind == str(C.AgentKind.PROCESS)
        assert pid and pid != orchestrator
        assert spawn < terminate
        assert (code, reason) == (0, str(C.TerminationReason.GRACEFUL))
        assert tasks >= 1 and failed == 0
    assert len({a[3] for a in agents}) == 5


def test_samples_are_attributed_to_agents_within_their_lifetime(
    con: duckdb.DuckDBPyConnection,
) -> None:
    per_agent = dict(con.execute(
        "SELECT agent_id, count(*) FROM agent_samples WHERE metric_name = ? GROUP BY ALL",
        [C.PROCESS_MEMORY_USAGE]).fetchall())
    agent_ids = {r[0] for r in con.execute("SELECT agent_id FROM agents").fetchall()}
    assert set(per_agent) == agent_ids
    assert all(n >= 2 for n in per_agent.values())
    # a sample's pid is its agent's pid (or a descendant's), never the orchestrator's
    wrong = con.execute(
        "SELECT count(*) FROM agent_samples s JOIN agents a USING (session_id, agent_id)"
        " WHERE s.metric_name = ? AND s.pid = a.parent_pid", [C.PROCESS_MEMORY_USAGE]).fetchone()
    assert wrong == (0,)
    assert con.execute(
        "SELECT min(since_spawn_s) >= -1, max(value) > 0 FROM agent_samples"
        " WHERE metric_name = ?", [C.PROCESS_MEMORY_USAGE]).fetchone() == (True, True)


def test_clean_demo_leaves_no_cleanup_events(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute("SELECT count(*) FROM spans WHERE name = ?",
                       [C.SPAN_CLEANUP_AUDIT]).fetchone() == (1,)
    assert con.execute("SELECT count(*) FROM cleanup_events").fetchone() == (0,)


def schema_doc_queries() -> list[str]:
    text = SCHEMA_DOC.read_text()
    return [q.strip() for q in re.findall(r"```sql\n(.*?)```", text, flags=re.S)]


def test_schema_doc_examples_run(con: duckdb.DuckDBPyConnection) -> None:
    queries = schema_doc_queries()
    assert len(queries) >= 6
    returned = 0
    for query in queries:
        rows = con.execute(query).fetchall()
        returned += bool(rows)
    assert returned >= len(queries) - 2  # the cleanup examples may find nothing to show
