"""Each host module's DOCUMENTATION matches its argument_spec, option by option."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
MODULES = [
    "locust_host_facts",
    "locust_run_claim",
    "locust_run_progress",
    "locust_run_collect",
    "locust_run_state",
    "locust_run_prepare",
    "locust_plan_requirements",
]


class Captured(Exception):
    pass


def argument_spec(name: str, monkeypatch: pytest.MonkeyPatch) -> tuple[object, dict]:
    spec = importlib.util.spec_from_file_location(
        f"fleet_locust_docs_{name}", REPO / f"collection/plugins/modules/{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    seen = {}

    def capture(argument_spec, **kwargs):
        seen.update(argument_spec=argument_spec, **kwargs)
        raise Captured

    monkeypatch.setattr(module, "AnsibleModule", capture)
    with pytest.raises(Captured):
        module.main()
    return module, seen


@pytest.mark.parametrize("name", MODULES)
def test_documentation_matches_the_argument_spec(name: str, monkeypatch) -> None:
    module, seen = argument_spec(name, monkeypatch)
    doc = yaml.safe_load(module.DOCUMENTATION)
    assert doc["module"] == name
    yaml.safe_load(module.EXAMPLES)
    assert yaml.safe_load(module.RETURN)
    documented = doc["options"]
    spec = seen["argument_spec"]
    assert set(documented) == set(spec)
    for option, rules in spec.items():
        docs = documented[option]
        assert docs.get("type", "str") == rules.get("type", "str"), option
        assert bool(docs.get("required")) == bool(rules.get("required")), option
        assert docs.get("default") == rules.get("default"), option
        assert docs.get("choices") == rules.get("choices"), option
    assert seen.get("supports_check_mode") is True
