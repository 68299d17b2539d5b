"""The CLI's own surface: help with examples, version, usage errors exit 2."""

from __future__ import annotations

import pytest

from locust_fleet import __version__
from locust_fleet.cli import main


def test_help_lists_the_verbs_and_examples(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "sandbox" in out
    assert "examples:" in out


def test_version(capsys):
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"locust-fleet {__version__}"


def test_unknown_verb_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["fly"])
    assert exit_info.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["--max-clock-offset", "--min-free-mb"])
@pytest.mark.parametrize("value", ["-1", "abc", "nan"])
def test_a_bad_preflight_limit_is_refused_before_anything_runs(capsys, tmp_path, flag, value):
    args = ["-i", str(tmp_path / "hosts.yml"), "--plan", str(tmp_path), "-u", "1", "-r", "1"]
    code = main(["run", *args, "-t", "5s", flag, value])
    assert code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert flag in err and "0 or more" in err


@pytest.mark.parametrize("value", ["-1", "nan", "inf", "abc"])
def test_a_bad_compare_threshold_is_a_usage_error(capsys, tmp_path, value):
    with pytest.raises(SystemExit) as exit_info:
        main(["compare", str(tmp_path / "a"), str(tmp_path / "b"), "--threshold", value])
    assert exit_info.value.code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "--threshold" in err and "is not a fraction 0 or more" in err


@pytest.mark.parametrize("value", ["abc", "0", "70000"])
def test_a_bad_ui_port_is_refused_before_anything_runs(capsys, tmp_path, value):
    code = main(["ui", "-i", str(tmp_path / "hosts.yml"), "-e", f"locust_ui_port={value}"])
    assert code == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "locust_ui_port" in err and "must be a TCP port (1-65535)" in err
