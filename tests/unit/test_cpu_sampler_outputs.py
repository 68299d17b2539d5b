"""The sampler runs as root and writes into the run's folder, which the locust user owns:
it never writes through a link placed there (the file, or a folder on the way)."""

from __future__ import annotations

from pathlib import Path

import pytest

from .test_cpu_sampler_limits import _sampler


@pytest.fixture
def run_dir(tmp_path: Path) -> Path:
    tmp_path.chmod(0o755)
    folder = tmp_path / "runs" / "r1"
    folder.mkdir(parents=True)
    (tmp_path / "runs").chmod(0o777)  # the locust user's, as root sees it
    return folder


def test_a_sample_file_is_appended_to(run_dir: Path) -> None:
    with _sampler().open_output(str(run_dir / "cpu-w1.csv")) as out:
        out.write("a\n")
    with _sampler().open_output(str(run_dir / "cpu-w1.csv")) as out:
        out.write("b\n")
    assert (run_dir / "cpu-w1.csv").read_text() == "a\nb\n"


def test_a_link_planted_at_the_sample_file_is_not_written_through(
    run_dir: Path, tmp_path: Path
) -> None:
    precious = tmp_path / "shadow"
    precious.write_text("root:secret\n")
    (run_dir / "cpu-w1.csv").symlink_to(precious)
    with pytest.raises(SystemExit, match="not writing"):
        _sampler().open_output(str(run_dir / "cpu-w1.csv"))
    assert precious.read_text() == "root:secret\n"


def test_a_run_folder_swapped_for_a_link_is_not_written_through(
    run_dir: Path, tmp_path: Path
) -> None:
    etc = tmp_path / "etc"
    etc.mkdir()
    run_dir.rename(tmp_path / "moved")
    run_dir.symlink_to(etc)
    with pytest.raises(SystemExit, match="not writing"):
        _sampler().open_output(str(run_dir / "cpu-w1.csv"))
    assert list(etc.iterdir()) == []


def test_a_hard_link_is_not_written_through(run_dir: Path, tmp_path: Path) -> None:
    precious = tmp_path / "passwd"
    precious.write_text("root:x\n")
    (run_dir / "cpu-w1.csv").hardlink_to(precious)
    with pytest.raises(SystemExit, match="one link"):
        _sampler().open_output(str(run_dir / "cpu-w1.csv"))
    assert precious.read_text() == "root:x\n"
