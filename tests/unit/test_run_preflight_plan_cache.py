"""The controller preflight imports a plan once per content: an unchanged plan's classes come
from the cache, a changed one (another manifest) is imported again, a failed import is never
remembered."""

from __future__ import annotations

import importlib

import pytest
from ansible.errors import AnsibleActionFail

preflight = importlib.import_module(
    "ansible_collections.fleet.locust.plugins.action.locust_run_preflight"
)

PLAN = """from locust import HttpUser, task


class Shopper(HttpUser):
    @task
    def home(self):
        pass
"""


def plan(folder, manifest: str) -> dict:
    locustfile = folder / "locustfile.py"
    return {"locustfile": str(locustfile), "manifest_sha256": manifest}


def test_an_unchanged_plan_is_imported_once(tmp_path, monkeypatch) -> None:
    (tmp_path / "locustfile.py").write_text(PLAN)
    cache = str(tmp_path / "cache")
    first = preflight.plan_classes_cached(plan(tmp_path, "a" * 64), cache_root=cache)
    assert first["user_classes"] == ["Shopper"]

    def never(*_args):
        raise AssertionError("imported again")

    monkeypatch.setattr(preflight, "plan_classes", never)
    assert preflight.plan_classes_cached(plan(tmp_path, "a" * 64), cache_root=cache) == first
    with pytest.raises(AssertionError, match="imported again"):
        preflight.plan_classes_cached(plan(tmp_path, "b" * 64), cache_root=cache)


def test_a_plan_that_does_not_import_is_refused_every_time(tmp_path) -> None:
    (tmp_path / "locustfile.py").write_text("import no_such_module_here\n")
    cache = tmp_path / "cache"
    for _ in range(2):
        with pytest.raises(AnsibleActionFail, match="no_such_module_here"):
            preflight.plan_classes_cached(plan(tmp_path, "c" * 64), cache_root=str(cache))
    assert not cache.exists() or not list(cache.iterdir())
