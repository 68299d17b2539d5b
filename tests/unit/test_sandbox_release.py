"""The sandbox's Debian release: one image per release, a sandbox keeps its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from locust_fleet.sandbox import lab, state
from locust_fleet.sandbox.errors import SandboxError
from locust_fleet.sandbox.image import RELEASES, ensure_image, recipe_hash
from locust_fleet.sandbox.lab import Sandbox


@pytest.fixture
def state_root(tmp_path, monkeypatch):
    monkeypatch.setattr(state, "STATE_ROOT", tmp_path)
    monkeypatch.setattr(lab, "STATE_ROOT", tmp_path)
    return tmp_path


def _sandbox(name: str = "t") -> Sandbox:
    return Sandbox(name, inventory=Path("/nonexistent/hosts.yml"), log=lambda _m: None)


def test_each_release_has_an_image_of_its_own():
    assert RELEASES == ("bookworm", "trixie")
    assert recipe_hash(release="trixie") != recipe_hash(release="bookworm")
    assert recipe_hash() == recipe_hash(release="bookworm")


def test_an_unknown_release_is_refused_naming_the_ones_there_are(tmp_path):
    with pytest.raises(SandboxError, match=r"'jammy' is not one .*bookworm, trixie"):
        ensure_image(tmp_path, log=lambda _m: None, release="jammy")
    assert not any(tmp_path.iterdir())  # nothing was built


def test_a_new_sandbox_boots_the_release_asked_for_else_bookworm(state_root):
    assert _sandbox()._state_for_up().release == "bookworm"
    assert _sandbox()._state_for_up("trixie").release == "trixie"


def test_a_sandbox_keeps_its_release_and_refuses_another(state_root):
    first = _sandbox()._state_for_up("trixie")
    first.save()
    assert _sandbox()._state_for_up().release == "trixie"  # `up` again needs no --release
    with pytest.raises(SandboxError, match=r"runs Debian trixie; run `locust-fleet sandbox down"):
        _sandbox()._state_for_up("bookworm")


def test_a_state_written_before_releases_reads_as_bookworm(state_root):
    (state_root / "t").mkdir()
    (state_root / "t" / "state.json").write_text(
        '{"name": "t", "subnet": "10.9.9.0/24", "bridge": "lfbr-t", "hosts": []}'
    )
    assert state.SandboxState.load("t").release == "bookworm"
