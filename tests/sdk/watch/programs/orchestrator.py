"""An orchestrator in Python: its worker's stdin is a real pipe.
Usage: python orchestrator.py HOLD_S -- WORKER ARGV... Prints the worker's pid, keeps its
stdin open for HOLD_S seconds (0: closes it at once), then exits with the worker's status."""

import subprocess
import sys
import time

hold = float(sys.argv[1])
worker = subprocess.Popen(sys.argv[sys.argv.index("--") + 1 :], stdin=subprocess.PIPE)
print(worker.pid, flush=True)
time.sleep(hold)
worker.stdin.close()
sys.exit(worker.wait())
