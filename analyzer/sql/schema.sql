-- swarmscope session model: typed, flattened OpenTelemetry data.
--
-- One row per resource, span, metric data point and log record. Frequently filtered
-- attributes are promoted to columns; every attribute is also kept in an `attributes`
-- MAP(VARCHAR, VARIANT) whose values keep their OTLP type (string, int, double, bool,
-- bytes as BLOB, arrays as lists, kvlists as objects).
--
-- Ids (trace_id, span_id, parent_span_id) are lower-case hex; an absent parent is NULL.
-- Timestamps are TIMESTAMP_NS (UTC). `source_file` and `source_line` say where a row came
-- from. docs/schema.md documents every column and has example queries.
--
-- Statements are idempotent (IF NOT EXISTS); later versions only add tables and columns.

-- Files read so far: how far (byte offset of the last complete line) and what they began
-- with, so a second ingest reads only what was appended and notices a replaced file.
CREATE TABLE IF NOT EXISTS ingested_files (
    path          VARCHAR NOT NULL,      -- absolute path
    generation    INTEGER NOT NULL,      -- bumps when the file was replaced or truncated
    head_sha256   VARCHAR NOT NULL,      -- sha256 of the first head_len bytes
    head_len      INTEGER NOT NULL,
    byte_offset   BIGINT  NOT NULL,      -- bytes consumed (always at a line boundary)
    line_count    BIGINT  NOT NULL,      -- lines consumed
    format        VARCHAR NOT NULL,      -- 'jsonl' | 'document'
    signal        VARCHAR,               -- traces | metrics | logs | mixed (by content)
    first_ingest  TIMESTAMP NOT NULL,
    last_ingest   TIMESTAMP NOT NULL,
    PRIMARY KEY (path)
);

-- Lines that could not be ingested, with the reason. The valid rest of a file lands.
CREATE TABLE IF NOT EXISTS ingest_errors (
    source_file   VARCHAR NOT NULL,
    source_line   BIGINT,
    reason        VARCHAR NOT NULL,
    ingested_at   TIMESTAMP NOT NULL
);

-- One row per distinct resource (the set of resource attributes + schema url) per session.
CREATE TABLE IF NOT EXISTS resources (
    resource_id          VARCHAR NOT NULL,   -- md5 of the canonical resource JSON
    session_id           VARCHAR NOT NULL,
    service_name         VARCHAR,
    service_instance_id  VARCHAR,
    host_name            VARCHAR,
    pid                  BIGINT,             -- process.pid of the emitting process, if set
    topology             VARCHAR,            -- swarm.topology
    strategy             VARCHAR,            -- swarm.strategy
    max_agents           BIGINT,             -- swarm.max_agents
    persistence          VARCHAR,            -- swarm.persistence
    cpu_count            BIGINT,             -- swarm.host.cpu_count
    memory_total         BIGINT,             -- swarm.host.memory_total (bytes)
    attributes           MAP(VARCHAR, VARIANT),
    schema_url           VARCHAR,
    source_file          VARCHAR,            -- first file it was seen in
    PRIMARY KEY (resource_id)
);

