"""Run one plain `locust --headless` process on a sandbox host and time its CPU (issue 12's
raw-Locust row). The bench sends this file to the host's system Python over SSH:

    python3 - USER LOCUST_ARGV...        (standard library only; prints one JSON line)

The Locust process runs as USER (the fleet's `locust` user), so it reads the plan as the
worker unit does. Its CPU is counted from its "Ramping to" log line (imports and start-up
left out, as the fleet's samples leave out a worker's start) to its exit; its requests are
the sum of `--json`'s entries. Printed: {"cpu_s", "requests", "failures", "exit_code",
"error"} (error: the end of Locust's log when it did not exit 0).
"""

import json
import os
import resource
import subprocess
import sys
import tempfile

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def main():
    user, argv = sys.argv[1], sys.argv[2:]
    with tempfile.TemporaryFile("w+") as out:
        proc = subprocess.Popen(
            argv,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            user=user,
            group=user,  # the plan's folder is root:locust 0750
            extra_groups=[],
            cwd="/tmp",
        )
        started, tail = None, []
        for line in proc.stderr:
            if started is None and "Ramping to" in line:
                started = cpu_ticks(proc.pid)
            tail = [*tail, line.rstrip()][-20:]
        code = proc.wait()
        out.seek(0)
        text = out.read()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    total = usage.ru_utime + usage.ru_stime
    entries = json.loads(text) if text.strip() else []
    print(
        json.dumps(
            {
                "cpu_s": total - (started or 0) / CLK_TCK,
                "requests": sum(e.get("num_requests", 0) for e in entries),
                "failures": sum(e.get("num_failures", 0) for e in entries),
                "exit_code": code,
                "error": "" if code == 0 else "\n".join(tail),
            }
        )
    )


if __name__ == "__main__":
    main()
