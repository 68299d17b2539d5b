"""Values a run writes into Locust's config file, and the fleet's own numeric settings:
what each may hold, checked on the controller before anything on the fleet changes.

Locust reads its config file with ConfigArgParse's line parser, which has no escapes: it
strips a value's outer spaces and one pair of outer quotes, ends it at a space followed by
``#`` or ``;`` (a comment), reads ``[a, b]`` as a list, and a line break starts a new
option. A value that would not read back as given is refused here, naming its variable.
"""

from __future__ import annotations

import math
import re

_COMMENT = re.compile(r"\s[#;]")
_LIST_BREAKERS = ",[]\"'"


def config_value_problem(text: str, *, list_item: bool = False) -> str | None:
    """Why ``text`` cannot be written as a Locust config value (or an item of a list
    value) and read back byte for byte; None when it can."""
    for char, what in (("\n", "a line break"), ("\r", "a carriage return"), ("\0", "a NUL")):
        if char in text:
            return f"holds {what}"
    if text != text.strip():
        return "starts or ends with a space, which Locust's config reader strips"
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return "is wrapped in quotes, which Locust's config reader strips"
    if _COMMENT.search(text):
        return "holds a space followed by '#' or ';', where Locust's config reader cuts it"
    if list_item:
        if not text:
            return "is empty"
        found = sorted({char for char in text if char in _LIST_BREAKERS})
        if found:
            shown = ", ".join(repr(char) for char in found)
            return f"holds {shown}, which a list in Locust's config cannot carry"
    elif text.startswith("[") and text.endswith("]"):
        return "is in brackets, which Locust's config reader takes for a list"
    return None


def check_config_values(values: dict, lists: dict) -> list[str]:
    """Every problem among ``values`` (variable name -> text) and ``lists`` (variable name
    -> items), each naming its variable."""
    problems = []
    for name, value in values.items():
        problem = config_value_problem("" if value is None else str(value))
        if problem:
            problems.append(f"{name} {problem}")
    for name, items in lists.items():
        for item in items:
            problem = config_value_problem(str(item), list_item=True)
            if problem:
                problems.append(f"{name}: the item {str(item)!r} {problem}")
    return problems


# The fleet's numeric run settings: (smallest value allowed, whole number, example).
SETTINGS = {
    "locust_run_expect_workers_timeout": (1, True, "60"),
    "locust_run_stop_timeout": (0, True, "10"),
    "locust_run_heartbeat_liveness": (1, True, "10"),
    "locust_run_progress_interval": (1, True, "10"),
    "locust_run_master_return_timeout": (1, True, "300"),
    "locust_run_grace": (0, True, "60"),
    "locust_run_claim_grace": (0, True, "300"),
    "locust_run_max_clock_offset": (0, False, "500"),
    "locust_run_min_free_mb": (0, False, "100"),
    "locust_run_cpu_sample_interval": (0.1, False, "1"),
}


def check_settings(settings: dict) -> list[str]:
    """A problem for each setting given (name -> value; None when not used) that is not a
    number of its kind at or above its smallest value."""
    problems = []
    for name, value in settings.items():
        if value is None or name not in SETTINGS:
            continue
        least, whole, example = SETTINGS[name]
        text = str(value).strip()
        try:
            number = float(text) if not isinstance(value, bool) else math.nan
        except ValueError:
            number = math.nan
        kind = "a whole number" if whole else "a number"
        if not math.isfinite(number) or number < least or (whole and not number.is_integer()):
            problems.append(
                f"{name} is {text!r}; give {kind} of {least:g} or more, e.g. -e {name}={example}"
            )
    return problems
