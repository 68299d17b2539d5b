#!/usr/bin/python3
"""Sample the CPU of every Locust process on this host, once a second, for one run.

Locust's own warning samples every 10 s and is blind for the first 20 s; this
writes one CSV row per process per interval from the start of the run:
    timestamp,host,role,unit,pid,cpu_percent,wait_percent   (percent of one core)
cpu_percent is the CPU the process got; wait_percent the time its threads were
runnable but waiting for a CPU (schedstat run delay). Their sum is what the process
wanted: a worker starved on a host with too few cores gets 30% and waits 70%, and
is as much a bottleneck as one pinned at 100%. wait_percent is N/A when the kernel
has no schedstat.
With --limits-out it also writes, at the same interval, what else a load generator runs
out of:
    timestamp,host,limit,subject,used,maximum
    open_files   <unit>[<pid>]   descriptors open   / the process's soft RLIMIT_NOFILE
    local_ports  <ip>:<port>     TCP sockets toward that destination on a local port of
                                 net.ipv4.ip_local_port_range / its size (the 3 busiest;
                                 see PORT_SCAN_BUDGET for how often)
    conntrack    nf_conntrack    tracked connections / nf_conntrack_max (where tracked)
    memory       MemAvailable    kB in use (MemTotal - MemAvailable) / MemTotal
    process_memory <unit>[<pid>] kB resident (RSS) of each Locust process / MemTotal
    link         <interface>     bytes a second, in or out (the higher) / its link speed in
                                 bytes a second (interfaces that report one)
    host_cpu     all cores       busy per mille of all the host's cores / 1000
    run_queue    procs_running   runnable threads now / the host's cores
    retransmits  tcp             TCP segments retransmitted a second / segments sent a second
    connect_failures tcp         the kernel's failed connection attempts a second (Tcp
                                 AttemptFails: refused, reset or timed out after the SYN) /
                                 connections opened a second (ActiveOpens, at least 100).
                                 EADDRNOTAVAIL and EMFILE fail before a SYN: Locust's
                                 failures count those.
Started by the run playbook as a transient unit bounded by RuntimeMaxSec, as root; the
run's folder belongs to the locust user, so the outputs are opened without following a link
(see open_output). Standard library only: it runs on the host's system Python.
"""

import argparse
import errno
import os
import re
import stat
import sys
import time
from datetime import datetime, timezone

CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024
# Reading /proc/net/tcp walks the kernel's socket table of every network namespace on the
# machine: at 100,000 connections it took the four sandbox hosts' samplers a sixth of a core.
# The port scan is repeated only once the time since the last one is at least its own
# duration divided by this share of a core (1 Hz while it is cheap, less often at scale).
PORT_SCAN_BUDGET = 0.01
UNIT = re.compile(r"(locust-(?:master|worker@\d+)\.service)")


def locust_processes():
    """pid -> (role, unit) for the Locust processes of the master and worker units."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                argv = handle.read().split(b"\0")
            with open(f"/proc/{entry}/cgroup") as handle:
                cgroup = handle.read()
        except OSError:
            continue
        unit = UNIT.search(cgroup)
        if not unit or not argv or b"locust" not in b" ".join(argv[:2]):
            continue
        role = "worker" if unit.group(1).startswith("locust-worker@") else "master"
        found[int(entry)] = (role, unit.group(1))
    return found


def cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime


def run_delay_ns(pid):
    """Nanoseconds the process's threads spent runnable, waiting for a CPU; None if unknown."""
    try:
        threads = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return None
    total, seen = 0, False
    for tid in threads:
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as handle:
                total += int(handle.read().split()[1])
            seen = True
        except (OSError, IndexError, ValueError):
            continue  # the thread ended, or no schedstat on this kernel
    return total if seen else None


def read_int(path):
    try:
        with open(path) as handle:
            return int(handle.read().split()[0])
    except (OSError, IndexError, ValueError):
        return None


def open_files(pid):
    """(descriptors open, soft limit) of a process, or None."""
    try:
        # Linux 6.2+ gives the number of open descriptors as the folder's size: no walk of
        # 20,000 entries a second. Older kernels say 0: count the entries.
        used = os.stat(f"/proc/{pid}/fd").st_size or len(os.listdir(f"/proc/{pid}/fd"))
        with open(f"/proc/{pid}/limits") as handle:
            for line in handle:
                if line.startswith("Max open files"):
                    return used, int(line.split()[3])
    except (OSError, IndexError, ValueError):
        return None
    return None


def resident_kb(pid):
    """Resident memory of a process in kB, or None."""
    try:
        with open(f"/proc/{pid}/statm") as handle:
            return int(handle.read().split()[1]) * PAGE_KB
    except (OSError, IndexError, ValueError):
        return None