CREATE TABLE IF NOT EXISTS spans (
    session_id          VARCHAR NOT NULL,
    resource_id         VARCHAR NOT NULL,
    service_name        VARCHAR,
    scope_name          VARCHAR,
    scope_version       VARCHAR,
    trace_id            VARCHAR NOT NULL,   -- 32 lower-case hex digits
    span_id             VARCHAR NOT NULL,   -- 16 lower-case hex digits
    parent_span_id      VARCHAR,            -- NULL for a root span
    trace_state         VARCHAR,
    flags               UBIGINT,
    name                VARCHAR NOT NULL,
    kind                VARCHAR NOT NULL,   -- UNSPECIFIED|INTERNAL|SERVER|CLIENT|PRODUCER|CONSUMER
    start_time          TIMESTAMP_NS NOT NULL,
    end_time            TIMESTAMP_NS NOT NULL,
    duration_ns         BIGINT NOT NULL,
    status_code         VARCHAR NOT NULL,   -- UNSET | OK | ERROR
    status_message      VARCHAR,
    -- promoted attributes (lifecycle of agents)
    operation           VARCHAR,            -- gen_ai.operation.name
    agent_id            VARCHAR,            -- swarm.agent.id, else gen_ai.agent.id
    agent_name          VARCHAR,            -- gen_ai.agent.name
    pid                 BIGINT,             -- process.pid (span attribute only)
    parent_pid          BIGINT,             -- process.parent_pid
    exit_code           BIGINT,             -- process.exit.code
    termination_reason  VARCHAR,            -- swarm.agent.termination_reason
    exit_signal         BIGINT,             -- swarm.process.signal
    error_type          VARCHAR,            -- error.type
    task_name           VARCHAR,            -- swarm.task.name
    task_id             VARCHAR,            -- swarm.task.id
    attributes          MAP(VARCHAR, VARIANT),
    events              STRUCT("time" TIMESTAMP_NS, "name" VARCHAR,
                               attributes MAP(VARCHAR, VARIANT))[],
    links               STRUCT(trace_id VARCHAR, span_id VARCHAR, trace_state VARCHAR,
                               attributes MAP(VARCHAR, VARIANT))[],
    source_file         VARCHAR NOT NULL,
    source_line         BIGINT NOT NULL
);

-- One row per data point of any metric type. `value` is the number of a gauge or sum point
-- as DOUBLE; value_int / value_double keep what was sent (asInt / asDouble).
CREATE TABLE IF NOT EXISTS metric_points (
    session_id               VARCHAR NOT NULL,
    resource_id              VARCHAR NOT NULL,
    service_name             VARCHAR,
    scope_name               VARCHAR,
    scope_version            VARCHAR,
    metric_name              VARCHAR NOT NULL,
    description              VARCHAR,
    unit                     VARCHAR,
    type                     VARCHAR NOT NULL,  -- gauge|sum|histogram|exponential_histogram|summary
    temporality              VARCHAR,           -- DELTA | CUMULATIVE | UNSPECIFIED (sums, histograms)
    is_monotonic             BOOLEAN,           -- sums
    agent_id                 VARCHAR,           -- swarm.agent.id, else gen_ai.agent.id
    pid                      BIGINT,            -- process.pid point attribute, else the resource's
    ts                       TIMESTAMP_NS NOT NULL,
    start_ts                 TIMESTAMP_NS,
    value                    DOUBLE,
    value_int                BIGINT,
    value_double             DOUBLE,
    count                    UBIGINT,           -- histogram, exponential_histogram, summary
    sum                      DOUBLE,
    min                      DOUBLE,
    max                      DOUBLE,
    bucket_counts            UBIGINT[],         -- histogram
    explicit_bounds          DOUBLE[],          -- histogram
    scale                    INTEGER,           -- exponential_histogram
    zero_count               UBIGINT,
    zero_threshold           DOUBLE,
    positive_offset          INTEGER,
    positive_bucket_counts   UBIGINT[],
    negative_offset          INTEGER,
    negative_bucket_counts   UBIGINT[],
    quantiles                STRUCT(quantile DOUBLE, "value" DOUBLE)[],  -- summary
    flags                    UBIGINT,
    attributes               MAP(VARCHAR, VARIANT),
    source_file              VARCHAR NOT NULL,
    source_line              BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS logs (
    session_id          VARCHAR NOT NULL,
    resource_id         VARCHAR NOT NULL,
    service_name        VARCHAR,
    scope_name          VARCHAR,
    scope_version       VARCHAR,
    ts                  TIMESTAMP_NS,       -- timeUnixNano, else observedTimeUnixNano
    observed_ts         TIMESTAMP_NS,
    severity_number     INTEGER,
    severity_text       VARCHAR,
    body                VARIANT,
    event_name          VARCHAR,
    trace_id            VARCHAR,
    span_id             VARCHAR,
    flags               UBIGINT,
    agent_id            VARCHAR,            -- swarm.agent.id, else gen_ai.agent.id
    pid                 BIGINT,             -- process.pid attribute, else the resource's
    attributes          MAP(VARCHAR, VARIANT),
    source_file         VARCHAR NOT NULL,
    source_line         BIGINT NOT NULL
);
