"""Did a load generator run out of something other than CPU? Decided from ``limits_samples.csv``.

The sampler on every master and worker host writes, once a second, how much of each limit
was in use (see roles/locust_common/files/locust-cpu-sampler.py): open files of each Locust
process against its soft limit, local ports toward each destination against the port range,
conntrack entries against the table's maximum, memory against the host's total, bytes a
second on each interface against its link speed; and, reported but never binding, the
host's CPU, its run queue per core, the share of TCP segments retransmitted, the share of
connection attempts the kernel saw fail (refused, reset, timed out) and each Locust process's
resident memory.

Rule: a limit of ``BINDING`` *binds* when its peak share over the run reached ``threshold``
(default 95 %) of its maximum - from there, new connections fail with EMFILE, EADDRNOTAVAIL
or a dropped packet, or the kernel starts reclaiming memory, and the failures are the
generator's, not the target's. A run where any limit binds is saturated (exit 4, as CPU
saturation); a healthy run says which limits were checked and the highest share of each.

API::

    limits_verdict(samples, threshold=0.95) -> LimitsVerdict
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from locust_fleet.results.model import LimitSample

DEFAULT_THRESHOLD = 0.95

# limit -> (what it counts, its name for people, the fix)
_KINDS = {
    "open_files": (
        "open files",
        "raise the open-file limit (locust_tuning_nofile, LimitNOFILE of the units) or run "
        "more worker processes (locust_worker_processes)",
    ),
    "local_ports": (
        "local ports",
        "widen net.ipv4.ip_local_port_range (locust_tuning_sysctl_overrides) or add worker hosts",
    ),
    "conntrack": (
        "conntrack entries",
        "raise net.netfilter.nf_conntrack_max (locust_tuning_sysctl_overrides) or add worker hosts",
    ),
    "memory": (
        "memory",
        "add worker hosts or memory, or run fewer users per host",
    ),
    "link": (
        "bytes a second of its link's capacity",
        "spread the load over more worker hosts (or faster links)",
    ),
    # Reported, never binding: the CPU verdict judges the processes; a retransmit share
    # is the network's, or the target's.
    "host_cpu": ("host CPU", ""),
    "run_queue": ("run queue (runnable threads per core)", ""),
    "retransmits": ("TCP retransmits", ""),
    "connect_failures": ("failed TCP connects (the kernel's count)", ""),
    # Each Locust process's resident memory against the host's: the host's own memory
    # above is what binds; this says which process holds it (and the bench's memory per
    # process and per 1,000 users).
    "process_memory": ("memory of one Locust process", ""),
}
BINDING = frozenset({"open_files", "local_ports", "conntrack", "memory", "link"})


def describe(peak: LimitSample) -> str:
    """The peak of one limit as the summary says it: host, figure, what, and the fix."""
    noun, fix = _KINDS.get(peak.limit, (peak.limit, "add worker hosts"))
    if peak.limit == "memory":
        used = f"{peak.used / 1024:,.0f} of {peak.maximum / 1024:,.0f} MB of memory"
        return f"{peak.host} used {used} ({peak.share:.0%}); {fix}"
    where = {
        "open_files": f" in {peak.subject}",
        "local_ports": f" toward {peak.subject}",
        "link": f" on {peak.subject}",
    }
    return (
        f"{peak.host} used {peak.used:,} of {peak.maximum:,} {noun}"
        f"{where.get(peak.limit, '')}; {fix}"
    )


@dataclass(frozen=True)
class LimitsVerdict:
    threshold: float
    peaks: tuple[LimitSample, ...]  # the sample of highest share per (host, limit, subject)

    @property
    def measured(self) -> bool:
        return bool(self.peaks)

    @property
    def bound(self) -> tuple[LimitSample, ...]:
        return tuple(p for p in self.peaks if p.limit in BINDING and p.share >= self.threshold)

    def highest(self) -> dict[str, LimitSample]:
        """limit -> its highest peak over every host and subject."""
        found: dict[str, LimitSample] = {}
        for peak in self.peaks:
            if peak.limit not in found or peak.share > found[peak.limit].share:
                found[peak.limit] = peak
        return found

    def summary(self) -> str:
        if self.bound:
            named = "; ".join(describe(p) for p in self.bound)
            return (
                f"LIMIT REACHED: {named}. The generator ran out (at {self.threshold:.0%} or more "
                "of the limit): its failures are not the target's."
            )
        if not self.measured:
            return "other limits not measured (no limits samples in the run)."
        shown = ", ".join(
            f"{_KINDS.get(limit, (limit,))[0]} {peak.share:.0%} ({peak.host})"
            for limit, peak in sorted(self.highest().items())
        )
        return f"limits checked, highest share of each: {shown}."


def limits_verdict(
    samples: Iterable[LimitSample], threshold: float = DEFAULT_THRESHOLD
) -> LimitsVerdict:
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], not {threshold}")
    best: dict[tuple[str, str, str], LimitSample] = {}
    for sample in samples:
        key = (sample.host, sample.limit, sample.subject)
        if key not in best or sample.share > best[key].share:
            best[key] = sample
    peaks = tuple(sample for _, sample in sorted(best.items(), key=lambda kv: kv[0]))
    return LimitsVerdict(threshold=threshold, peaks=peaks)
