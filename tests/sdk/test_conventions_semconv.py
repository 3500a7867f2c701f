"""Every convention name that the ``opentelemetry-semantic-conventions`` package defines is
spelled as the package spells it, and ours are not in the standard namespaces by accident."""

from __future__ import annotations

import enum

import pytest
from opentelemetry.semconv._incubating.attributes import (
    cpu_attributes,
    cpython_attributes,
    error_attributes,
    gen_ai_attributes,
    host_attributes,
    os_attributes,
    process_attributes,
    service_attributes,
    session_attributes,
    system_attributes,
)
from opentelemetry.semconv._incubating.metrics import (
    cpython_metrics,
    process_metrics,
    system_metrics,
)
from swarmscope import conventions as c

# (our constant, the package's constant) for every name the package defines.
STANDARD_NAMES = [
    (c.SERVICE_NAME, service_attributes.SERVICE_NAME),
    (c.SERVICE_INSTANCE_ID, service_attributes.SERVICE_INSTANCE_ID),
    (c.SESSION_ID, session_attributes.SESSION_ID),
    (c.HOST_NAME, host_attributes.HOST_NAME),
    (c.OS_TYPE, os_attributes.OS_TYPE),
    (c.PROCESS_RUNTIME_NAME, process_attributes.PROCESS_RUNTIME_NAME),
    (c.PROCESS_RUNTIME_VERSION, process_attributes.PROCESS_RUNTIME_VERSION),
    (c.GEN_AI_OPERATION_NAME, gen_ai_attributes.GEN_AI_OPERATION_NAME),
    (c.GEN_AI_AGENT_ID, gen_ai_attributes.GEN_AI_AGENT_ID),
    (c.GEN_AI_AGENT_NAME, gen_ai_attributes.GEN_AI_AGENT_NAME),
    (c.GEN_AI_TOOL_NAME, gen_ai_attributes.GEN_AI_TOOL_NAME),
    (c.PROCESS_PID, process_attributes.PROCESS_PID),
    (c.PROCESS_PARENT_PID, process_attributes.PROCESS_PARENT_PID),
    (c.PROCESS_EXIT_CODE, process_attributes.PROCESS_EXIT_CODE),
    (c.PROCESS_EXIT_TIME, process_attributes.PROCESS_EXIT_TIME),
    (c.PROCESS_EXECUTABLE_PATH, process_attributes.PROCESS_EXECUTABLE_PATH),
    (c.PROCESS_EXECUTABLE_NAME, process_attributes.PROCESS_EXECUTABLE_NAME),
    (c.PROCESS_COMMAND_LINE, process_attributes.PROCESS_COMMAND_LINE),
    (c.PROCESS_CREATION_TIME, process_attributes.PROCESS_CREATION_TIME),
    (c.ERROR_TYPE, error_attributes.ERROR_TYPE),
    (c.CPU_MODE, cpu_attributes.CPU_MODE),
    (c.CONTEXT_SWITCH_TYPE, process_attributes.PROCESS_CONTEXT_SWITCH_TYPE),
    (c.SYSTEM_MEMORY_STATE, system_attributes.SYSTEM_MEMORY_STATE),
    (c.PROCESS_STATE, process_attributes.PROCESS_STATE),
    (c.GC_GENERATION, cpython_attributes.CPYTHON_GC_GENERATION),
    (c.PROCESS_MEMORY_USAGE, process_metrics.PROCESS_MEMORY_USAGE),
    (c.PROCESS_MEMORY_VIRTUAL, process_metrics.PROCESS_MEMORY_VIRTUAL),
    (c.PROCESS_CPU_TIME, process_metrics.PROCESS_CPU_TIME),
    (c.PROCESS_CPU_UTILIZATION, process_metrics.PROCESS_CPU_UTILIZATION),
    (c.PROCESS_THREAD_COUNT, process_metrics.PROCESS_THREAD_COUNT),
    (c.PROCESS_FD_COUNT, process_metrics.PROCESS_UNIX_FILE_DESCRIPTOR_COUNT),
    (c.PROCESS_CONTEXT_SWITCHES, process_metrics.PROCESS_CONTEXT_SWITCHES),
    (c.SYSTEM_MEMORY_USAGE, system_metrics.SYSTEM_MEMORY_USAGE),
    (c.SYSTEM_MEMORY_UTILIZATION, system_metrics.SYSTEM_MEMORY_UTILIZATION),
    (c.SYSTEM_PROCESS_COUNT, system_metrics.SYSTEM_PROCESS_COUNT),
    (c.GC_COLLECTIONS, cpython_metrics.CPYTHON_GC_COLLECTIONS),
    (c.GC_COLLECTED_OBJECTS, cpython_metrics.CPYTHON_GC_COLLECTED_OBJECTS),
    (c.GC_UNCOLLECTABLE_OBJECTS, cpython_metrics.CPYTHON_GC_UNCOLLECTABLE_OBJECTS),
]

