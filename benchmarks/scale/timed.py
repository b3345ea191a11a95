#!/usr/bin/env python3
"""timed.py LOG CMD [ARG...]: runs CMD once, stdin empty, stdout and stderr to LOG, and prints one line
`wall cpu peak rc`: wall seconds from start to exit, CPU seconds (user + sys) of CMD and of every process it
waited for, the largest peak resident set among them in MiB (wait4's rusage), and CMD's exit status."""
import os
import sys
import time

log, cmd = sys.argv[1], sys.argv[2:]
start = time.monotonic()
pid = os.fork()
if pid == 0:
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.execvp(cmd[0], cmd)
_, status, usage = os.wait4(pid, 0)
wall = time.monotonic() - start
print(f"{wall:.3f} {usage.ru_utime + usage.ru_stime:.3f} {usage.ru_maxrss / 1024:.1f} {os.waitstatus_to_exitcode(status)}")
