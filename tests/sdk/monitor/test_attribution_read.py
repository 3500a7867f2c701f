"""The ledger's read of the process-wide heap counter, when another thread runs during it.

A GIL switch can fall inside a read: another thread allocates after the interval's CPU clock
was taken but before the counter is read. Its allocation is then in the interval, so its CPU
must be too, or the allocation is charged to the run whose thread did the read. The switch is
made to happen there (the read runs the other thread to its end), with real threads and the
real counter."""

from __future__ import annotations

import sys
import threading

from swarmscope.monitor.attribution import Ledger

KEPT: list = []


def _allocate() -> None:
    KEPT.append([str(i) * 3 for i in range(20_000)])  # ~20,000 blocks, a few ms of CPU


class SwitchingLedger(Ledger):
    """A ledger whose next read lets another thread allocate first, as a GIL switch would."""

    armed = False

    def _memory(self) -> int:
        if self.armed:
            self.armed = False
            other = threading.Thread(target=_allocate)
            other.start()
            other.join()
        return sys.getallocatedblocks()


def test_what_another_thread_allocates_during_the_read_is_not_charged_to_the_run() -> None:
    ledger = SwitchingLedger()
    tidy = ledger.agent("tidy", "tidy-1", confirmed=True)
    run = ledger.start_run(tidy)
    ledger.checkpoint(run)  # the run's first segment: the counter's first reading
    sum(range(1000))
    ledger.armed = True
    ledger.checkpoint(run, close=True)  # the run ends: the read the other thread falls in
    ledger.end_run(run)
    assert run.tainted
    assert ledger.memory_of(tidy) == 0


def test_without_another_thread_the_run_keeps_what_it_allocated() -> None:
    ledger = SwitchingLedger()
    leaky = ledger.agent("leaky", "leaky-1", confirmed=True)
    run = ledger.start_run(leaky)
    ledger.checkpoint(run)
    _allocate()
    ledger.checkpoint(run, close=True)
    ledger.end_run(run)
    assert not run.tainted
    assert ledger.memory_of(leaky) >= 19_000
