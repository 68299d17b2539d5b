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
