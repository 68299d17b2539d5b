"""fleet.locust.locust_directories on folders of its own: owners and modes set, and no link that
another user could have placed is followed (the test runs as root, as the module does)."""

from __future__ import annotations

import importlib.util
import os
import pwd
import stat
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "fleet_locust_directories", REPO / "collection/plugins/modules/locust_directories.py"
)
dirs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(dirs)

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="sets owners: needs root")
NOBODY = pwd.getpwnam("nobody")


def entry(path: Path, owner: str = "root", group: str = "root", mode: str = "0755") -> dict:
    return {"path": str(path), "owner": owner, "group": group, "mode": mode}


def test_missing_folders_are_made_with_their_owner_and_mode_then_left_alone(tmp_path: Path) -> None:
    data = tmp_path / "var" / "lib" / "locust"
    assert dirs.ensure(entry(data, "nobody", "nogroup", "0750")) is True
    st = data.stat()
    assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (NOBODY.pw_uid, 0o750)
    assert stat.S_IMODE((tmp_path / "var").stat().st_mode) == 0o755
    assert dirs.ensure(entry(data, "nobody", "nogroup", "0750")) is False
    data.chmod(0o777)
    assert dirs.ensure(entry(data, "nobody", "nogroup", "0750")) is True
    assert stat.S_IMODE(data.stat().st_mode) == 0o750


def test_check_mode_changes_nothing(tmp_path: Path) -> None:
    (tmp_path / "d").mkdir(mode=0o700)
    assert dirs.ensure(entry(tmp_path / "d"), check_mode=True) is True
    assert dirs.ensure(entry(tmp_path / "new" / "deeper"), check_mode=True) is True
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o700
    assert not (tmp_path / "new").exists()


def test_a_link_placed_by_another_user_is_refused_and_its_target_untouched(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, NOBODY.pw_uid, NOBODY.pw_gid)
    victim = tmp_path / "etc"
    victim.mkdir(mode=0o755)
    # the locust user swaps runs/ for a link to a root folder
    os.symlink(victim, data / "runs")
    os.lchown(data / "runs", NOBODY.pw_uid, NOBODY.pw_gid)
    with pytest.raises(dirs.Refused, match="runs is a symbolic link that root does not control"):
        dirs.ensure(entry(data / "runs", "nobody", "nogroup", "0750"))
    assert victim.stat().st_uid == 0 and stat.S_IMODE(victim.stat().st_mode) == 0o755


def test_a_root_link_in_a_folder_another_user_may_write_is_refused(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o777)
    (tmp_path / "real").mkdir()
    os.symlink(tmp_path / "real", shared / "state")
    with pytest.raises(dirs.Refused):
        dirs.ensure(entry(shared / "state"))


def test_a_root_link_in_a_root_only_folder_is_followed(tmp_path: Path) -> None:
    tmp_path.chmod(0o755)
    (tmp_path / "srv-opt").mkdir()
    os.symlink(tmp_path / "srv-opt", tmp_path / "opt")
    assert dirs.ensure(entry(tmp_path / "opt" / "locust", mode="0750")) is True
    assert stat.S_IMODE((tmp_path / "srv-opt" / "locust").stat().st_mode) == 0o750


def test_a_file_in_the_way_and_bad_entries_are_refused(tmp_path: Path) -> None:
    (tmp_path / "f").write_text("")
    with pytest.raises(dirs.Refused, match="not a folder"):
        dirs.ensure(entry(tmp_path / "f" / "x"))
    with pytest.raises(dirs.Refused, match="not an absolute path"):
        dirs.ensure(entry(Path("relative")))
    with pytest.raises(dirs.Refused, match="unknown user"):
        dirs.ensure(entry(tmp_path / "y", owner="no-such-user-here"))
    with pytest.raises(dirs.Refused, match="octal"):
        dirs.ensure(entry(tmp_path / "y", mode="rwx"))
