"""Every name swarmscope writes or reads: span names, attribute keys, metric names, units,
environment variables and file names.

The sdk writes with these constants and the analyzer reads with them, so a name is spelled
exactly once. Names follow the OpenTelemetry semantic conventions (GenAI agent spans,
process/system/cpython metrics); where no standard name exists the name is ours and uses the
``swarm.`` prefix. ``docs/conventions.md`` documents each one.
"""

from __future__ import annotations

from enum import StrEnum

# --- instrumentation scope -------------------------------------------------------------------
SCOPE_NAME = "swarmscope"

# --- resource attributes ---------------------------------------------------------------------
SERVICE_NAME = "service.name"
SESSION_ID = "session.id"
SWARM_TOPOLOGY = "swarm.topology"
SWARM_STRATEGY = "swarm.strategy"
SWARM_MAX_AGENTS = "swarm.max_agents"
SWARM_PERSISTENCE = "swarm.persistence"
HOST_NAME = "host.name"
HOST_CPU_COUNT = "swarm.host.cpu_count"  # ours: needed to read load averages per core
HOST_MEMORY_TOTAL = "swarm.host.memory_total"  # ours: bytes, to read memory as a share
OS_TYPE = "os.type"
PROCESS_RUNTIME_NAME = "process.runtime.name"
PROCESS_RUNTIME_VERSION = "process.runtime.version"

# --- GenAI agent operations (span names are "<operation> <agent name>") ----------------------
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
# Stable agent ids only; not set on swarmscope's own (INTERNAL) spans, read from frameworks' spans.
GEN_AI_AGENT_ID = "gen_ai.agent.id"
GEN_AI_AGENT_NAME = "gen_ai.agent.name"
GEN_AI_TOOL_NAME = "gen_ai.tool.name"


class Operation(StrEnum):
    """Lifecycle operations; ``terminate_agent`` is ours (the standard has no terminate)."""

    CREATE_AGENT = "create_agent"
    INVOKE_AGENT = "invoke_agent"
    EXECUTE_TOOL = "execute_tool"
    TERMINATE_AGENT = "terminate_agent"


def span_name(operation: Operation | str, target: str) -> str:
    """The span name for a lifecycle operation on an agent or tool, e.g. ``create_agent coder``."""
    return f"{operation} {target}" if target else str(operation)


# --- span attributes -------------------------------------------------------------------------
PROCESS_PID = "process.pid"
PROCESS_PARENT_PID = "process.parent_pid"
PROCESS_EXIT_CODE = "process.exit.code"
PROCESS_EXECUTABLE_PATH = "process.executable.path"
PROCESS_EXECUTABLE_NAME = "process.executable.name"
PROCESS_COMMAND_LINE = "process.command_line"  # only when enabled, secrets redacted
PROCESS_CREATION_TIME = "process.creation.time"
ERROR_TYPE = "error.type"
PROCESS_EXIT_TIME = "process.exit.time"
AGENT_INSTANCE_ID = "swarm.agent.id"  # ours: one agent instance, ``<name>-<8 hex>``
TASK_NAME = "swarm.task.name"
TASK_ID = "swarm.task.id"
AGENT_KIND = "swarm.agent.kind"  # process | thread | inproc
TERMINATION_REASON = "swarm.agent.termination_reason"
EXIT_SIGNAL = "swarm.process.signal"  # signal number that ended the process
PROCESS_AGE = "swarm.process.age"  # seconds a left-over process had been alive


class AgentKind(StrEnum):
    PROCESS = "process"
    THREAD = "thread"
    INPROC = "inproc"


class TerminationReason(StrEnum):
    GRACEFUL = "graceful"  # exited on its own or after a polite request, exit code 0
    TIMEOUT_KILLED = "timeout_killed"  # did not stop within the grace period and was killed
    CRASHED = "crashed"  # exited with a non-zero code
    SIGNAL = "signal"  # ended by a signal it did not ask for


