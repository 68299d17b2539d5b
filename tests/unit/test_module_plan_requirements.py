"""fleet.locust.locust_plan_requirements: a plan's exact pins, checked against the hosts'
virtualenv (read from its dist-info metadata) without ever changing a package of Locust's."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location(
    "fleet_locust_plan_requirements",
    REPO / "collection/plugins/modules/locust_plan_requirements.py",
)
req = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(req)


def dist(site: Path, name: str, version: str, *requires: str) -> None:
    folder = site / f"{name.replace('-', '_')}-{version}.dist-info"
    folder.mkdir()
    lines = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    lines += [f"Requires-Dist: {r}" for r in requires]
    (folder / "METADATA").write_text("\n".join(lines) + "\n\nLong description: Name: not-me\n")


@pytest.fixture
def venv(tmp_path: Path) -> Path:
    """Locust and its tree, a package locust_install put beside it, and one an earlier plan
    brought (recorded)."""
    site = tmp_path / "lib" / "python3.13" / "site-packages"
    site.mkdir(parents=True)
    dist(site, "locust", "2.43.0", "requests>=2.26", "Flask>=2", "pytest; extra == 'test'")
    dist(site, "requests", "2.34.2", "urllib3<3,>=1.21", "PySocks!=1.5.7; extra == 'socks'")
    dist(site, "urllib3", "2.5.0")
    dist(site, "Flask", "3.1.0")
    dist(site, "prometheus_client", "0.26.0")
    dist(site, "inflection", "0.5.1")
    dist(site, "pip", "25.0")
    (tmp_path / req.RECORD).write_text("inflection\n")
    return tmp_path


def test_exact_pins_are_read_with_comments_extras_and_pep503_names() -> None:
    text = "# the plan's packages\n\nFaker==30.8.2  # test data\nPy_JWT[crypto] == 2.10.1\n"
    assert req.parse_pins(text) == [
        ("faker", "30.8.2", "Faker==30.8.2"),
        ("py-jwt", "2.10.1", "Py_JWT[crypto]==2.10.1"),
    ]


@pytest.mark.parametrize(
    ("text", "said"),
    [
        ("Faker>=30\n", "line 1: 'Faker>=30' is not an exact pin"),
        ("\n-r other.txt\n", "line 2: '-r other.txt' is not an exact pin"),
        ("faker==30; python_version>'3'\n", "is not an exact pin"),
        ("https://example.invalid/faker.whl\n", "is not an exact pin"),
        ("Locust==2.43.0\n", "pins Locust itself"),
        ("faker==30\nFaker==31\n", "line 2: Faker is pinned twice (line 1 too)"),
    ],
)
def test_anything_but_one_exact_pin_a_line_is_refused_naming_the_line(text, said) -> None:
    with pytest.raises(req.RequirementsError) as caught:
        req.parse_pins(text)
    assert said in str(caught.value)


def test_the_installed_tree_comes_from_metadata_headers_without_extras(venv) -> None:
    dists = req.installed(str(venv))
    assert dists["locust"] == ("2.43.0", ["requests", "flask"])
    assert dists["requests"] == ("2.34.2", ["urllib3"])
    assert "not-me" not in dists
    assert req.tree(dists, ["locust"]) == {"locust", "requests", "urllib3", "flask"}


def test_a_pin_that_would_replace_a_package_of_locusts_tree_is_refused_with_the_fix(venv):
    dists, owned = req.installed(str(venv)), req.owned(str(venv))
    said = req.conflicts(req.parse_pins("urllib3==1.26.20\n"), dists, owned)
    assert said == [
        "urllib3==1.26.20 would replace urllib3 2.5.0, which Locust 2.43.0 depends on; remove "
        "urllib3 from requirements.txt (the plan then imports the virtualenv's urllib3 2.5.0) "
        "or pin urllib3==2.5.0"
    ]
    beside = req.conflicts(req.parse_pins("prometheus-client==0.20.0\n"), dists, owned)
    assert "which locust_install put beside Locust 2.43.0" in beside[0]
    assert req.conflicts(req.parse_pins("requests==2.34.2\n"), dists, owned) == []


def test_a_changed_pin_of_a_plan_package_is_missing_and_is_not_a_conflict(venv) -> None:
    dists, owned = req.installed(str(venv)), req.owned(str(venv))
    pins = req.parse_pins("inflection==0.5.0\n")
    assert req.conflicts(pins, dists, owned) == []
    assert req.reconcile(pins, dists, owned) == (["inflection==0.5.0"], [])


def test_packages_only_earlier_plans_needed_are_stale_and_the_fleets_never_are(venv) -> None:
    dists, owned = req.installed(str(venv)), req.owned(str(venv))
    assert req.reconcile([], dists, owned) == ([], ["inflection"])
    assert req.reconcile(req.parse_pins("inflection==0.5.1\n"), dists, owned) == ([], [])
    # Nothing recorded as a plan's: nothing is ever removed, whatever the venv holds.
    assert req.reconcile([], dists, set()) == ([], [])


def test_the_same_pins_in_any_order_have_one_digest() -> None:
    one = req.pins_sha256(req.parse_pins("a==1\nB==2\n"))
    assert one == req.pins_sha256(req.parse_pins("b==2\nA==1\n"))
    assert one != req.pins_sha256(req.parse_pins("a==1\nb==3\n"))
    assert req.pins_sha256([]) == ""
