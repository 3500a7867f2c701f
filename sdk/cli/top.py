"""``swarmscope top [SESSION]``: a live terminal view of a running session (docs/live.md).

The library part is :mod:`swarmscope.watch.live` (tailing the files),
:mod:`swarmscope.watch.live_model` (agents and their figures) and
:mod:`swarmscope.watch.live_view` (rows, findings, the JSON document); this module only draws
with rich and reads keys: ``m c f n p a`` sort (memory, CPU, FDs, name, pid, age), ``/`` then
text and Enter filters (Esc clears), ``x`` hides exited agents, ``q`` quits. ``--once`` prints
one frame and exits; ``--format json`` prints the JSON document instead (implies ``--once``).

Every string from telemetry is shown as plain text with control characters escaped, never as
rich markup. Exit codes: 0, or 2 (no data directory, no such session, bad thresholds file).
"""

from __future__ import annotations

import json
import os
import select
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.text import Text
from swarmscope.cli import options
from swarmscope.monitor.alerts import printable
from swarmscope.watch.live import LiveFiles
from swarmscope.watch.live_model import EXITED, HUNG, ORPHAN, ZOMBIE, LiveAgent, LiveSession
from swarmscope.watch.live_view import SORTS, Finding, document, findings, tree_rows

SPARKS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 20
CATCH_UP_ROUNDS = 64  # --once reads until the files are caught up, at most this many times
STATE_STYLES = {HUNG: "bold yellow", ZOMBIE: "bold red", ORPHAN: "bold red", EXITED: "dim"}
FINDINGS_SHOWN = 8


class Top:
    """One session being followed: the files, the model, and what the user chose to see."""

    def __init__(self, data_dir: Path, session_id: str, thresholds: Any) -> None:
        self.data_dir = data_dir
        self.files = LiveFiles(data_dir)
        self.session = LiveSession(session_id, thresholds)
        self.sort, self.text, self.show_exited = "n", "", True
        self.editing: str | None = None  # the filter being typed after "/"
        self.cpu_share: float | None = None  # own CPU share between the last two steps
        self._cpu_mark = (time.process_time(), time.monotonic())
        self.steps = 0

    def step(self) -> int:
        """Read what was appended, ask /proc; returns the bytes read."""
        before = self.files.bytes_read
        for signal, doc in self.files.poll():
            self.session.feed(signal, doc)
        self.session.refresh_states()
        cpu, wall = time.process_time(), time.monotonic()
        if wall > self._cpu_mark[1] and self.steps:  # the first step includes start-up
            self.cpu_share = (cpu - self._cpu_mark[0]) / (wall - self._cpu_mark[1])
        self._cpu_mark = (cpu, wall)
        self.steps += 1
        return self.files.bytes_read - before

    def catch_up(self) -> None:
        for _ in range(CATCH_UP_ROUNDS):
            if not self.step():
                return

    def key(self, char: str) -> bool:
        """Apply one key; False when it asks to quit."""
        if self.editing is not None:
            if char in ("\r", "\n"):
                self.text, self.editing = self.editing, None
            elif char == "\x1b":
                self.text, self.editing = "", None
            elif char in ("\x7f", "\b"):
                self.editing = self.editing[:-1]
            elif char.isprintable():
                self.editing = (self.editing + char)[:64]
            return True
        if char in ("q", "Q", "\x03"):
            return False
        if char == "/":
            self.editing = ""
        elif char == "\x1b":
            self.text = ""
        elif char == "x":
            self.show_exited = not self.show_exited
        elif char in SORTS:
            self.sort = char
        return True

    def render(self, height: int | None = None) -> Group:
        """One frame; with ``height`` (a terminal's lines), only the rows that fit."""
        now = time.time()
        rows = tree_rows(self.session, self.sort, self.text, self.show_exited)
        notes = _findings(findings(self.session, now))
        room = None if height is None else height - 4 - len(notes.plain.splitlines())
        return Group(self._header(rows), notes, _table(rows, now, room), self._footer())

    def _header(self, rows: list[tuple[LiveAgent, int]]) -> Text:
        agents = self.session.agents.values()
        live = sum(1 for a in agents if a.state != EXITED)
        header = Text("swarmscope top", style="bold")
        header.append(f"  session {printable(self.session.session_id)}  "
                      f"{live} running / {len(self.session.agents)} agents  "
                      f"showing {len(rows)}")  # fmt: skip
        return header

    def _footer(self) -> Text:
        label = SORTS.get(self.sort, SORTS["n"])[0]
        footer = Text(f"sort: {label} (m c f n p a)  ", style="dim")
        if self.editing is not None:
            footer.append(f"filter: {self.editing}_ (Enter applies, Esc clears)", style="bold")
        else:
            footer.append(f"filter: {self.text or '-'} (/)  exited: "
                          f"{'shown' if self.show_exited else 'hidden'} (x)  q quits",
                          style="dim")  # fmt: skip
        if self.cpu_share is not None:
            footer.append(f"   top's own CPU {self.cpu_share * 100:.1f} %", style="dim")
        if self.files.bad_lines:
            footer.append(f"   {self.files.bad_lines} unreadable lines skipped", style="yellow")
        return footer


