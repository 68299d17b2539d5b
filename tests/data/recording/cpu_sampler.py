"""Recording helper: sample processes' CPU once a second into a cpu_samples.csv.

usage: cpu_sampler.py OUT.csv HOST SECONDS ROLE:UNIT:PID [ROLE:UNIT:PID ...]
"""

import csv
import datetime
import sys
import time

import psutil


def main() -> None:
    out, host, duration = sys.argv[1], sys.argv[2], float(sys.argv[3])
    specs = [spec.split(":") for spec in sys.argv[4:]]
    procs = [(role, unit, psutil.Process(int(pid))) for role, unit, pid in specs]
    for _, _, proc in procs:
        proc.cpu_percent(None)  # the first call always answers 0.0
    end = time.time() + duration
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["timestamp", "host", "role", "unit", "pid", "cpu_percent"])
        while time.time() < end:
            time.sleep(1)
            now = datetime.datetime.now(datetime.UTC).isoformat(timespec="milliseconds")
            for role, unit, proc in procs:
                try:
                    cpu = proc.cpu_percent(None)
                except psutil.NoSuchProcess:
                    continue
                writer.writerow(
                    [now.replace("+00:00", "Z"), host, role, unit, proc.pid, f"{cpu:.1f}"]
                )
            handle.flush()


if __name__ == "__main__":
    main()
