"""fleet.locust.locust_files on files of its own: contents, owners and modes installed in one call,
a matching file left alone, a failing check installs nothing, and a link is replaced, not followed
(the test runs as root, as the module does)."""

from __future__ import annotations

import importlib
import os
import pwd
import stat
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
files = importlib.import_module("ansible_collections.fleet.locust.plugins.modules.locust_files")

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="sets owners: needs root")
NOBODY = pwd.getpwnam("nobody")


def install(entries: list[dict], check_mode: bool = False) -> tuple[list[str], list[dict]]:
    changed: list[str] = []
    diffs: list[dict] = []
    files.install_all(entries, changed, diffs, check_mode)
    return changed, diffs


def test_files_are_written_with_owner_and_mode_then_left_alone(tmp_path: Path) -> None:
    unit, script = tmp_path / "a.service", tmp_path / "hook.py"
    entries = [
        {"path": str(unit), "content": "[Unit]\n"},
        {"path": str(script), "content": "print()\n", "owner": "nobody", "mode": "0755"},
    ]
    changed, diffs = install(entries)
    assert changed == [str(unit), str(script)]
    assert unit.read_text() == "[Unit]\n" and stat.S_IMODE(unit.stat().st_mode) == 0o644
    assert (script.stat().st_uid, stat.S_IMODE(script.stat().st_mode)) == (NOBODY.pw_uid, 0o755)
    assert diffs[0] == {
        "before_header": str(unit),
        "after_header": str(unit),
        "before": "",
        "after": "[Unit]\n",
    }
    assert install(entries) == ([], [])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.service", "hook.py"]  # no temp left


def test_a_mode_or_owner_drift_is_set_back_without_rewriting(tmp_path: Path) -> None:
    unit = tmp_path / "a.service"
    install([{"path": str(unit), "content": "x\n"}])
    inode = unit.stat().st_ino
    unit.chmod(0o666)
    changed, diffs = install([{"path": str(unit), "content": "x\n"}])
    assert changed == [str(unit)] and diffs == []
    assert stat.S_IMODE(unit.stat().st_mode) == 0o644 and unit.stat().st_ino == inode


def test_check_mode_reports_without_writing(tmp_path: Path) -> None:
    unit = tmp_path / "a.service"
    unit.write_text("old\n")
    changed, diffs = install([{"path": str(unit), "content": "new\n"}], check_mode=True)
    assert changed == [str(unit)] and diffs[0]["before"] == "old\n" and diffs[0]["after"] == "new\n"
    assert unit.read_text() == "old\n"


def test_a_failing_check_installs_nothing_and_says_why(tmp_path: Path) -> None:
    table = tmp_path / "locust.nft"
    table.write_text("good\n")
    entry = {"path": str(table), "content": "bad\n", "validate": "grep -q good %s"}
    with pytest.raises(files.Refused, match=r"fails 'grep -q good %s'.*not installed"):
        install([entry])
    assert table.read_text() == "good\n"
    assert [p.name for p in tmp_path.iterdir()] == ["locust.nft"]
    changed, _ = install([{**entry, "content": "good too\n"}])
    assert changed == [str(table)] and table.read_text() == "good too\n"


def test_a_link_at_the_path_is_replaced_never_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    link = tmp_path / "a.service"
    link.symlink_to(victim)
    install([{"path": str(link), "content": "unit\n"}])
    assert not link.is_symlink() and link.read_text() == "unit\n"
    assert victim.read_text() == "keep\n"


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"path": "relative.conf", "content": ""}, "absolute path"),
        ({"path": "/nowhere/at/all.conf", "content": ""}, "folder /nowhere/at does not exist"),
        ({"path": "/tmp/x.conf", "content": "", "mode": "rw"}, "not an octal string"),
        ({"path": "/tmp/x.conf", "content": "", "owner": "no-such-user"}, "no user"),
        ({"path": "/tmp/x.conf", "content": "", "validate": "nft -c -f"}, "needs %s"),
        ({"path": "/tmp/x.conf", "content": 3}, "content must be text"),
    ],
)
def test_bad_entries_are_refused_by_name(entry: dict, message: str) -> None:
    with pytest.raises(files.Refused, match=message):
        install([entry])