def _findings(items: list[Finding]) -> Text:
    if not items:
        return Text("no findings so far", style="green")
    out = Text()
    for item in items[:FINDINGS_SHOWN]:
        style = "bold red" if item.alerted else "yellow"
        out.append(f"{'ALERT' if item.alerted else 'seen '} {item.kind:<16} ", style=style)
        out.append(printable(item.message) + "\n")
    if len(items) > FINDINGS_SHOWN:
        out.append(f"... and {len(items) - FINDINGS_SHOWN} more (top --once --format json)\n",
                   style="dim")  # fmt: skip
    return out


COLUMNS = (("NAME", "<"), ("PID", ">"), ("AGE", ">"), ("STATE", "<"), ("RSS", ">"),
           ("CPU", ">"), ("FDS", ">"), ("THR", ">"), ("HEAP", ">"), ("MEMORY", "<"))


def _table(rows: list[tuple[LiveAgent, int]], now: float, max_rows: int | None = None) -> Text:
    """The agent rows as fixed-width lines of plain text (a rich Table measures every cell of
    every row each frame: ten times the cost, for a view that must stay cheap)."""
    shown = rows if max_rows is None else rows[:max(1, max_rows)]
    cells = [[("  " * (depth - 1) + "└ " if depth else "") + printable(agent.name)[:48],
              _num(agent.pid), _age(agent.age(now)), agent.state, _bytes(agent.memory),
              "-" if agent.cpu is None else f"{agent.cpu:.2f}", _fds(agent), _num(agent.threads),
              _heap(agent), sparkline(agent)] for agent, depth in shown]  # fmt: skip
    widths = [max([len(title)] + [len(row[i]) for row in cells]) for i, (title, _a) in
              enumerate(COLUMNS)]  # fmt: skip
    out = Text()
    titles = (f"{t:{a}{w}}" for (t, a), w in zip(COLUMNS, widths, strict=True))
    out.append("  ".join(titles).rstrip() + "\n", style="bold")
    for (agent, _depth), row in zip(shown, cells, strict=True):
        for i, ((_title, align), width) in enumerate(zip(COLUMNS, widths, strict=True)):
            style = _cell_style(i, agent)
            out.append(f"{row[i]:{align}{width}}", style=style)
            out.append("  " if i < len(COLUMNS) - 1 else "\n")
    if len(shown) < len(rows):
        out.append(f"... {len(rows) - len(shown)} more rows: sort (m c f n p a) or filter (/)\n",
                   style="dim")  # fmt: skip
    return out


def _cell_style(column: int, agent: LiveAgent) -> str:
    if column == 3:
        return STATE_STYLES.get(agent.state, "green")
    if column == 6 and agent.fds is not None and agent.fd_limit:
        return "bold red" if agent.fds >= 0.9 * agent.fd_limit else ""
    return ""


def sparkline(agent: LiveAgent, width: int = SPARK_WIDTH) -> str:
    values = [v for _t, v in agent.rss][-width:]
    if not values:
        return ""
    low, high = min(values), max(values)
    span = high - low
    return "".join(SPARKS[int((v - low) / span * (len(SPARKS) - 1)) if span else 0]
                   for v in values)  # fmt: skip


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    return f"{seconds / 3600:.1f}h"


