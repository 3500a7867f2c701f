"""The preload's injection: NODE_OPTIONS built by swarmscope.watch.node, and real Node programs
started by ``swarmscope run`` and ``spawn_agent`` - their own options kept, their output and
exit codes unchanged, their runtime metrics flushed; ``SWARMSCOPE_NODE_PRELOAD=0`` off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from node_runs import NODE, PROGRAMS, heap_used_totals, metric_files, needs_node, points
from swarmscope import conventions as c
from swarmscope import settings
from swarmscope.watch import node
from watched_runs import watched, watched_node


def _node_files(data_dir: Path) -> list[Path]:
    """Metrics files that hold the preload's V8 heap series."""
    return [p for p in metric_files(data_dir) if points(p, c.V8JS_HEAP_USED)]


# --- NODE_OPTIONS -----------------------------------------------------------------------------


def test_preload_is_appended_after_the_users_options_once() -> None:
    env = node.with_preload({c.ENV_NODE_OPTIONS: "--max-old-space-size=64", "PATH": "/bin"})
    assert env[c.ENV_NODE_OPTIONS] == (
        f'--max-old-space-size=64 --require "{node.preload_path()}"')
    assert node.with_preload(env) == env
    assert node.with_preload({})[c.ENV_NODE_OPTIONS] == f'--require "{node.preload_path()}"'
    assert node.preload_path().is_absolute() and node.preload_path().is_file()


@needs_node
def test_a_preload_path_with_spaces_and_quotes_reaches_node(tmp_path: Path) -> None:
    odd = tmp_path / 'dir with "quotes" and spaces'
    odd.mkdir()
    (odd / "mark.cjs").write_text("process.stderr.write('loaded\\n');\n")
    env = {**os.environ, c.ENV_NODE_OPTIONS: "--max-old-space-size=64"}
    env[c.ENV_NODE_OPTIONS] += " --require " + node._quoted(odd / "mark.cjs")
    out = subprocess.run([NODE, "-e", "0"], env=env, capture_output=True, text=True, timeout=30)
    assert out.returncode == 0 and out.stderr == "loaded\n"


def test_node_commands_are_recognised(tmp_path: Path) -> None:
    script = tmp_path / "agent-cli"
    script.write_text("#!/usr/bin/env node\nconsole.log('hi')\n")
    script.chmod(0o755)
    flagged = tmp_path / "flagged-cli"
    flagged.write_text("#!/usr/bin/env -S node --no-warnings\n")
    flagged.chmod(0o755)
    shell = tmp_path / "run.sh"
    shell.write_text("#!/bin/sh\nnode x.js\n")
    shell.chmod(0o755)
    path = str(tmp_path)
    for argv in (["node", "a.js"], ["/usr/bin/nodejs"], ["npx", "claude-flow", "daemon"],
                 ["npm", "exec", "tool"], ["pnpm", "dlx", "tool"], ["agent-cli"],
                 [str(flagged)]):
        assert node.is_node_command(argv, path), argv
    for argv in ([], ["python3", "a.py"], ["npm", "install"], ["run.sh"], ["nodemon-not"],
                 ["no-such-command"], ["/bin/sh", "-c", "node a.js"]):
        assert not node.is_node_command(argv, path), argv


def test_the_switch_follows_the_one_boolean_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(c.ENV_NODE_PRELOAD, raising=False)
    assert node.enabled()
    for word, expected in (("0", False), ("off", False), ("yes", True)):
        monkeypatch.setenv(c.ENV_NODE_PRELOAD, word)
        assert node.enabled() is expected
        assert (c.ENV_NODE_OPTIONS in node.prepare_env({}, ["node"])) is expected
    monkeypatch.setenv(c.ENV_NODE_PRELOAD, "maybe")
    with pytest.raises(settings.ConfigError, match=c.ENV_NODE_PRELOAD):
        node.prepare_env({}, ["node"])
    # inside someone else's program (the instrumentor) a bad word means no preload, no error
    assert node.prepare_env_leniently({}, ["node"]) == {}