# Span and events that record processes left behind after agents terminated.
SPAN_CLEANUP_AUDIT = "audit_cleanup"
EVENT_ORPHAN = "swarm.process.orphan"  # alive after its agent terminated (possibly reparented)
EVENT_ZOMBIE = "swarm.process.zombie"  # exited but never reaped
# Root span of a session's trace in the process that started the session (init to shutdown).
SPAN_SESSION = "swarm_session"

# --- metrics: (name, unit) -------------------------------------------------------------------
PROCESS_MEMORY_USAGE = "process.memory.usage"
PROCESS_MEMORY_VIRTUAL = "process.memory.virtual"
PROCESS_CPU_TIME = "process.cpu.time"
PROCESS_CPU_UTILIZATION = "process.cpu.utilization"
PROCESS_THREAD_COUNT = "process.thread.count"
PROCESS_FD_COUNT = "process.unix.file_descriptor.count"
PROCESS_CONTEXT_SWITCHES = "process.context_switches"
SYSTEM_MEMORY_USAGE = "system.memory.usage"
SYSTEM_MEMORY_UTILIZATION = "system.memory.utilization"
# No semconv name exists; these are the names the Collector's hostmetrics receiver emits.
SYSTEM_LOAD_1M = "system.cpu.load_average.1m"
SYSTEM_LOAD_5M = "system.cpu.load_average.5m"
SYSTEM_LOAD_15M = "system.cpu.load_average.15m"
SYSTEM_PROCESS_COUNT = "system.process.count"
GC_COLLECTIONS = "cpython.gc.collections"
GC_COLLECTED_OBJECTS = "cpython.gc.collected_objects"
GC_UNCOLLECTABLE_OBJECTS = "cpython.gc.uncollectable_objects"
GC_PAUSE_DURATION = "cpython.gc.pause.duration"
HEAP_ALLOCATED_BLOCKS = "cpython.heap.allocated_blocks"
GEN_AI_INVOKE_AGENT_DURATION = "gen_ai.invoke_agent.duration"
GEN_AI_EXECUTE_TOOL_DURATION = "gen_ai.execute_tool.duration"

UNITS: dict[str, str] = {
    PROCESS_MEMORY_USAGE: "By",
    PROCESS_MEMORY_VIRTUAL: "By",
    PROCESS_CPU_TIME: "s",
    PROCESS_CPU_UTILIZATION: "1",
    PROCESS_THREAD_COUNT: "{thread}",
    PROCESS_FD_COUNT: "{file_descriptor}",
    PROCESS_CONTEXT_SWITCHES: "{context_switch}",
    SYSTEM_MEMORY_USAGE: "By",
    SYSTEM_MEMORY_UTILIZATION: "1",
    SYSTEM_LOAD_1M: "{thread}",
    SYSTEM_LOAD_5M: "{thread}",
    SYSTEM_LOAD_15M: "{thread}",
    SYSTEM_PROCESS_COUNT: "{process}",
    GC_COLLECTIONS: "{collection}",
    GC_COLLECTED_OBJECTS: "{object}",
    GC_UNCOLLECTABLE_OBJECTS: "{object}",
    GC_PAUSE_DURATION: "s",
    HEAP_ALLOCATED_BLOCKS: "{block}",
    GEN_AI_INVOKE_AGENT_DURATION: "s",
    GEN_AI_EXECUTE_TOOL_DURATION: "s",
}

# Metric point attributes.
CPU_MODE = "cpu.mode"  # user | system
CONTEXT_SWITCH_TYPE = "process.context_switch.type"  # voluntary | involuntary
SYSTEM_MEMORY_STATE = "system.memory.state"  # used | free | cached | buffers | available
PROCESS_STATE = "process.state"  # running | sleeping | stopped | defunct
GC_GENERATION = "cpython.gc.generation"  # int 0..2

# --- written by the analyzer: an attribute value cut to the storage limits (docs/schema.md) ----
TRUNCATED = "swarm.truncated"  # why the value was cut; replaces the value itself
TRUNCATED_BYTES = "swarm.truncated.bytes"  # size of the original value's JSON
TRUNCATED_PREFIX = "swarm.truncated.prefix"  # its first 256 characters