def _bytes(value: float | None) -> str:
    if value is None:
        return "-"
    for unit, size in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if value >= size:
            return f"{value / size:.1f}{unit}"
    return f"{value:.0f}B"


def _fds(agent: LiveAgent) -> str:
    if agent.fds is None:
        return "-"
    return f"{agent.fds}/{agent.fd_limit}" if agent.fd_limit else str(agent.fds)


def _heap(agent: LiveAgent) -> str:
    if agent.heap is None:
        return "-"
    return _bytes(agent.heap) if agent.heap_unit == "bytes" else f"{agent.heap / 1000:.0f}k blk"


# --- the command -----------------------------------------------------------------------------


def top(
    session: options.SessionArgument = None,
    data_dir: options.DataDirOption = None,
    once: Annotated[bool, typer.Option("--once", help="Print one frame and exit.")] = False,
    fmt: Annotated[str, typer.Option("--format", "-f", help="table, or json (implies --once): "
                                     "the agents and findings as one JSON document.")] = "table",
    sort: Annotated[str, typer.Option("--sort", help="m (memory), c (CPU), f (FDs), n (name), "
                                      "p (pid) or a (age).")] = "n",
    interval: Annotated[float, typer.Option("--interval", help="Seconds between refreshes.")]
    = 1.0,
) -> None:
    """A live view of a running session: one row per agent as a tree, live findings on top.

    Example: swarmscope top   (keys: m c f n p a sort, / filter, x exited, q quit)
    """
    from swarmscope.monitor import alert_config
    from swarmscope.settings import ConfigError

    if fmt not in ("table", "json"):
        options.fail(f"--format must be table or json, not {fmt!r}")
    if sort not in SORTS:
        options.fail(f"--sort must be one of {', '.join(SORTS)}, not {sort!r}")
    if not interval > 0:
        options.fail("--interval must be greater than 0 seconds")
    directory = options.data_dir(data_dir)
    try:
        thresholds = alert_config.load()
    except ConfigError as error:
        options.fail(str(error))
    view = Top(directory, options.session(directory, session), thresholds)
    view.sort = sort
    if fmt == "json":
        view.catch_up()
        files = {"read": len(view.files.files()), "bad_lines": view.files.bad_lines}
        sys.stdout.write(json.dumps(document(view.session, str(directory), files)) + "\n")
        return
    if once:
        view.catch_up()
        Console(width=_width(), highlight=False).print(view.render())
        return
    _run_live(view, interval)


def _width() -> int:
    """The terminal's width, or a wide page when printing to a file or a pipe."""
    if sys.stdout.isatty():
        return os.get_terminal_size().columns
    return 160


def _run_live(view: Top, interval: float) -> None:
    console = Console(highlight=False)
    keys = _Keys()
    try:
        with keys, Live(console=console, auto_refresh=False, screen=True,
                        redirect_stderr=False) as live:  # fmt: skip
            due = 0.0
            while True:
                now = time.monotonic()
                if now >= due:
                    view.step()
                    due = now + interval
                _fit(console)
                live.update(view.render(console.size.height), refresh=True)
                char = keys.read(max(0.0, due - time.monotonic()))
                if char is not None and not view.key(char):
                    return
    except KeyboardInterrupt:
        return


def _fit(console: Console) -> None:
    """Follow the terminal's size as it is now (a COLUMNS left in the environment by whoever
    started us, or a resize since, would otherwise cut the rows)."""
    try:
        size = os.get_terminal_size(sys.stdout.fileno())
    except (OSError, ValueError):
        return
    console.size = (size.columns, size.lines)


class _Keys:
    """Single keys from a terminal's stdin (cbreak mode, restored at exit); without a
    terminal, no keys: the view refreshes until interrupted."""

    def __init__(self) -> None:
        self.fd = sys.stdin.fileno() if sys.stdin.isatty() else None
        self._saved: Any = None

    def __enter__(self) -> _Keys:
        if self.fd is not None:
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd)
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.fd is not None and self._saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)

    def read(self, timeout: float) -> str | None:
        if self.fd is None:
            time.sleep(timeout)
            return None
        ready, _w, _x = select.select([self.fd], [], [], timeout)
        if not ready:
            return None
        data = os.read(self.fd, 1)
        return data.decode(errors="replace") if data else None


def register(app: typer.Typer) -> None:
    app.command("top")(top)
