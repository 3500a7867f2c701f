"""A mesh swarm, instrumented with swarmscope: the classic persistence experiment.

Five agent processes (mesh topology: every agent talks to every other one, over UDP on
localhost) each run the same number of tasks (balanced strategy), then all of them are
terminated. The orchestrator records spawn and terminate, the agents record their own tasks,
and the resource monitor samples every agent process once per sample interval.

    python examples/mesh_swarm.py                      # about 25 s, files in ./swarmscope-data
    python examples/mesh_swarm.py --agents 3 --duration 5
    python examples/mesh_swarm.py --finish-tasks       # every task runs, however busy the machine
    OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 python examples/mesh_swarm.py
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import swarmscope

WORKER = Path(__file__).with_name("mesh_worker.py")


@dataclass
class SwarmRun:
    """What happened: the session, where its telemetry went and how each agent ended."""

    session_id: str
    data_dir: Path
    exporter: str
    files: list[Path] = field(default_factory=list)
    agents: list[tuple[str, int | None, str]] = field(default_factory=list)  # name, pid, reason
    seconds: float = 0.0


def run_swarm(
    agents: int = 5,
    duration: float = 25.0,
    tasks: int = 4,
    payload_mb: int = 8,
    sample_interval: float | None = None,
    settle: float = 3.0,
    finish_tasks: bool = False,
) -> SwarmRun:
    """Spawn ``agents`` mesh workers, let them work for ``duration`` s, terminate them all.

    The monitor keeps sampling for a baseline before the first spawn and for ``settle`` s after
    the last terminate, so the report compares the system before, during and after the swarm.
    With ``finish_tasks`` the swarm also waits until every agent has run all its tasks, so the
    workload is the same on a busy machine as on an idle one.
    """
    started = time.monotonic()
    tel = swarmscope.init(
        service_name="mesh-swarm",
        topology="mesh",
        strategy="balanced",
        max_agents=agents,
        persistence="memory",
        sample_interval=sample_interval,
    )
    interval = tel.settings.sample_interval
    time.sleep(2.5 * interval)  # baseline: a couple of samples before any agent exists
    # Balanced: every agent gets the same share of tasks, spread over ~60 % of the run.
    task_interval = max(0.05, duration * 0.6 / max(1, tasks))
    command = [
        sys.executable, str(WORKER), "--tasks", str(tasks),
        "--task-interval", f"{task_interval:.3f}", "--payload-mb", str(payload_mb),
    ]  # fmt: skip
    swarm = []
    for index in range(agents):
        swarm.append(
            swarmscope.spawn_agent(
                f"agent-{index}", command, stdin=-1, stdout=-1, text=True, bufsize=1
            )
        )
    # Handshake: each worker prints its UDP port; everyone receives every port (full mesh).
    ports = [agent.popen.stdout.readline().strip() for agent in swarm]
    for agent in swarm:
        agent.popen.stdin.write(" ".join(ports) + "\n")
        agent.popen.stdin.flush()

    time.sleep(max(0.0, duration - (time.monotonic() - started)))
    if finish_tasks:
        for agent in swarm:
            agent.popen.stdout.readline()  # "done", or "" if the worker died

    run = SwarmRun(tel.session_id, tel.data_dir, tel.settings.exporter)
    for agent in swarm:
        ending = agent.terminate(timeout=5.0)
        agent.popen.stdout.close()
        agent.popen.stdin.close()
        run.agents.append((agent.name, agent.pid, str(ending.reason)))
    time.sleep(max(settle, 2.5 * interval))  # post-termination: do memory, FDs, threads return?
    run.files = sorted(tel.files.values())
    swarmscope.shutdown()
    run.seconds = time.monotonic() - started
    return run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=5)
    parser.add_argument("--duration", type=float, default=25.0, help="seconds")
    parser.add_argument("--tasks", type=int, default=4, help="tasks per agent")
    parser.add_argument(
        "--finish-tasks", action="store_true",
        help="terminate only after every agent ran all its tasks (a fixed workload)",
    )
    args = parser.parse_args(argv)
    run = run_swarm(
        agents=args.agents, duration=args.duration, tasks=args.tasks,
        finish_tasks=args.finish_tasks,
    )
    print(f"session {run.session_id}: {len(run.agents)} agents in {run.seconds:.1f}s")
    for name, pid, reason in run.agents:
        print(f"  {name} (pid {pid}): {reason}")
    if run.exporter == "file":
        print(f"telemetry in {run.data_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