# --- environment variables -------------------------------------------------------------------
ENV_DATA_DIR = "SWARMSCOPE_DATA_DIR"
ENV_SESSION_ID = "SWARMSCOPE_SESSION_ID"  # children inherit it; also marks processes as ours
ENV_AGENT_ID = "SWARMSCOPE_AGENT_ID"
ENV_AGENT_NAME = "SWARMSCOPE_AGENT_NAME"
ENV_SAMPLE_INTERVAL = "SWARMSCOPE_SAMPLE_INTERVAL"  # seconds, default 1
ENV_EXPORTER = "SWARMSCOPE_EXPORTER"  # file | otlp | none
ENV_MONITORED_BY = "SWARMSCOPE_MONITORED_BY"  # pid of a process that already samples this one
ENV_RECORD_COMMAND_LINES = "SWARMSCOPE_RECORD_COMMAND_LINES"  # 1 to record (redacted) argv
# Regex over the command line: which children of a watched program are agents.
ENV_AGENT_PATTERN = "SWARMSCOPE_AGENT_PATTERN"
ENV_CONFIG = "SWARMSCOPE_CONFIG"  # grading control points TOML that overrides the defaults
ENV_HUNG_NODE_CPU = "SWARMSCOPE_HUNG_NODE_CPU"  # share of a core a preloaded Node may gain idle
ENV_ROTATE_MB = "SWARMSCOPE_ROTATE_MB"  # embedded default: start a new file past this size
ENV_ROTATE_HOURS = "SWARMSCOPE_ROTATE_HOURS"  # ... or once a file is this old
ENV_ARCHIVE_ROTATED = "SWARMSCOPE_ARCHIVE_ROTATED"  # archive each file the sdk rotated from
ENV_TRACEPARENT = "TRACEPARENT"
ENV_TRACESTATE = "TRACESTATE"
ENV_BAGGAGE = "BAGGAGE"

# --- files -----------------------------------------------------------------------------------
DEFAULT_DATA_DIR = "swarmscope-data"
DATABASE_FILE = "swarmscope.duckdb"
SIGNAL_TRACES = "traces"
SIGNAL_METRICS = "metrics"
SIGNAL_LOGS = "logs"
TELEMETRY_SUFFIXES = (".jsonl", ".json")
ARCHIVE_SUFFIX = ".zst"  # <file>.jsonl.zst: a zstd archive of a telemetry file (read as it)
PARTIAL_ARCHIVE_SUFFIX = ".zst.partial"  # an archive being written (never read as data)
DEFAULT_SAMPLE_INTERVAL_S = 1.0


# --- metric attribute values -----------------------------------------------------------------
class CpuMode(StrEnum):
    USER = "user"
    SYSTEM = "system"


class ContextSwitchType(StrEnum):
    VOLUNTARY = "voluntary"
    INVOLUNTARY = "involuntary"


class SystemMemoryState(StrEnum):
    USED = "used"
    FREE = "free"
    CACHED = "cached"
    BUFFERS = "buffers"


class ProcessState(StrEnum):
    RUNNING = "running"
    SLEEPING = "sleeping"
    STOPPED = "stopped"
    DEFUNCT = "defunct"


