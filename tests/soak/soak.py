"""A soak workload for ``swarmscope run``: a parent that starts ``--workers`` worker processes
(20 by default) and waits for them. One worker, ``leaker``, keeps ``--leak-mib-per-s`` MiB of
touched memory every second (in small steps, so its RSS rises steadily); every other worker,
``steady``, allocates and frees blocks in a loop, so its RSS saws but never trends.

    python tests/soak/soak.py --seconds 40        # the shortened soak of `make test`
    python tests/soak/soak.py --minutes 10        # `make soak`

Workers are started with their role as their only argument (``soak.py leaker``,
``soak.py steady``), so the name the watcher derives from the command line tells them apart;
the duration and rate travel in the environment. All workers stop at one deadline.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time

STEP_S = 0.125  # the leaker's step: 8 steps a second
MIB = 1024 * 1024


def leaker(deadline: float, mib_per_s: float) -> None:
    kept: list[bytes] = []
    step = int(mib_per_s * MIB * STEP_S)
    due = time.monotonic()
    while time.monotonic() < deadline:
        kept.append(b"\x01" * step)  # written, so resident
        due += STEP_S
        time.sleep(max(0.0, due - time.monotonic()))


def steady(deadline: float, seed: int) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        block = b"\x02" * (rng.randrange(256, 1536) * 1024)  # allocated, touched, freed
        time.sleep(0.05 + rng.random() * 0.1)
        del block


def main() -> None:
    if sys.argv[1:2] in (["leaker"], ["steady"]):
        deadline = time.monotonic() + float(os.environ["SOAK_SECONDS"])
        if sys.argv[1] == "leaker":
            leaker(deadline, float(os.environ["SOAK_LEAK_MIB_PER_S"]))
        else:
            steady(deadline, os.getpid())
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    length = ap.add_mutually_exclusive_group()
    length.add_argument("--seconds", type=float, default=40.0)
    length.add_argument("--minutes", type=float)
    ap.add_argument("--workers", type=int, default=20)
    ap.add_argument("--leak-mib-per-s", type=float, default=1.0)
    args = ap.parse_args()
    seconds = args.minutes * 60 if args.minutes is not None else args.seconds
    env = {**os.environ, "SOAK_SECONDS": str(seconds),
           "SOAK_LEAK_MIB_PER_S": str(args.leak_mib_per_s)}
    roles = ["leaker"] + ["steady"] * (args.workers - 1)
    workers = [subprocess.Popen([sys.executable, os.path.abspath(__file__), role], env=env)
               for role in roles]
    status = max(w.wait() for w in workers)
    sys.exit(status)


if __name__ == "__main__":
    main()
