"""Options shared by the commands: one definition for each concept, so ``-d`` means the data
directory everywhere and every command resolves it the same way (through
:mod:`swarmscope.settings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, NoReturn

import typer
from swarmscope import conventions as c
from swarmscope import settings

# Exit codes, one meaning each. Commands that judge (``check``) use VERDICT for "below the bar"
# and ERROR for everything that stopped them from judging.
OK = 0
VERDICT = 1
ERROR = 2

DataDirOption = Annotated[
    Path | None,
    typer.Option(
        "--data-dir",
        "-d",
        help=f"Data directory (default ${c.ENV_DATA_DIR}, else ./{c.DEFAULT_DATA_DIR}); "
        f"the database is {c.DATABASE_FILE} inside it.",
        show_default=False,
    ),
]
SessionArgument = Annotated[
    str | None,
    typer.Argument(help="Session id or a unique prefix of one (default: the latest).",
                   show_default=False),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help=f"Control points TOML that overrides the defaults (default ${c.ENV_CONFIG}).",
        show_default=False,
    ),
]
QuietOption = Annotated[bool, typer.Option("--quiet", "-q", help="Print only problems.")]


def data_dir(value: Path | None) -> Path:
    """The data directory an option names, else the configured one (absolute)."""
    return settings.resolve_data_dir(value)


def config_path(value: Path | None) -> Path | None:
    """The control-points file an option names, else ``$SWARMSCOPE_CONFIG``, else None."""
    return value if value is not None else settings.grading_config()


def fail(message: str, code: int = ERROR) -> NoReturn:
    """End the command with ``error: message`` on stderr and ``code`` (2 unless told)."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def require_analyzer() -> None:
    """Fail with an install hint when the analyzer's libraries (duckdb, scipy) are missing."""
    try:
        import duckdb  # noqa: F401
        import scipy  # noqa: F401
    except ImportError as exc:
        fail(f"this command needs the analyzer ({exc.name} is not installed): "
             "pip install 'swarmscope[analyzer]'")


def session(directory: Path, prefix: str | None, *, unknown_ok: bool = False) -> str:
    """The session ``prefix`` names among those recorded in ``directory`` (the latest when
    None): the exact id, else the one id it begins; a prefix of several fails. With
    ``unknown_ok`` a name no recorded session has is taken as given (``reap``: processes may
    carry a session whose telemetry was never written), and the directory may be absent."""
    from swarmscope.monitor.alerts import printable
    from swarmscope.watch import owners

    if not unknown_ok and not directory.is_dir():
        fail(f"no data directory at {directory}")
    if prefix is None:
        latest = owners.latest_session(directory)
        if latest is None:
            fail(f"no session in {directory} yet; name one")
        return latest
    known = owners.known_sessions(directory)
    matches = sorted(s for s in known if s.startswith(prefix))
    if prefix in known or (unknown_ok and not matches):
        return prefix
    if not matches:
        fail(f"no session {printable(prefix)!r} in {directory}")
    if len(matches) > 1:
        fail(f"session prefix {printable(prefix)!r} is ambiguous: {', '.join(matches)}")
    return matches[0]