# --- collector: settings otel-collector.yaml reads (`swarmscope collector start` sets them) ---
ENV_COLLECTOR_HOST = "SWARMSCOPE_COLLECTOR_HOST"  # receiver bind address, default 127.0.0.1
ENV_OTLP_GRPC_PORT = "SWARMSCOPE_OTLP_GRPC_PORT"  # default 4317
ENV_OTLP_HTTP_PORT = "SWARMSCOPE_OTLP_HTTP_PORT"  # default 4318
ENV_COLLECTOR_HEALTH_PORT = "SWARMSCOPE_COLLECTOR_HEALTH_PORT"  # health_check, default 13133
ENV_COLLECTOR_METRICS_PORT = "SWARMSCOPE_COLLECTOR_METRICS_PORT"  # own metrics, default 8888
ENV_COLLECTOR_MEMORY_LIMIT_MIB = "SWARMSCOPE_COLLECTOR_MEMORY_LIMIT_MIB"  # default 512
ENV_FORWARD_ENDPOINT = "SWARMSCOPE_FORWARD_ENDPOINT"  # host:port of an OTLP/gRPC stack
ENV_FORWARD_INSECURE = "SWARMSCOPE_FORWARD_INSECURE"  # true (default): plain-text gRPC
ENV_COLLECTOR_BIN = "SWARMSCOPE_COLLECTOR_BIN"  # a Collector binary to run instead of the built one
COLLECTOR_SUBDIR = "collector"  # <data_dir>/collector/{traces,metrics,logs}.jsonl

# --- read by the analyzer ---------------------------------------------------------------------
SERVICE_INSTANCE_ID = "service.instance.id"  # per process start; keys sessions without session.id

# --- Node.js runtime (written by the preload) -------------------------------------------------
# sdk/watch/node_preload.cjs records these in every Node.js process it is loaded into, under
# the names, units and attributes @opentelemetry/instrumentation-runtime-node emits (the test
# in tests/node compares them with that package), plus process.pid / swarm.agent.id per point.
NODE_PRELOAD_FILE = "node_preload.cjs"  # in swarmscope/watch/, loaded with --require
ENV_NODE_OPTIONS = "NODE_OPTIONS"  # the injector appends --require <preload> to it
ENV_NODE_PRELOAD = "SWARMSCOPE_NODE_PRELOAD"  # 0 to start Node.js programs without the preload
NODEJS_RUNTIME_NAME = "nodejs"  # process.runtime.name of a Node.js process
V8JS_HEAP_USED = "v8js.memory.heap.used"  # gauge, per heap space
V8JS_HEAP_LIMIT = "v8js.memory.heap.limit"  # heap_size_limit, no space (semconv #3481 meaning)
V8JS_HEAP_SPACE_SIZE = "v8js.memory.heap.space.size"  # pre-allocated size per heap space
V8JS_HEAP_SPACE_AVAILABLE = "v8js.memory.heap.space.available_size"
V8JS_HEAP_SPACE_PHYSICAL = "v8js.memory.heap.space.physical_size"
V8JS_GC_DURATION = "v8js.gc.duration"  # histogram by v8js.gc.type
V8JS_RESOURCE_ACTIVE = "v8js.resource.active"  # what keeps the event loop alive, by type
NODEJS_LOOP_DELAY_MIN = "nodejs.eventloop.delay.min"
NODEJS_LOOP_DELAY_MAX = "nodejs.eventloop.delay.max"
NODEJS_LOOP_DELAY_MEAN = "nodejs.eventloop.delay.mean"
NODEJS_LOOP_DELAY_STDDEV = "nodejs.eventloop.delay.stddev"
NODEJS_LOOP_DELAY_P50 = "nodejs.eventloop.delay.p50"
NODEJS_LOOP_DELAY_P90 = "nodejs.eventloop.delay.p90"
NODEJS_LOOP_DELAY_P99 = "nodejs.eventloop.delay.p99"
NODEJS_LOOP_UTILIZATION = "nodejs.eventloop.utilization"
NODEJS_LOOP_TIME = "nodejs.eventloop.time"
# The official instrumentation's v8js.gc.duration bucket boundaries (s).
V8JS_GC_DURATION_BOUNDS = (
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10,
)

UNITS.update({
    V8JS_HEAP_USED: "By",
    V8JS_HEAP_LIMIT: "By",
    V8JS_HEAP_SPACE_SIZE: "By",
    V8JS_HEAP_SPACE_AVAILABLE: "By",
    V8JS_HEAP_SPACE_PHYSICAL: "By",
    V8JS_GC_DURATION: "s",
    V8JS_RESOURCE_ACTIVE: "{resource}",
    NODEJS_LOOP_DELAY_MIN: "s",
    NODEJS_LOOP_DELAY_MAX: "s",
    NODEJS_LOOP_DELAY_MEAN: "s",
    NODEJS_LOOP_DELAY_STDDEV: "s",
    NODEJS_LOOP_DELAY_P50: "s",
    NODEJS_LOOP_DELAY_P90: "s",
    NODEJS_LOOP_DELAY_P99: "s",
    NODEJS_LOOP_UTILIZATION: "1",
    NODEJS_LOOP_TIME: "s",
})

