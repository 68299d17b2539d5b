"""What a run may write into Locust's config, and the fleet's numeric settings: every value
the check lets through reads back from a real Locust config file exactly as given, and
every value it refuses would not have."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from locust.argument_parser import get_parser

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "collections"))  # ansible_collections.fleet.locust
inputs = importlib.import_module(
    "ansible_collections.fleet.locust.plugins.plugin_utils.locust_run_inputs"
)

CARRIED = [
    "http://10.213.7.20:8080/",
    "https://example.test/path?q=1&r=#frag",
    "a#b",
    "semi;colon",
    "it's",
    '"quoted" in the middle',
    "back\\slash and $HOME and `tick`",
    "[not-a-list",
    "ünïcode",
    "",
]
REFUSED = [
    ("1\nmaster-bind-port = 1", "holds a line break"),
    ("x\ry", "holds a carriage return"),
    (" padded", "starts or ends with a space"),
    ("padded ", "starts or ends with a space"),
    ("'quoted'", "wrapped in quotes"),
    ('"quoted"', "wrapped in quotes"),
    ("value # comment", "a space followed by '#'"),
    ("value ;comment", "a space followed by '#' or ';'"),
    ("[a, b]", "in brackets"),
]


def locust_reads(tmp_path: Path, line: str):
    """The options Locust's own parser reads from a config file holding ``line``."""
    conf = tmp_path / "master.conf"
    conf.write_text(f"{line}\nmaster = true\n", encoding="utf-8")
    return get_parser(default_config_files=[]).parse_args(["--config", str(conf)])


def read_back(tmp_path: Path, value: str):
    """The host Locust reads for ``value``; None when Locust refuses the file."""
    try:
        return locust_reads(tmp_path, f"host = {value}").host
    except SystemExit:
        return None


@pytest.mark.parametrize("value", CARRIED)
def test_a_value_the_check_lets_through_reads_back_as_given(tmp_path, value):
    assert inputs.config_value_problem(value) is None
    if value:  # an empty value is not written (the templates leave the line out)
        assert read_back(tmp_path, value) == value


@pytest.mark.parametrize(("value", "why"), REFUSED)
def test_a_value_the_check_refuses_would_not_read_back(tmp_path, value, why):
    assert why in inputs.config_value_problem(value)
    assert read_back(tmp_path, value) != value


@pytest.mark.parametrize(
    ("item", "why"),
    [
        ("a,b", "holds ','"),
        ("[x]", "holds '[', ']'"),
        ("", "is empty"),
        (" a", "space"),
        ('"a', "holds '\"'"),
    ],
)
def test_a_tag_a_list_cannot_carry_is_refused(item, why):
    assert why in inputs.config_value_problem(item, list_item=True)


def test_tags_the_check_lets_through_read_back_as_a_list(tmp_path):
    tags = ["checkout", "slow-path", "v2.1", "a_b", "ünï"]
    assert all(inputs.config_value_problem(tag, list_item=True) is None for tag in tags)
    assert locust_reads(tmp_path, f"tags = [{', '.join(tags)}]").tags == tags


def test_every_problem_is_named_by_its_variable():
    problems = inputs.check_config_values(
        {"locust_target_url": "http://t/\nhost = x", "locust_plan": "/plans/web"},
        {"locust_tags": ["ok", "a,b"]},
    )
    assert problems == [
        "locust_target_url holds a line break",
        "locust_tags: the item 'a,b' holds ',', which a list in Locust's config cannot carry",
    ]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("locust_run_heartbeat_liveness", "0", "give a whole number of 1 or more"),
        ("locust_run_grace", "-5", "locust_run_grace is '-5'; give a whole number of 0 or more"),
        ("locust_run_stop_timeout", "1.5", "a whole number"),
        ("locust_run_cpu_sample_interval", "nan", "give a number of 0.1 or more"),
        ("locust_run_max_clock_offset", "abc", "e.g. -e locust_run_max_clock_offset=500"),
        ("locust_run_min_free_mb", "inf", "locust_run_min_free_mb is 'inf'"),
    ],
)
def test_a_setting_out_of_its_range_is_refused_naming_it(name, value, message):
    (problem,) = inputs.check_settings({name: value})
    assert message in problem


def test_settings_in_range_and_settings_not_used_pass():
    assert (
        inputs.check_settings(
            {
                "locust_run_heartbeat_liveness": "10",
                "locust_run_grace": 0,
                "locust_run_cpu_sample_interval": "0.5",
                "locust_run_max_clock_offset": "0",
                "locust_run_progress_interval": None,
            }
        )
        == []
    )
