"""Every role's meta/argument_specs.yml documents exactly its defaults/main.yml.

Plain pytest, no hosts: reads the YAML files of roles/locust_{install,tuning,
testplan,worker,master}.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"
ROLES = ["locust_install", "locust_tuning", "locust_testplan", "locust_worker", "locust_master"]
# Declared by several roles so that each role runs alone; one value fleet-wide.
FLEET_WIDE = [
    "locust_user",
    "locust_group",
    "locust_base_dir",
    "locust_config_dir",
    "locust_data_dir",
    "locust_master_port",
    "locust_version",
    "locust_metrics_enabled",
    "locust_metrics_port",
    "locust_metrics_allowed_sources",
    "locust_metrics_plugin",
]


def defaults(role: str) -> dict:
    return yaml.safe_load((ROLES_DIR / role / "defaults" / "main.yml").read_text()) or {}


def options(role: str) -> dict:
    spec = yaml.safe_load((ROLES_DIR / role / "meta" / "argument_specs.yml").read_text())
    return spec["argument_specs"]["main"]["options"]


def templated(value) -> bool:
    return isinstance(value, str) and "{{" in value


@pytest.mark.parametrize("role", ROLES)
def test_spec_and_defaults_have_the_same_keys(role):
    missing_in_spec = sorted(set(defaults(role)) - set(options(role)))
    missing_in_defaults = sorted(set(options(role)) - set(defaults(role)))
    assert not missing_in_spec, (
        f"{role}: defaults without an argument spec entry: {missing_in_spec}"
    )
    assert not missing_in_defaults, (
        f"{role}: argument spec entries without a default: {missing_in_defaults}"
    )


@pytest.mark.parametrize("role", ROLES)
def test_spec_defaults_equal_the_plain_defaults(role):
    spec = options(role)
    for key, value in defaults(role).items():
        if templated(value):
            continue  # computed per host; the spec describes it in words or as the same expression
        assert spec[key].get("default") == value, (
            f"{role}: {key} defaults to {value!r}, spec says {spec[key].get('default')!r}"
        )


@pytest.mark.parametrize("role", ROLES)
def test_every_option_has_a_type_and_a_description(role):
    for key, option in options(role).items():
        assert option.get("type"), f"{role}: {key} has no type"
        assert option.get("description"), f"{role}: {key} has no description"
        if "choices" in option and not templated(defaults(role)[key]):
            assert defaults(role)[key] in option["choices"], (
                f"{role}: default of {key} is not among its choices"
            )


@pytest.mark.parametrize("role", ROLES)
def test_role_variables_carry_the_role_prefix_or_are_fleet_wide(role):
    for key in defaults(role):
        assert key.startswith(role + "_") or key in FLEET_WIDE, (
            f"{role}: {key} is neither {role}_* nor fleet-wide"
        )


@pytest.mark.parametrize("name", FLEET_WIDE)
def test_fleet_wide_variables_have_one_default_everywhere(name):
    seen = {role: defaults(role)[name] for role in ROLES if name in defaults(role)}
    assert seen, f"{name} is declared by no role"
    assert len({repr(v) for v in seen.values()}) == 1, (
        f"{name} defaults differ between roles: {seen}"
    )


@pytest.mark.parametrize("role", ROLES)
def test_role_has_a_readme_naming_every_variable(role):
    readme = ROLES_DIR / role / "README.md"
    assert readme.exists(), f"{role} has no README.md"
    text = readme.read_text()
    undocumented = [key for key in defaults(role) if f"`{key}`" not in text]
    assert not undocumented, f"{role}/README.md does not mention {undocumented}"


# ---- the run roles: one argument spec per entry point ----------------------------------------

RUN_ROLES = ["locust_run", "locust_ui"]


def entry_points(role: str) -> dict:
    spec = yaml.safe_load((ROLES_DIR / role / "meta" / "argument_specs.yml").read_text())
    return spec["argument_specs"]


def tasks_files(role: str) -> set[str]:
    return {p.stem for p in (ROLES_DIR / role / "tasks").glob("*.yml")}


@pytest.mark.parametrize("role", [*RUN_ROLES, "locust_common"])
def test_every_entry_point_has_a_task_file_and_its_options_a_type_and_description(role):
    for name, entry in entry_points(role).items():
        assert name in tasks_files(role), f"{role}: entry point {name} has no tasks/{name}.yml"
        assert entry.get("short_description"), f"{role}:{name} has no short_description"
        for key, option in (entry.get("options") or {}).items():
            assert option.get("type") and option.get("description"), f"{role}:{name}:{key}"


@pytest.mark.parametrize("role", RUN_ROLES)
def test_every_default_is_an_option_of_an_entry_point_with_the_same_default(role):
    options = {}
    for entry in entry_points(role).values():
        options.update(entry.get("options") or {})
    for key, value in defaults(role).items():
        assert key in options, f"{role}: {key} is in no entry point's spec"
        assert options[key].get("default") == value, f"{role}: {key} default differs from its spec"


def test_the_ui_shares_the_runs_defaults():
    run, ui = defaults("locust_run"), defaults("locust_ui")
    shared = set(run) & set(ui)
    assert {"locust_plan", "locust_run_claim_grace", "locust_base_dir"} <= shared
    assert {k: run[k] for k in shared} == {k: ui[k] for k in shared}


def test_the_internal_role_has_no_defaults_and_refuses_direct_use():
    assert not (ROLES_DIR / "locust_common" / "defaults").exists() or not defaults("locust_common")
    assert "fail" in (ROLES_DIR / "locust_common" / "tasks" / "main.yml").read_text()
