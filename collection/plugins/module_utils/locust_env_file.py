"""The run's secrets as a systemd environment file: which names and values it can carry,
and how a value is written so that it reads back byte for byte.

Shared by the controller's preflight (a bad secret is refused before anything on the fleet
changes) and fleet.locust.locust_run_prepare (which writes the file on each host).
Standard library only: it runs on the hosts' system Python (3.8 or later).
"""

from __future__ import annotations

import re

ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SecretError(ValueError):
    """A secret the environment file cannot carry; the message names it, never its value."""


def unusable_character(value):
    """A description of the first character an environment file cannot carry; None if none."""
    for char in value:
        code = ord(char)
        if char == "\n":
            return "a newline"
        if char == "\r":
            return "a carriage return"
        if char == "\0":
            return "a NUL character"
        if 0xD800 <= code <= 0xDFFF:
            return "a lone surrogate (not UTF-8)"
        if 0xFDD0 <= code <= 0xFDEF or (code & 0xFFFE) == 0xFFFE:
            return f"the Unicode noncharacter U+{code:04X}"
        if code == 0xFEFF:
            return "U+FEFF (a byte order mark)"
    return None


def check_secrets(secrets):
    """The secrets as sorted (name, text) pairs; SecretError names (never shows) a bad one."""
    pairs = []
    for name in sorted(secrets or {}, key=str):
        value = secrets[name]
        if not isinstance(name, str) or not ENV_NAME.fullmatch(name):
            raise SecretError(
                f"secret name {name!r} is not an environment variable name: use letters, "
                "digits and '_', not starting with a digit"
            )
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)
        if not isinstance(value, str):
            raise SecretError(
                f"secret {name} is not a string (it is {type(value).__name__}); give its "
                "value as a string"
            )
        problem = unusable_character(value)
        if problem:
            raise SecretError(
                f"secret {name} contains {problem}, which an environment file cannot carry; "
                "give it a value without one (encode it, e.g. base64, if it must hold one)"
            )
        pairs.append((name, value))
    return pairs


def quote_env_value(value):
    r"""``value`` double-quoted for a systemd environment file (systemd.exec(5),
    EnvironmentFile=): inside double quotes a backslash followed by one of " \ ` $ stands
    for that character, and every other character, $ included, is taken literally (there is
    no expansion in EnvironmentFile=). Only \ and " are escaped; $ and ` are left as they
    are. That reads back identically with today's parser and with the one before v241,
    which dropped the backslash of any pair (v241, whose NEWS says it took backslashes
    inside quotes literally, would keep both backslashes of \\)."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def env_file_text(run_id, pairs):
    names = ", ".join(name for name, _ in pairs) or "none"
    lines = [f"# Written by fleet.locust.locust_run_prepare for run {run_id}; names: {names}"]
    lines += [f"{name}={quote_env_value(value)}" for name, value in pairs]
    return "\n".join(lines) + "\n"
