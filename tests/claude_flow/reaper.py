"""Run a command under a subreaper that reaps adopted orphans at once, as a proper init does.

pid 1 of a container or VM may reap nothing; tests that need "the daemon's zombie is reaped by
init" run the watcher under this instead of relying on the machine's pid 1."""

import ctypes
import os
import subprocess
import sys
import threading
import time

PR_SET_CHILD_SUBREAPER = 36


def reap_adopted(own: int) -> None:
    while True:
        try:
            info = os.waitid(os.P_ALL, 0, os.WEXITED | os.WNOHANG | os.WNOWAIT)
        except ChildProcessError:
            info = None
        if info is not None and info.si_pid not in (0, own):
            os.waitpid(info.si_pid, 0)
            continue
        time.sleep(0.02)


ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
child = subprocess.Popen(sys.argv[1:])
threading.Thread(target=reap_adopted, args=(child.pid,), daemon=True).start()
sys.exit(child.wait())
