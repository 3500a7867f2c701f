"""``swarmscope collector build|start|stop|status|validate``: thin commands over
:mod:`swarmscope.collector`; the user's settings come from options, then the environment
(:func:`swarmscope.settings.collector_overrides`), then the Collector's defaults."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from swarmscope import conventions as conv
from swarmscope import settings as user_settings
from swarmscope.cli import options

if TYPE_CHECKING:
    from swarmscope.collector.runner import CollectorSettings

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
        "--forward",
        help="Also forward everything over OTLP/gRPC to this host:port "
        f"(adds otel-collector.forward.yaml; default ${conv.ENV_FORWARD_ENDPOINT}).",
        show_default=False,
    ),
]


def collector_settings(
    data_dir: Path | None = None,
    config: list[Path] | None = None,
    forward: str | None = None,
    **fields: object,
) -> CollectorSettings:
    """Options first, then the environment, then the Collector's defaults."""
    from swarmscope.collector.runner import CollectorSettings

    chosen = user_settings.collector_overrides()
    chosen.update({k: v for k, v in fields.items() if v is not None})
    if forward is not None:
        chosen["forward_endpoint"] = forward
    return CollectorSettings(
        data_dir=options.data_dir(data_dir), configs=list(config or []), **chosen
    )


def _settings_or_fail(*args: object, **kwargs: object) -> CollectorSettings:
    from swarmscope.collector.distribution import CollectorError

    try:
        return collector_settings(*args, **kwargs)  # type: ignore[arg-type]
    except (user_settings.ConfigError, CollectorError) as error:
        options.fail(str(error))


@collector_app.command()
def build(
    force: Annotated[bool, typer.Option("--force", help="Rebuild even if up to date.")] = False,
) -> None:
    """Build the Collector from its Go modules into collector/build/ (no-op when up to date).

    Example: swarmscope collector build --force
    """
    from swarmscope.collector.distribution import CollectorError
    from swarmscope.collector.distribution import build as build_collector

    try:
        build_collector(force=force)
    except CollectorError as error:
        options.fail(str(error))


@collector_app.command()
def start(
    config: ConfigOpt = None,
    forward: ForwardOpt = None,
    data_dir: options.DataDirOption = None,
    host: Annotated[str | None, typer.Option(help="Receiver bind address (127.0.0.1).")] = None,
    grpc_port: Annotated[int | None, typer.Option(help="OTLP/gRPC port (4317).")] = None,
    http_port: Annotated[int | None, typer.Option(help="OTLP/HTTP port (4318).")] = None,
    health_port: Annotated[int | None, typer.Option(help="Health check port (13133).")] = None,
    metrics_port: Annotated[int | None, typer.Option(help="Own metrics port (8888).")] = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait for healthy.")] = 30.0,
) -> None:
    """Start the Collector in the background; returns once its health check answers.

    Example: swarmscope collector start --grpc-port 14317 -d ./swarmscope-data
    """
    from swarmscope.collector.distribution import CollectorError
    from swarmscope.collector.runner import start as start_collector

    settings = _settings_or_fail(
        data_dir, config, forward, host=host, grpc_port=grpc_port, http_port=http_port,
        health_port=health_port, metrics_port=metrics_port,
    )
    try:
        collector = start_collector(settings, timeout=timeout)
    except CollectorError as error:
        options.fail(str(error))
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
    data_dir: options.DataDirOption = None,
    timeout: Annotated[float, typer.Option(help="Seconds to wait before SIGKILL.")] = 15.0,
) -> None:
    """Stop the Collector gracefully (it drains its pipelines and flushes its files).

    Example: swarmscope collector stop --timeout 30
    """
    from swarmscope.collector.runner import running

    collector = running(options.data_dir(data_dir))
    if collector is None:
        typer.echo("no Collector is running for this data directory")
        return
    graceful = collector.stop(timeout=timeout)
    typer.echo(
        f"Collector (pid {collector.pid}) stopped"
        + ("" if graceful else f"; it did not stop within {timeout:.0f}s and was killed")
    )


@collector_app.command()
def status(data_dir: options.DataDirOption = None) -> None:
    """Say whether a Collector runs for this data directory, and whether it is healthy.

    Exit status: 0 running and healthy, 1 running but unhealthy, 3 not running (as LSB).

    Example: swarmscope collector status -d ./swarmscope-data
    """
    from swarmscope.collector.runner import health_ok, running

    collector = running(options.data_dir(data_dir))
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
    """Check a configuration with the Collector's own validator.

    Example: swarmscope collector validate -c otel-collector.yaml -c my-overlay.yaml
    """
    from swarmscope.collector.distribution import CollectorError
    from swarmscope.collector.runner import validate as validate_config

    settings = _settings_or_fail(None, config, forward)
    try:
        validate_config(settings)
    except CollectorError as error:
        options.fail(str(error))
    typer.echo(f"valid: {', '.join(str(p) for p in settings.configs)}")


def register(app: typer.Typer) -> None:
    app.add_typer(collector_app, name="collector")
