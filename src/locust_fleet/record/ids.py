"""Run ids: chosen by the wrapper (UTC time plus a random suffix), safe as folder names."""

from __future__ import annotations

import re
import secrets
import string
from datetime import UTC, datetime

RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_SUFFIX = string.ascii_lowercase + string.digits


def new_run_id(now: datetime | None = None) -> str:
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    return f"{stamp}-{''.join(secrets.choice(_SUFFIX) for _ in range(6))}"


def check_run_id(run_id: str) -> str | None:
    """None when usable, else why not (it names folders on every host)."""
    if RUN_ID_PATTERN.match(run_id):
        return None
    return (
        f"run id {run_id!r} must be 1-100 letters, digits, '.', '_' or '-', starting with "
        "a letter or digit (it names folders on every host)"
    )