# Metric point attributes of the Node.js runtime metrics.
V8JS_HEAP_SPACE_NAME = "v8js.heap.space.name"  # e.g. new_space, old_space, code_space
V8JS_GC_TYPE = "v8js.gc.type"
V8JS_RESOURCE_TYPE = "v8js.resource.type"  # e.g. Timeout, TCPWrap, FSReqCallback
NODEJS_LOOP_STATE = "nodejs.eventloop.state"


class V8jsGcType(StrEnum):
    MAJOR = "major"
    MINOR = "minor"
    INCREMENTAL = "incremental"
    WEAKCB = "weakcb"


class NodejsLoopState(StrEnum):
    ACTIVE = "active"
    IDLE = "idle"


# --- watched processes: roles, hung workers, zombies, reaping (docs/watcher.md) ----------------
AGENT_ROLE = "swarm.agent.role"  # on create_agent spans of watched processes: agent | helper


class AgentRole(StrEnum):
    """What a watched process is to the orchestrator."""

    AGENT = "agent"  # a process the orchestrator manages: daemon, worker, CLI invocation
    HELPER = "helper"  # a short utility an agent runs: ps, sh -c, which, grep, sleep ...


EVENT_HUNG = "swarm.process.hung"  # blocked reading a pipe/socket that stays open, idle
WAITING_ON = "swarm.process.waiting_on"  # what a hung process waits on, in words
WAIT_FD = "swarm.process.wait_fd"  # the file descriptor it is blocked reading
IDLE_SECONDS = "swarm.process.idle_seconds"  # s without CPU time or input while blocked
HOLDER_PID = "swarm.process.holder_pid"  # a process holding the other (write) end open
PARENT_NAME = "swarm.process.parent_name"  # name of a leftover's parent (who fails to reap)
ZOMBIE_SECONDS = "swarm.process.zombie_seconds"  # s a zombie had been seen unreaped
# on the watcher's audit_cleanup: how often the kernel dropped process events (buffer full)
PROCESS_EVENT_OVERRUNS = "swarm.watch.process_event_overruns"
REAPED = "swarm.process.reaped"  # bool on terminate_agent: ended by `swarmscope reap`
ENV_HUNG_AFTER = "SWARMSCOPE_HUNG_AFTER"  # s blocked and idle before a process is hung
ENV_ZOMBIE_GRACE = "SWARMSCOPE_ZOMBIE_GRACE"  # s a zombie may wait for its reaper
ENV_HELPERS = "SWARMSCOPE_HELPERS"  # names added to (or, with -, removed from) the helpers
DEFAULT_HUNG_AFTER_S = 30.0
DEFAULT_ZOMBIE_GRACE_S = 3.0

# --- in-process agents: the agents of Python frameworks (docs/inproc.md) -----------------------
# Read from frameworks' spans: OpenInference marks agent and tool spans with a kind of its own.
OPENINFERENCE_SPAN_KIND = "openinference.span.kind"
OPENINFERENCE_AGENT_NAME = "agent.name"  # OpenInference's agent name attribute
OPENINFERENCE_GRAPH_NODE_ID = "graph.node.id"  # OpenInference: the agent's node in the graph


class OpenInferenceKind(StrEnum):
    """The values of ``openinference.span.kind`` that mark agent runs and tool calls."""

    AGENT = "AGENT"
    TOOL = "TOOL"


