"""Parser for ``run.json``, the run's metadata written by the ``run_test`` playbook."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from locust_fleet.results.csvfiles import parse_timestamp
from locust_fleet.results.errors import ResultsError
from locust_fleet.results.model import RunEvent, RunHosts, RunMetadata, RunParameters, RunShape
from locust_fleet.results.text import read_utf8


class _Object:
    """A JSON object with typed accessors whose errors name the file and key path."""

    def __init__(self, path: Path, where: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise ResultsError(path, f"{where or 'top level'}: expected an object")
        self.path = path
        self.where = where
        self.data: dict[str, Any] = data

    def _key(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def _error(self, key: str, problem: str) -> ResultsError:
        return ResultsError(self.path, f"key {self._key(key)!r}: {problem}")

    def _get(self, key: str, required: bool) -> Any:
        if key not in self.data:
            if required:
                raise self._error(key, "missing")
            return None
        return self.data[key]

    def string(self, key: str) -> str:
        value = self._get(key, True)
        if not isinstance(value, str) or not value:
            raise self._error(key, f"expected a non-empty string, found {value!r}")
        return value

    def optional_string(self, key: str) -> str | None:
        value = self._get(key, False)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self._error(key, f"expected a string or null, found {value!r}")
        return value

    def integer(self, key: str) -> int:
        value = self._get(key, True)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            return int(value)  # templating may hand numbers over as text
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._error(key, f"expected an integer, found {value!r}")
        return value

    def optional_integer(self, key: str) -> int | None:
        if self._get(key, False) is None:
            return None
        return self.integer(key)

    def number(self, key: str) -> float:
        value = self._get(key, True)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self._error(key, f"expected a number, found {value!r}")
        return float(value)

    def counts(self, key: str) -> dict[str, int]:
        value = self._get(key, False)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self._error(key, f"expected an object of host: count, found {value!r}")
        child = _Object(self.path, self._key(key), value)
        return {host: child.integer(host) for host in value}

    def strings(self, key: str) -> tuple[str, ...]:
        value = self._get(key, False)
        if value is None:
            return ()
        if isinstance(value, str):  # "tags": "a,b" is easy to write by hand
            return tuple(part.strip() for part in value.split(",") if part.strip())
        if isinstance(value, dict):  # extra arguments as {name: value}
            return tuple(f"{k}={v}" for k, v in value.items())
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise self._error(key, f"expected a list of strings, found {value!r}")
        return tuple(value)

    def time(self, key: str) -> datetime:
        value = self._get(key, True)
        if not isinstance(value, str):
            raise self._error(key, f"expected an ISO-8601 time, found {value!r}")
        try:
            return parse_timestamp(value)
        except ValueError:
            raise self._error(key, f"{value!r} is not an ISO-8601 time") from None

    def optional_time(self, key: str) -> datetime | None:
        if self._get(key, False) is None:
            return None
        return self.time(key)

    def run_time(self, key: str) -> str:
        value = self._get(key, True)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise self._error(key, f"expected a duration such as '20s' or 20, found {value!r}")
        return str(value)

    def child(self, key: str) -> _Object:
        return _Object(self.path, self._key(key), self._get(key, True))


def read_run_json(path: Path) -> RunMetadata:
    """``run.json`` -> :class:`RunMetadata`; ResultsError naming the key when malformed."""
    try:
        data = json.loads(read_utf8(path))
    except json.JSONDecodeError as exc:
        raise ResultsError(path, f"not valid JSON: {exc.msg}", exc.lineno) from None
    top = _Object(path, "", data)
    params = top.child("parameters")
    hosts = top.child("hosts")
    events_raw = top.data.get("events") or []  # event times are optional and may be naive
    if not isinstance(events_raw, list):
        raise ResultsError(path, "key 'events': expected a list")
    events = []
    for index, raw in enumerate(events_raw):
        event = _Object(path, f"events[{index}]", raw)
        events.append(
            RunEvent(
                time=event.optional_time("time"),
                host=event.optional_string("host") or "",
                kind=event.string("kind"),
                message=event.optional_string("message") or "",
            )
        )
    return RunMetadata(
        run_id=top.string("run_id"),
        started_at=top.optional_time("started_at"),
        ended_at=top.optional_time("ended_at"),
        parameters=RunParameters(
            plan=params.string("plan"),
            users=params.integer("users"),
            spawn_rate=params.number("spawn_rate"),
            run_time=params.run_time("run_time"),
            tags=params.strings("tags"),
            exclude_tags=params.strings("exclude_tags"),
            extra_args=params.strings("extra_args"),
            target_url=params.optional_string("target_url"),
        ),
        locust_version=top.optional_string("locust_version"),
        plan_manifest_sha256=top.optional_string("plan_manifest_sha256"),
        hosts=RunHosts(
            master=hosts.string("master"),
            workers=hosts.strings("workers"),
            targets=hosts.strings("targets"),
        ),
        workers_expected=top.integer("workers_expected"),
        workers_connected=top.optional_integer("workers_connected"),
        master_exit_code=top.optional_integer("master_exit_code"),
        events=tuple(events),
        error=top.optional_string("error") or "",
        master_unit_result=top.optional_string("master_unit_result"),
        worker_processes=top.counts("worker_processes"),
        shape=_shape(top),
    )


def _shape(top: _Object) -> RunShape | None:
    if top.data.get("shape") is None:
        return None
    shape = top.child("shape")
    return RunShape(
        name=shape.string("name"),
        uses_common_options=shape.data.get("uses_common_options") is True,
        bound_seconds=shape.integer("bound_seconds"),
        cut_by_run_time=shape.data.get("cut_by_run_time") is True,
        peak_users=shape.optional_integer("peak_users"),
        seconds=shape.optional_integer("seconds"),
    )
