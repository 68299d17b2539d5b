"""The controller's plan reader (collection module_utils/locust_plan.py): which files a plan
ships, their sha256, its name on the hosts and the manifest hash every host will hold."""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "locust_plan", REPO / "collection/plugins/module_utils/locust_plan.py"
)
locust_plan = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(locust_plan)


@pytest.fixture
def plan(tmp_path: Path) -> Path:
    root = tmp_path / "shop"
    (root / "data").mkdir(parents=True)
    (root / "locustfile.py").write_text("from locust import HttpUser\n")
    (root / "data" / "users.csv").write_text("alice\n")
    (root / "helper.pyc").write_bytes(b"\0")
    (root / ".env").write_text("SECRET=1\n")
    (root / "__pycache__").mkdir()
    (root / "__pycache__" / "x.py").write_text("")
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("")
    return root


def test_a_folder_ships_its_regular_files_but_hidden_and_byte_code(plan: Path) -> None:
    read = locust_plan.read_plan(str(plan))
    assert read["name"] == "shop" and read["is_file"] is False
    assert read["rels"] == ["data/users.csv", "locustfile.py"]
    assert read["sums"] == [hashlib.sha256(p.read_bytes()).hexdigest() for p in read_paths(read)]


def read_paths(read: dict) -> list[Path]:
    return [Path(p) for p in read["srcs"]]


def test_the_manifest_hash_is_that_of_sha256sum_output_in_the_plan_folder(plan: Path) -> None:
    read = locust_plan.read_plan(str(plan))
    listing = subprocess.run(
        ["sha256sum", "--", *read["rels"]], cwd=plan, capture_output=True, check=True
    ).stdout
    assert read["manifest_sha256"] == hashlib.sha256(listing).hexdigest()


def test_a_single_file_is_the_plans_locustfile(tmp_path: Path) -> None:
    script = tmp_path / "checkout.py"
    script.write_text("pass\n")
    read = locust_plan.read_plan(str(script))
    assert (read["name"], read["rels"], read["is_file"]) == ("checkout", ["locustfile.py"], True)
    named = tmp_path / "cart" / "locustfile.py"
    named.parent.mkdir()
    named.write_text("pass\n")
    assert locust_plan.read_plan(str(named))["name"] == "cart"


@pytest.mark.parametrize(
    ("name", "why"),
    [("current", "not usable"), ("-x", "not usable"), ("", "no locustfile.py")],
)
def test_unusable_plans_are_refused_with_the_fix(plan: Path, name: str, why: str) -> None:
    if not name:
        (plan / "locustfile.py").unlink()
    with pytest.raises(locust_plan.PlanError, match=why):
        locust_plan.read_plan(str(plan), name)


def test_a_missing_plan_is_refused(tmp_path: Path) -> None:
    with pytest.raises(locust_plan.PlanError, match="not a folder or a file"):
        locust_plan.read_plan(str(tmp_path / "nothing"))


def test_the_idle_plan_keeps_its_reserved_name(plan: Path) -> None:
    assert locust_plan.read_plan(str(plan), "_idle", check_name=False)["name"] == "_idle"


def test_a_link_in_the_plan_is_refused_naming_it_not_left_out(plan: Path) -> None:
    (plan / "link.py").symlink_to(plan / "locustfile.py")
    with pytest.raises(locust_plan.PlanError, match=r"plan's link\.py is a symbolic link"):
        locust_plan.read_plan(str(plan))
    (plan / "link.py").unlink()
    (plan / "shared").symlink_to(plan / "data")
    with pytest.raises(locust_plan.PlanError, match=r"plan's shared is a symbolic link"):
        locust_plan.read_plan(str(plan))
    # excluded by name, it is not the plan's: no refusal
    read = locust_plan.read_plan(str(plan), exclude=[*locust_plan.DEFAULT_EXCLUDE, "shared"])
    assert read["rels"] == ["data/users.csv", "locustfile.py"]


@pytest.mark.parametrize("folder", ["node_modules", "venv"])
def test_a_virtualenv_or_node_modules_in_the_plan_is_refused(plan: Path, folder: str) -> None:
    (plan / folder / "lib").mkdir(parents=True)
    (plan / folder / "lib" / "x.js").write_text("")
    if folder == "venv":
        (plan / folder / "pyvenv.cfg").write_text("home = /usr/bin\n")
    with pytest.raises(locust_plan.PlanError, match=rf"holds {folder}/, a virtualenv"):
        locust_plan.read_plan(str(plan))
    read = locust_plan.read_plan(str(plan), exclude=[*locust_plan.DEFAULT_EXCLUDE, folder])
    assert read["rels"] == ["data/users.csv", "locustfile.py"]


def test_a_plan_beyond_the_fleets_limits_is_refused(plan: Path, monkeypatch) -> None:
    monkeypatch.setattr(locust_plan, "MAX_FILES", 1)
    with pytest.raises(locust_plan.PlanError, match="more than 1 files"):
        locust_plan.read_plan(str(plan))