def port_range():
    """(lowest, highest) local port the kernel hands out, or None."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
            low, high = (int(x) for x in handle.read().split())
    except (OSError, ValueError):
        return None
    return low, high


def _endpoint(hex_text):
    address, port = hex_text.split(":")
    raw = bytes.fromhex(address)
    if len(raw) == 4:
        ip = ".".join(str(b) for b in raw[::-1])
    else:  # /proc/net/tcp6: four little-endian 32-bit words
        words = [raw[i : i + 4][::-1] for i in range(0, 16, 4)]
        flat = b"".join(words)
        if flat[:12] == b"\0" * 10 + b"\xff\xff":  # an IPv4-mapped address
            ip = ".".join(str(b) for b in flat[12:])
        else:
            ip = "[" + ":".join(flat[i : i + 2].hex() for i in range(0, 16, 2)) + "]"
    return f"{ip}:{int(port, 16)}"


def sockets_by_destination(low, high):
    """Destination -> TCP sockets toward it on a local port of the range (every state but
    LISTEN): the ports a connection to that destination takes."""
    counts = {}
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as handle:
                next(handle, None)
                for line in handle:
                    fields = line.split(None, 4)
                    if len(fields) < 4 or fields[3] == "0A":  # LISTEN
                        continue
                    if not low <= int(fields[1].rsplit(":", 1)[1], 16) <= high:
                        continue  # a service's port (an incoming connection)
                    remote = fields[2]
                    counts[remote] = counts.get(remote, 0) + 1
        except OSError:
            continue
    return {_endpoint(remote): n for remote, n in counts.items()}


def memory_kb():
    values = {}
    try:
        with open("/proc/meminfo") as handle:
            for line in handle:
                name, _, rest = line.partition(":")
                if name in ("MemTotal", "MemAvailable"):
                    values[name] = int(rest.split()[0])
    except (OSError, ValueError, IndexError):
        return None
    if len(values) < 2:
        return None
    return values["MemTotal"] - values["MemAvailable"], values["MemTotal"]


def cpu_jiffies():
    """(busy, total) jiffies of all cores, and the runnable threads, from /proc/stat."""
    busy = total = running = None
    try:
        with open("/proc/stat") as handle:
            for line in handle:
                if line.startswith("cpu "):
                    values = [int(x) for x in line.split()[1:]]
                    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
                    total = sum(values[:8])
                    busy = total - idle
                elif line.startswith("procs_running "):
                    running = int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None, None, None
    return busy, total, running


def tcp_segments():
    """(segments sent, segments retransmitted, connections opened, connection attempts that
    failed) so far, from /proc/net/snmp."""
    try:
        with open("/proc/net/snmp") as handle:
            lines = [line.split() for line in handle if line.startswith("Tcp:")]
        names, values = lines[0], lines[1]
        table = dict(zip(names[1:], (int(v) for v in values[1:])))
        return table["OutSegs"], table["RetransSegs"], table["ActiveOpens"], table["AttemptFails"]
    except (OSError, IndexError, KeyError, ValueError):
        return None


def interface_bytes():
    """interface -> (bytes received, bytes sent, link speed in bytes a second or None)."""
    found = {}
    try:
        names = os.listdir("/sys/class/net")
    except OSError:
        return found
    for name in names:
        if name == "lo":
            continue
        base = f"/sys/class/net/{name}"
        rx, tx = read_int(f"{base}/statistics/rx_bytes"), read_int(f"{base}/statistics/tx_bytes")
        if rx is None or tx is None:
            continue
        speed = read_int(f"{base}/speed")  # Mb/s; -1 or unreadable when the link has none
        found[name] = (rx, tx, speed * 125000 if speed and speed > 0 else None)
    return found


CONNECT_FLOOR = 100  # connects a second


def rates(state, now):
    """Rows of what is counted since the previous look (CPU, links, retransmits)."""
    rows = []
    busy, total, running = cpu_jiffies()
    links, segments = interface_bytes(), tcp_segments()
    before = state.get("counters")
    state["counters"] = (now, busy, total, links, segments)
    if running is not None:
        rows.append(("run_queue", "procs_running", running, os.cpu_count() or 1))
    if before is None:
        return rows
    then, old_busy, old_total, old_links, old_segments = before
    elapsed = max(now - then, 1e-6)
    if None not in (busy, total, old_busy, old_total) and total > old_total:
        share = (busy - old_busy) / (total - old_total)
        rows.append(("host_cpu", "all cores", round(share * 1000), 1000))
    for name, (rx, tx, speed) in sorted(links.items()):
        if speed and name in old_links:
            rate = max(rx - old_links[name][0], tx - old_links[name][1]) / elapsed
            rows.append(("link", name, round(rate), speed))
    if segments and old_segments and segments[0] > old_segments[0]:
        sent = (segments[0] - old_segments[0]) / elapsed
        again = (segments[1] - old_segments[1]) / elapsed
        rows.append(("retransmits", "tcp", round(again), max(round(sent), 1)))
        if segments[2] > old_segments[2]:
            opened = (segments[2] - old_segments[2]) / elapsed
            failed = max(segments[3] - old_segments[3], 0) / elapsed
            # Against at least CONNECT_FLOOR a second: the odd refused connect while nearly
            # nothing connects (workers retrying the master's port after it quit) is noise.
            floor = max(round(opened), CONNECT_FLOOR)
            rows.append(("connect_failures", "tcp", round(failed), floor))
    return rows


def limit_rows(processes, state=None, now=None):
    """(limit, subject, used, maximum) of everything but the processes' CPU, as this host
    shows it now (rates since the previous call with the same state)."""
    rows = [] if state is None else rates(state, time.monotonic() if now is None else now)
    for pid, (_role, unit) in sorted(processes.items()):
        files = open_files(pid)
        if files is not None:
            rows.append(("open_files", f"{unit}[{pid}]", *files))
    ports = port_range()
    clock = time.monotonic()
    if ports and (state is None or clock >= state.get("next_port_scan", 0.0)):
        found = sockets_by_destination(*ports)
        cost = time.monotonic() - clock
        if state is not None:
            state["next_port_scan"] = clock + cost / PORT_SCAN_BUDGET
        busiest = sorted(found.items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        size = ports[1] - ports[0] + 1
        rows.extend(("local_ports", dest, n, size) for dest, n in busiest)
    tracked = read_int("/proc/sys/net/netfilter/nf_conntrack_count")
    table = read_int("/proc/sys/net/netfilter/nf_conntrack_max")
    if tracked is not None and table:
        rows.append(("conntrack", "nf_conntrack", tracked, table))
    memory = memory_kb()
    if memory is not None:
        rows.append(("memory", "MemAvailable", *memory))
        for pid, (_role, unit) in sorted(processes.items()):
            resident = resident_kb(pid)
            if resident is not None:
                rows.append(("process_memory", f"{unit}[{pid}]", resident, memory[1]))
    return rows


def percent(delta, per_second, elapsed):
    return max(delta, 0) / per_second / max(elapsed, 1e-6) * 100


DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
OUT_FLAGS = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC


def _trusted(st):
    """A folder where a link may be followed: only root can change it."""
    return st.st_uid == 0 and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def open_output(path):
    """``path`` opened to append, as root, never through a link another user placed: each
    folder on the way is opened relative to the one before, a link followed only in a
    folder only root can change, and the file must be a regular file with one link.
    (locust_safe_files.open_folder does this for the modules; this script ships alone.)
    SystemExit with the reason otherwise."""
    parts = [part for part in os.path.dirname(path).split("/") if part]
    fd = os.open("/", DIR_FLAGS)
    try:
        for index, part in enumerate(parts):
            try:
                next_fd = os.open(part, DIR_FLAGS, dir_fd=fd)
            except OSError as err:
                last = index == len(parts) - 1
                if (
                    err.errno not in (errno.ELOOP, errno.ENOTDIR)
                    or last
                    or not _trusted(os.fstat(fd))
                ):
                    raise
                next_fd = os.open(part, DIR_FLAGS & ~os.O_NOFOLLOW, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        out = os.open(os.path.basename(path), OUT_FLAGS, 0o644, dir_fd=fd)
    except OSError as err:
        sys.exit(f"locust-cpu-sampler: not writing {path}: {err.strerror or err} (a link?)")
    finally:
        os.close(fd)
    st = os.fstat(out)
    if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1:
        os.close(out)
        sys.exit(f"locust-cpu-sampler: not writing {path}: not a regular file with one link")
    return os.fdopen(out, "a", buffering=1)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    parser.add_argument("--host", required=True)
    parser.add_argument("--interval", type=float, default=1.0)
    parser.add_argument("--duration", type=float, required=True)
    parser.add_argument("--limits-out", default="")
    args = parser.parse_args()
    previous, counters = {}, {}
    deadline = time.monotonic() + args.duration
    limits = open_output(args.limits_out) if args.limits_out else None
    with open_output(args.out) as out:
        while time.monotonic() < deadline:
            now = time.monotonic()
            stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
            processes = locust_processes()
            if limits is not None:
                for limit, subject, used, maximum in limit_rows(processes, counters, now):
                    limits.write(f"{stamp},{args.host},{limit},{subject},{used},{maximum}\n")
            for pid, (role, unit) in processes.items():
                ticks = cpu_ticks(pid)
                if ticks is None:
                    continue
                delay = run_delay_ns(pid)
                if pid in previous:
                    then, old_ticks, old_delay = previous[pid]
                    cpu = percent(ticks - old_ticks, CLK_TCK, now - then)
                    wait = "N/A"
                    if delay is not None and old_delay is not None:
                        wait = f"{percent(delay - old_delay, 1e9, now - then):.1f}"
                    out.write(f"{stamp},{args.host},{role},{unit},{pid},{cpu:.1f},{wait}\n")
                previous[pid] = (now, ticks, delay)
            time.sleep(max(0.0, args.interval - (time.monotonic() - now)))


if __name__ == "__main__":
    main()
