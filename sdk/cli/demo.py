"""``swarmscope demo``: run the 5-agent mesh swarm on the embedded default and show the files.

The swarm itself is ``examples/mesh_swarm.py`` (readable as an example of the SDK); the demo
loads it from the source tree, forces the embedded file exporter into the data directory and
summarises what was recorded.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType
from typing import Annotated, Any

import swarmscope
import typer
from swarmscope import conventions as c
from swarmscope.cli import options

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mesh_swarm.py"
DEFAULT_AGENTS = 5
DEFAULT_DURATION_S = 25.0


def _load_example() -> ModuleType:
    if not EXAMPLE.is_file():
        raise FileNotFoundError(
            f"the demo swarm {EXAMPLE} is missing; run the demo from a source checkout "
            "(pip install -e .)"
        )
    spec = importlib.util.spec_from_file_location("swarmscope_mesh_swarm", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while being defined
    spec.loader.exec_module(module)
    return module


def run_demo(
    data_dir: Path,
    agents: int = DEFAULT_AGENTS,
    duration: float = DEFAULT_DURATION_S,
    sample_interval: float | None = None,
    finish_tasks: bool = False,
) -> Path:
    """Run the mesh swarm with the embedded file exporter into ``data_dir``; return the dir.

    The swarm runs in this process (the orchestrator) plus one process per agent; telemetry of
    an earlier ``swarmscope.init()`` in this process is shut down first so the demo gets its
    own session. ``finish_tasks`` waits until every agent ran all its tasks before the
    terminate, so the workload is the same on a busy machine.
    """
    return run_swarm_details(data_dir, agents, duration, sample_interval, finish_tasks).data_dir


def run_swarm_details(
    data_dir: Path, agents: int, duration: float, sample_interval: float | None = None,
    finish_tasks: bool = False,
) -> Any:
    """Like :func:`run_demo` but returns the example's ``SwarmRun`` (agents, endings, files)."""
    from swarmscope.settings import check_writable_dir

    if agents < 1:
        raise typer.BadParameter("must be at least 1", param_hint="--agents")
    if duration <= 0:
        raise typer.BadParameter("must be greater than 0 seconds", param_hint="--duration")
    data_dir = Path(data_dir).absolute()
    check_writable_dir(data_dir, f"--data-dir ({c.ENV_DATA_DIR})")
    swarmscope.shutdown()
    os.environ[c.ENV_DATA_DIR] = str(data_dir)
    os.environ[c.ENV_EXPORTER] = "file"
    example = _load_example()
    tasks = 4 if duration >= 8 else 2
    return example.run_swarm(
        agents=agents, duration=duration, tasks=tasks, sample_interval=sample_interval,
        finish_tasks=finish_tasks,
    )


def _count_lines(path: Path) -> int:
    with path.open("rb") as handle:
        return sum(1 for _ in handle)


def _show(run: Any) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    agents = Table(title="Agents", title_justify="left", show_edge=False)
    for column in ("agent", "pid", "ended"):
        agents.add_column(column)
    for name, pid, reason in run.agents:
        style = "green" if reason == str(c.TerminationReason.GRACEFUL) else "yellow"
        agents.add_row(name, str(pid), f"[{style}]{reason}[/]")
    console.print(agents)

    sdk_dir = run.data_dir / "sdk"
    files = sorted(sdk_dir.glob("*.jsonl"))
    table = Table(title="Telemetry files", title_justify="left", show_edge=False)
    for column, justify in (("file", "left"), ("exports", "right"), ("bytes", "right")):
        table.add_column(column, justify=justify)  # type: ignore[arg-type]
    for path in files:
        table.add_row(path.name, str(_count_lines(path)), f"{path.stat().st_size:,}")
    console.print(table)
    console.print(
        f"\nsession [bold]{run.session_id}[/]: {len(run.agents)} agents in {run.seconds:.1f}s; "
        f"{len(files)} OTLP JSON Lines files (one per process and signal) in",
    )
    console.print(f"  [bold]{sdk_dir}[/]", soft_wrap=True)


def demo(
    data_dir: options.DataDirOption = None,
    agents: Annotated[int, typer.Option(help="Number of agent processes.")] = DEFAULT_AGENTS,
    duration: Annotated[float, typer.Option(help="Seconds the swarm runs.")] = DEFAULT_DURATION_S,
) -> None:
    """Run a 5-agent mesh swarm (about 25 s), record it with swarmscope and grade it.

    Example: swarmscope demo --agents 3 --duration 10 -d /tmp/demo-data
    """
    from rich.console import Console
    from swarmscope.settings import ConfigError

    options.require_analyzer()
    directory = options.data_dir(data_dir)
    console = Console()
    console.print(
        f"[bold]swarmscope demo[/]: {agents} agents in a mesh, balanced tasks, "
        f"then all terminated (~{duration:.0f}s)"
    )
    try:
        with console.status("swarm running…"):
            run = run_swarm_details(directory, agents, duration)
    except (ConfigError, FileNotFoundError) as error:
        options.fail(str(error))
    _show(run)
    # End with the answer: ingest the files just written and print the session's report.
    from swarmscope.cli.report import print_report

    console.print()
    print_report(run.data_dir, run.session_id)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
