"""Filters the run playbook uses to read durations, manifests and Locust's logs.

locust_duration_seconds   "1h30m" / "90s" / "45" -> seconds (-1 when not a duration)
locust_manifest_mismatches  files whose hash on a host differs from its manifest
locust_mismatch_message   one of those as a sentence naming host, file and both hashes
"""

from __future__ import annotations

import re

DOCUMENTATION = ""

_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def locust_duration_seconds(value) -> int:
    """Locust's run-time syntax (or plain seconds) as seconds; -1 when it is not one."""
    text = str(value).strip().lower()
    if text.isdigit():
        return int(text)
    match = _DURATION.match(text)
    if not text or not match:
        return -1
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def locust_manifest_mismatches(manifest: str, actual: str) -> list[dict]:
    """Compare a `sha256sum` manifest with `sha256sum` output taken now on the host."""
    recorded = _parse_sums(manifest)
    now = _parse_sums(actual)
    return [
        {"file": name, "recorded": digest, "actual": now.get(name, "missing")}
        for name, digest in sorted(recorded.items())
        if now.get(name) != digest
    ]


def locust_mismatch_message(mismatch: dict, host: str) -> str:
    actual = mismatch["actual"]
    now = "is missing" if actual == "missing" else f"sha256 {actual[:12]}…"
    return (
        f"host {host}: {mismatch['file']} {now} differs from the controller's "
        f"{mismatch['recorded'][:12]}… deployed to it; re-run playbooks/site.yml "
        "or undo the edit on the host"
    )


def _parse_sums(text: str) -> dict:
    sums = {}
    for line in (text or "").splitlines():
        parts = line.strip().split(None, 1)
        if len(parts) == 2:
            sums[parts[1].lstrip("*")] = parts[0]
    return sums


class FilterModule:
    def filters(self):
        return {
            "locust_duration_seconds": locust_duration_seconds,
            "locust_manifest_mismatches": locust_manifest_mismatches,
            "locust_mismatch_message": locust_mismatch_message,
        }