# Written on each agent run span (invoke_agent, or OpenInference AGENT) as it ends.
AGENT_RUN_CPU_TIME = "swarm.agent.run.cpu_time"  # s: CPU the run's steps used
AGENT_RUN_RETAINED_BLOCKS = "swarm.agent.run.retained_blocks"  # agent retains after it ({block})
AGENT_RUN_RETAINED_BYTES = "swarm.agent.run.retained_bytes"  # the same in bytes (tracemalloc mode)
AGENT_RUN_UNATTRIBUTED = "swarm.agent.run.unattributed_steps"  # steps whose memory was not counted
# false: a step of this run could not be told apart, so none of the run's memory counts (the
# agent's retained figure skips it whole); its leak series uses only runs that counted.
AGENT_RUN_MEMORY_COUNTED = "swarm.agent.run.memory_counted"
# The whole process's heap as the run ends (blocks, or traced bytes): the leak verdict of an
# agent needs the process's heap to grow as well (docs/grading.md).
AGENT_RUN_PROCESS_BLOCKS = "swarm.agent.run.process_blocks"
AGENT_RUN_PROCESS_BYTES = "swarm.agent.run.process_bytes"
AGENT_ALLOCATION_SITES = "swarm.agent.allocation_sites"  # tracemalloc mode: top growth sites
# Per-agent metrics; points carry gen_ai.agent.name, process.pid and swarm.agent.id.
AGENT_CPU_TIME = "swarm.agent.cpu.time"
AGENT_MEMORY_RETAINED = "swarm.agent.memory.retained"
AGENT_MEMORY_RETAINED_BYTES = "swarm.agent.memory.retained_bytes"
AGENT_RUNS_OPEN = "swarm.agent.runs.open"
AGENT_THREADS_ALIVE = "swarm.agent.threads.alive"
UNITS.update({
    AGENT_CPU_TIME: "s",
    AGENT_MEMORY_RETAINED: "{block}",
    AGENT_MEMORY_RETAINED_BYTES: "By",
    AGENT_RUNS_OPEN: "{run}",
    AGENT_THREADS_ALIVE: "{thread}",
})
ENV_TRACEMALLOC = "SWARMSCOPE_TRACEMALLOC"  # 1: exact bytes and allocation sites per agent


def inproc_agent_id(name: str, pid: int) -> str:
    """The id of an in-process agent: its name and the process it runs in, ``<name>@<pid>``."""
    return f"{name}@{pid}"

# --- live alerts: conditions seen while a session runs (docs/live.md) ---------------------------
# Each alert is one short span with one event; the event carries the agent and the figures.
SPAN_ALERT = "swarm_alert"
EVENT_ALERT = "swarm.alert"
ALERT_CONDITION = "swarm.alert.condition"  # one of AlertCondition
ALERT_VALUE = "swarm.alert.value"  # the figure that crossed the line (double)
ALERT_THRESHOLD = "swarm.alert.threshold"  # the line it crossed (double)
ALERT_UNIT = "swarm.alert.unit"  # unit of value and threshold, e.g. "1", "By/s"
ALERT_SERIES = "swarm.alert.series"  # leak alerts: rss | fds | threads
ALERT_MESSAGE = "swarm.alert.message"  # the line printed on stderr


class AlertCondition(StrEnum):
    """What an alert is about."""

    SYSTEM_MEMORY = "system_memory"  # host memory in use over the line
    FD_LIMIT = "fd_limit"  # a process's FDs over a share of its own RLIMIT_NOFILE
    LEAK = "leak"  # a significant upward trend in a process's RSS, FDs or threads
    HUNG = "hung"  # a worker blocked reading a pipe/socket nobody closes
    ORPHAN = "orphan"  # a session process reparented away from its parent while running
    DUPLICATE_DAEMON = "duplicate_daemon"  # two long-lived live processes of one name


ENV_ON_ALERT = "SWARMSCOPE_ON_ALERT"  # shell command run with each alert as JSON on stdin
ENV_ALERTS = "SWARMSCOPE_ALERTS"  # TOML file overriding the alert thresholds of alerts.toml
ALERTS_FILE = "alerts.toml"  # the default alert thresholds, shipped in the swarmscope package
