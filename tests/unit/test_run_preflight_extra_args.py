"""The controller preflight's check of a plan's extra arguments (locust_extra_args, --arg):
they cannot override an option the fleet sets itself (their values are checked with the
config's other values: test_run_inputs.py)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from ansible.errors import AnsibleActionFail

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "collections"))  # ansible_collections.fleet.locust
preflight = importlib.import_module(
    "ansible_collections.fleet.locust.plugins.action.locust_run_preflight"
)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"run-time": "1h"}, "'run-time' is set by the fleet itself (from -t / locust_run_time)"),
        ({"--users": "9"}, "'users' is set by the fleet itself"),
        ({"spawn_rate": "9"}, "'spawn-rate' is set by the fleet itself"),
        ({"csv": "/etc/x"}, "'csv' is set by the fleet itself"),
        ({"web-port": "22"}, "'web-port' is set by the fleet itself (from locust_ui_port)"),
        ({"product id": "1"}, "'product id' is not an option name"),
    ],
)
def test_extra_args_that_cross_into_the_fleets_options_are_refused(args, message):
    with pytest.raises(AnsibleActionFail, match=message.replace("(", r"\(").replace(")", r"\)")):
        preflight.check_extra_args(args)


def test_a_plans_own_arguments_pass():
    preflight.check_extra_args({"product-id": "42", "--think_time": 1.5, "empty": None})


def test_a_line_break_in_an_extra_argument_is_refused_naming_it():
    args = {
        "target_url": "",
        "plan": "/plans/web",
        "extra_args": {"product-id": "1\nmaster-bind-port = 1"},
        "config_values": {},
        "tags": [],
        "exclude_tags": [],
        "settings": {},
    }
    with pytest.raises(AnsibleActionFail, match=r"locust_extra_args\[product-id\] holds a line"):
        preflight.check_written_values(args)