def test_only_node_commands_get_the_preload_from_spawn_and_the_instrumentor() -> None:
    assert c.ENV_NODE_OPTIONS in node.prepare_env({}, ["node", "a.js"])
    assert c.ENV_NODE_OPTIONS not in node.prepare_env({}, ["python3", "a.py"])
    assert c.ENV_NODE_OPTIONS in node.prepare_env({})  # the watcher: every program


# --- real programs under `swarmscope run` -----------------------------------------------------


@needs_node
def test_a_program_with_its_own_node_options_keeps_them(tmp_path: Path) -> None:
    run = watched_node(tmp_path, "heap_limit.js",
                       env={c.ENV_NODE_OPTIONS: "--max-old-space-size=64"})
    assert run.returncode == 0, run.stderr
    limit = json.loads(run.stdout.splitlines()[0])["heap_size_limit"]
    assert limit < 200 * 1024 * 1024  # 64 MiB asked for, not Node's default of GiBs
    (path,) = _node_files(tmp_path)
    assert points(path, c.V8JS_HEAP_LIMIT)


@needs_node
@pytest.mark.parametrize(("program", "args", "code"), [
    ("early_exit.js", (), 0),  # process.exit() before the event loop ever turns
    ("exits.js", ("exit3",), 3),  # process.exit(3) after writing 2,000 lines
])
def test_early_exits_keep_their_code_and_output_and_flush(
        tmp_path: Path, program: str, args: tuple[str, ...], code: int) -> None:
    plain = subprocess.run([NODE, str(PROGRAMS / program), *args], capture_output=True,
                           text=True, timeout=30)
    run = watched_node(tmp_path, program, *args)
    assert run.returncode == plain.returncode == code
    assert run.stdout.startswith(plain.stdout)  # the program's output, then the report
    (path,) = _node_files(tmp_path)
    assert heap_used_totals(path)[-1] > 0


@needs_node
def test_switch_off_starts_node_without_the_preload(tmp_path: Path) -> None:
    run = watched_node(tmp_path, "exits.js", "exit3", env={c.ENV_NODE_PRELOAD: "0"})
    assert run.returncode == 3
    assert _node_files(tmp_path) == []
    assert metric_files(tmp_path)  # the watcher itself still recorded the process


@needs_node
def test_a_shell_script_that_starts_node_is_reached(tmp_path: Path) -> None:
    script = tmp_path / "start.sh"
    script.write_text(f"#!/bin/sh\nexec '{NODE}' '{PROGRAMS / 'idle.js'}'\n")
    script.chmod(0o755)
    run = watched(tmp_path / "data", str(script), env={"DURATION_MS": "400"})
    assert run.returncode == 0, run.stderr
    assert len(_node_files(tmp_path / "data")) == 1


# --- spawn_agent ------------------------------------------------------------------------------

_SPAWN = """
import json, sys
import swarmscope
swarmscope.init(service_name="orchestrator", data_dir=sys.argv[1], sample_interval=0.2)
agent = swarmscope.spawn_agent("node-worker", [sys.argv[2], sys.argv[3]])
code = agent.popen.wait()
swarmscope.shutdown()
print(json.dumps({"agent_id": agent.id, "pid": agent.pid, "code": code}))
"""


@needs_node
def test_spawn_agent_gives_a_node_command_the_preload(tmp_path: Path) -> None:
    env = {**os.environ, c.ENV_SAMPLE_INTERVAL: "0.2", "DURATION_MS": "600"}
    env.pop(c.ENV_SESSION_ID, None)
    out = subprocess.run(
        [sys.executable, "-c", _SPAWN, str(tmp_path), NODE, str(PROGRAMS / "gc_once.js")],
        capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    spawned = json.loads(out.stdout.splitlines()[-1])
    (path,) = _node_files(tmp_path)
    assert f".{spawned['pid']}." in path.name
    agents = {p["attrs"].get(c.AGENT_INSTANCE_ID) for p in points(path, c.V8JS_HEAP_USED)}
    assert agents == {spawned["agent_id"]}
