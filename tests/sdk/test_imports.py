"""The sdk's import graph: every module imports on its own, no module-level import circle, and
an agent that only records telemetry needs neither the analyzer nor its libraries."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SDK = Path(__file__).resolve().parents[2] / "sdk"
HEAVY = ("numpy", "scipy", "duckdb")


def _module_name(path: Path) -> str:
    parts = ["swarmscope", *path.relative_to(SDK).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# __main__ modules run a program when imported
MODULES = {_module_name(p): p for p in sorted(SDK.rglob("*.py")) if p.stem != "__main__"}
RECORDING = [m for m in MODULES if not m.startswith("swarmscope.cli")]


def _module_level_imports(path: Path) -> set[str]:
    """swarmscope modules ``path`` imports at module level (not inside functions or under
    TYPE_CHECKING), resolved to module names that exist."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        else:
            continue
        found.update(n for n in names if n in MODULES)
    return found


@pytest.mark.parametrize("module", sorted(MODULES))
def test_each_module_imports_in_a_fresh_interpreter(module: str) -> None:
    result = subprocess.run([sys.executable, "-c", f"import {module}"], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 0, result.stderr


def test_no_module_level_import_circle() -> None:
    graph = {name: _module_level_imports(path) - {name} for name, path in MODULES.items()}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        assert name not in visiting, " -> ".join([*visiting[visiting.index(name):], name])
        visiting.append(name)
        for target in graph[name]:
            visit(target)
        visiting.pop()
        done.add(name)

    for name in graph:
        visit(name)


@pytest.mark.parametrize("module", RECORDING)
def test_recording_never_imports_across_to_the_analyzer_or_collector(module: str) -> None:
    source = MODULES[module].read_text()
    assert "swarmscope.analyzer" not in source and "swarmscope.collector" not in source


def test_recording_needs_neither_numpy_nor_scipy_nor_duckdb() -> None:
    code = (
        "import sys\n"
        "import swarmscope, swarmscope.record.telemetry, swarmscope.record.instrumentation\n"
        "import swarmscope.watch.watcher, swarmscope.monitor.sampler\n"
        "swarmscope.init(exporter='none')\n"
        "with swarmscope.task('work'), swarmscope.tool('search'):\n"
        "    pass\n"
        "swarmscope.shutdown()\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60, check=True)  # fmt: skip
    assert result.stdout.strip() == "[]"
