"""A sandbox takes only a private /24: on any other range its hosts would stand in for
real machines of that range on this machine."""

from __future__ import annotations

from pathlib import Path

import pytest

from locust_fleet.sandbox import lab, state
from locust_fleet.sandbox.errors import SandboxError
from locust_fleet.sandbox.lab import Sandbox


@pytest.fixture
def state_root(tmp_path, monkeypatch):
    monkeypatch.setattr(state, "STATE_ROOT", tmp_path)
    monkeypatch.setattr(lab, "STATE_ROOT", tmp_path)
    return tmp_path


def _state(subnet: str):
    sandbox = Sandbox("t", subnet=subnet, inventory=Path("/nonexistent/h.yml"), log=print)
    return sandbox._state_for_up()


@pytest.mark.parametrize("subnet", ["8.8.8.0/24", "192.0.2.0/24", "100.64.1.0/24", "1.1.1.0/24"])
def test_a_subnet_outside_the_private_ranges_is_refused_before_anything(state_root, subnet):
    with pytest.raises(SandboxError, match=rf"--subnet {subnet} is not a private network"):
        _state(subnet)
    assert not any(state_root.iterdir())  # no state written


@pytest.mark.parametrize("subnet", ["10.213.90.0/24", "172.16.5.0/24", "192.168.77.0/24"])
def test_a_private_subnet_is_taken(state_root, subnet):
    assert _state(subnet).subnet == subnet
