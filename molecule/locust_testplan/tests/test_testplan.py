"""locust_testplan: the plan on the host equals the controller's, by sha256."""

import hashlib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
import checks

testinfra_hosts = checks.hosts("all")

PLAN = checks.PROJECT / "molecule" / "shared" / "plan"
HOST_PLAN = "/opt/locust/plans/plan"


def controller_hashes() -> dict[str, str]:
    return {
        str(p.relative_to(PLAN)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(PLAN.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts and not p.name.startswith(".")
    }


def test_every_plan_file_matches_the_controller(host):
    wanted = controller_hashes()
    assert "locustfile.py" in wanted and "paths.csv" in wanted
    for rel, digest in wanted.items():
        f = host.file(f"{HOST_PLAN}/{rel}")
        assert f.sha256sum == digest, rel
        assert (f.user, f.group, f.mode) == ("root", "locust", 0o640), rel


def test_manifest_lists_every_file_and_sha256sum_accepts_it(host):
    manifest = host.file("/opt/locust/plans/plan.sha256").content_string
    entries = dict(reversed(line.split("  ", 1)) for line in manifest.splitlines())
    assert entries == controller_hashes()
    host.check_output(f"cd {HOST_PLAN} && sha256sum --check --strict --quiet ../plan.sha256")


def test_plan_is_current_and_readable_by_the_locust_user_only(host):
    current = host.file("/opt/locust/plans/current")
    assert current.is_symlink and current.linked_to == HOST_PLAN
    folder = host.file(HOST_PLAN)
    assert (folder.user, folder.group, folder.mode) == ("root", "locust", 0o750)
    assert host.run("runuser -u locust -- cat /opt/locust/plans/current/paths.csv").rc == 0
    assert host.run("runuser -u nobody -- cat /opt/locust/plans/current/paths.csv").rc != 0


def test_files_that_left_the_plan_are_removed(host):
    # side_effect put stray.txt into the plan folder and shipped the plan again.
    assert not host.file(f"{HOST_PLAN}/stray.txt").exists


def test_plan_folder_holds_no_byte_code(host):
    assert not host.file(f"{HOST_PLAN}/__pycache__").exists
