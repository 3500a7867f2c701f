"""``swarmscope collector build|start|stop|status|validate``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from swarmscope import conventions as conv

collector_app = typer.Typer(
    name="collector",
    help="Build and run the OpenTelemetry Collector that writes OTLP files for the analyzer.",
    no_args_is_help=True,
)

ConfigOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--config", "-c",
        help="Collector config file; repeat to merge overlays (default: otel-collector.yaml).",
    ),
]
ForwardOpt = Annotated[
    str | None,
    typer.Option(
        "--forward", envvar=conv.ENV_FORWARD_ENDPOINT,
        help="Also forward everything over OTLP/gRPC to this host:port "
        "(adds otel-collector.forward.yaml).",
    ),
]
DataDirOpt = Annotated[
    Path | None,
    typer.Option("--data-dir", help=f"Where the files go (default: ${conv.ENV_DATA_DIR})."),
]


def _fail(error: Exception) -> typer.Exit:
    typer.secho(f"error: {error}", err=True, fg=typer.colors.RED)
    return typer.Exit(code=1)


def _settings(
    data_dir: Path | None, config: list[Path] | None, forward: str | None, **ports: int | None
):
    from swarmscope.collector.runner import CollectorSettings

    kwargs = {k: v for k, v in ports.items() if v is not None}
    if data_dir is not None:
        kwargs["data_dir"] = data_dir
    return CollectorSettings(configs=list(config or []), forward_endpoint=forward, **kwargs)


@collector_app.command()
def build(
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if up to date.")] = False,
) -> None:
    """Build the Collector from its Go modules into collector/build/ (no-op when up to date)."""
    from swarmscope.collector.distribution import CollectorError
    from swarmscope.collector.distribution import build as build_collector

    try:
        build_collector(force=force)
    except CollectorError as error:
        raise _fail(error) from None


@collector_app.command()
def start(
    config: ConfigOpt = None,
    forward: ForwardOpt = None,
    data_dir: DataDirOpt = None,
    host: Annotated[str | None, typer.Option(help="Receiver bind address.")] = None,
    grpc_port: Annotated[int | None, typer.Option(help="OTLP/gRPC port (4317).")] = None,
    http_port: Annotated[int | None, typer.Option(help="OTLP/HTTP port (4318).")] = None,
    health_port: Annotated[int | None, typer.Option(help="Health check port (13133).")] = None,
    metrics_port: Annotated[int | None, typer.Option(help="Own metrics port (8888).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for healthy.")] = 30.0,
) -> None:
    """Start the Collector in the background; returns once its health check answers."""
    from swarmscope.collector.distribution import CollectorError
    from swarmscope.collector.runner import start as start_collector

    try:
        settings = _settings(
            data_dir, config, forward, host=host, grpc_port=grpc_port, http_port=http_port,
            health_port=health_port, metrics_port=metrics_port,
        )
        collector = start_collector(settings, timeout=timeout)
    except CollectorError as error:
        raise _fail(error) from None
    s = collector.settings
    typer.echo(f"Collector running, pid {collector.pid}")
    typer.echo(f"  OTLP/gRPC  {s.grpc_endpoint}")
    typer.echo(f"  OTLP/HTTP  {s.http_endpoint}")
    typer.echo(f"  files      {s.state_dir}/{{traces,metrics,logs}}.jsonl")
    if s.forward_endpoint:
        typer.echo(f"  forwarding {s.forward_endpoint}")
    typer.echo(f"  log        {collector.log_file}")
    typer.echo(f"Send to it with: export OTEL_EXPORTER_OTLP_ENDPOINT={s.grpc_endpoint}")


@collector_app.command()
def stop(
    data_dir: DataDirOpt = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait before SIGKILL.")] = 15.0,
) -> None:
    """Stop the Collector gracefully (it drains its pipelines and flushes its files)."""
    from swarmscope.collector.runner import running

    collector = running(data_dir)
    if collector is None:
        typer.echo("no Collector is running for this data directory")
        return
    graceful = collector.stop(timeout=timeout)
    typer.echo(
        f"Collector (pid {collector.pid}) stopped"
        + ("" if graceful else f"; it did not stop within {timeout:.0f}s and was killed")
    )


@collector_app.command()
def status(data_dir: DataDirOpt = None) -> None:
    """Say whether a Collector runs for this data directory, and whether it is healthy."""
    from swarmscope.collector.runner import health_ok, running

    collector = running(data_dir)
    if collector is None:
        typer.echo("Collector: not running")
        raise typer.Exit(code=3)  # the LSB "not running" status code
    s = collector.settings
    healthy = health_ok(s.health_url)
    typer.echo(f"Collector: running, pid {collector.pid}, {'healthy' if healthy else 'UNHEALTHY'}")
    typer.echo(f"  OTLP/gRPC {s.grpc_endpoint}  OTLP/HTTP {s.http_endpoint}")
    for signal_name in (conv.SIGNAL_TRACES, conv.SIGNAL_METRICS, conv.SIGNAL_LOGS):
        path = s.signal_file(signal_name)
        size = path.stat().st_size if path.exists() else 0
        typer.echo(f"  {path}  {size} bytes")
    if not healthy:
        raise typer.Exit(code=1)


@collector_app.command()
def validate(config: ConfigOpt = None, forward: ForwardOpt = None) -> None:
    """Check a configuration with the Collector's own validator."""
    from swarmscope.collector.distribution import CollectorError
    from swarmscope.collector.runner import validate as validate_config

    try:
        settings = _settings(None, config, forward)
        validate_config(settings)
    except CollectorError as error:
        raise _fail(error) from None
    typer.echo(f"valid: {', '.join(str(p) for p in settings.configs)}")


def register(app: typer.Typer) -> None:
    app.add_typer(collector_app, name="collector")