# Our value sets that the package enumerates: each of our values is one of its values.
STANDARD_VALUES = [
    (c.CpuMode, cpu_attributes.CpuModeValues),
    (c.ContextSwitchType, process_attributes.ProcessContextSwitchTypeValues),
    (c.SystemMemoryState, system_attributes.SystemMemoryStateValues),
    (c.ProcessState, process_attributes.ProcessStateValues),
]

# Names that exist in neither the package nor the GenAI repository's v0.1.0; documented as
# ours (or as the Collector's hostmetrics names) in docs/conventions.md.
NOT_IN_THE_PACKAGE = {
    c.SYSTEM_LOAD_1M, c.SYSTEM_LOAD_5M, c.SYSTEM_LOAD_15M,  # hostmetrics receiver's names
    c.GC_PAUSE_DURATION, c.HEAP_ALLOCATED_BLOCKS,  # ours
    c.GEN_AI_INVOKE_AGENT_DURATION, c.GEN_AI_EXECUTE_TOOL_DURATION,  # GenAI repository v0.1.0
    # The Python package has no v8js.* / nodejs.* metrics; tests/node compares these with the
    # official @opentelemetry/instrumentation-runtime-node instead.
    c.V8JS_HEAP_USED, c.V8JS_HEAP_LIMIT, c.V8JS_HEAP_SPACE_SIZE, c.V8JS_HEAP_SPACE_AVAILABLE,
    c.V8JS_HEAP_SPACE_PHYSICAL, c.V8JS_GC_DURATION, c.V8JS_RESOURCE_ACTIVE,
    c.NODEJS_LOOP_DELAY_MIN, c.NODEJS_LOOP_DELAY_MAX, c.NODEJS_LOOP_DELAY_MEAN,
    c.NODEJS_LOOP_DELAY_STDDEV, c.NODEJS_LOOP_DELAY_P50, c.NODEJS_LOOP_DELAY_P90,
    c.NODEJS_LOOP_DELAY_P99, c.NODEJS_LOOP_UTILIZATION, c.NODEJS_LOOP_TIME,
    # ours: per in-process agent (docs/conventions.md, "In-process agents")
    c.AGENT_CPU_TIME, c.AGENT_MEMORY_RETAINED, c.AGENT_MEMORY_RETAINED_BYTES,
    c.AGENT_RUNS_OPEN, c.AGENT_THREADS_ALIVE,
}


@pytest.mark.parametrize(("ours", "standard"), STANDARD_NAMES, ids=[o for o, _ in STANDARD_NAMES])
def test_a_standard_name_is_spelled_as_the_package_spells_it(ours: str, standard: str) -> None:
    assert ours == standard


@pytest.mark.parametrize(("ours", "standard"), STANDARD_VALUES, ids=lambda e: e.__name__)
def test_our_attribute_values_are_standard_values(
    ours: type[enum.Enum], standard: type[enum.Enum]
) -> None:
    allowed = {member.value for member in standard}
    assert {str(member.value) for member in ours} <= allowed


def test_the_operations_are_the_genai_operations_plus_terminate() -> None:
    standard = {member.value for member in gen_ai_attributes.GenAiOperationNameValues}
    ours = {str(op) for op in c.Operation}
    assert ours - standard == {"terminate_agent"}  # the standard has no terminate operation


def test_every_metric_is_either_checked_against_the_package_or_listed_as_not_in_it() -> None:
    checked = {ours for ours, _ in STANDARD_NAMES}
    unchecked = set(c.UNITS) - checked - NOT_IN_THE_PACKAGE
    assert not unchecked, f"compare these with the semantic conventions package: {unchecked}"


def test_our_own_attributes_stay_out_of_the_standard_namespaces() -> None:
    ours = [c.AGENT_INSTANCE_ID, c.AGENT_KIND, c.TERMINATION_REASON, c.EXIT_SIGNAL,
            c.PROCESS_AGE, c.TASK_NAME, c.TASK_ID, c.HOST_CPU_COUNT, c.HOST_MEMORY_TOTAL]
    assert all(name.startswith("swarm.") for name in ours)
