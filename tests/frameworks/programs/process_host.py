"""A process agent that runs in-process agents: this program starts pydantic_swarm.py as a
child process (an agent of the session through auto-instrumentation), which runs its three
framework agents in asyncio. Prints the child's output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

if __name__ == "__main__":
    child = Path(__file__).with_name("pydantic_swarm.py")
    done = subprocess.run([sys.executable, str(child), "asyncio"], capture_output=True,
                          text=True, check=True)
    print(done.stdout.strip().splitlines()[-1])
