"""What runs on the controller never runs under sudo: a play on localhost, or a task
delegated to it, says become: false, so a play's become (or -b) stays on the hosts."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def _tasks(items):
    for item in items or []:
        if not isinstance(item, dict):
            continue
        yield item
        for key in ("block", "rescue", "always"):
            yield from _tasks(item.get(key))


def test_every_task_delegated_to_the_controller_says_become_false():
    files = sorted(REPO.glob("roles/*/tasks/*.yml")) + sorted(REPO.glob("playbooks/*.yml"))
    delegated, without = 0, []
    for path in files:
        items = yaml.safe_load(path.read_text()) or []
        plays = [p for p in items if isinstance(p, dict) and "hosts" in p]
        tasks = list(_tasks(items))
        for play in plays:
            tasks += list(_tasks(play.get("tasks"))) + list(_tasks(play.get("pre_tasks")))
            if play["hosts"] == "localhost" and play.get("become") is not False:
                without.append(f"{path.relative_to(REPO)}: play {play.get('name')!r}")
        for task in tasks:
            if task.get("delegate_to") == "localhost":
                delegated += 1
                if task.get("become") is not False:
                    without.append(f"{path.relative_to(REPO)}: {task.get('name')!r}")
    assert delegated >= 10  # the scan sees the fleet's controller-side tasks
    assert without == []
