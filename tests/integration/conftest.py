"""One sandbox for the whole integration session: booted once, removed at the end."""

from __future__ import annotations

import os

import pytest

from .browser import browser  # noqa: F401  (a fixture for test_ui and test_metrics)
from .sandbox_hosts import SandboxHosts

# The Debian release the session sandbox boots (make integration-trixie sets trixie);
# each release has a sandbox of its own, so the two never share hosts or state.
RELEASE = os.environ.get("LOCUST_FLEET_SANDBOX_RELEASE") or "bookworm"
# LOCUST_FLEET_SANDBOX_NAME gives a session a sandbox of its own (two checkouts testing
# side by side on one machine).
SESSION_SANDBOX = (
    os.environ.get("LOCUST_FLEET_SANDBOX_NAME") or {"bookworm": "it", "trixie": "itx"}[RELEASE]
)


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory: pytest.TempPathFactory):
    if os.geteuid() != 0:
        pytest.fail("integration tests boot the sandbox and need root: run `make test` as root")
    inventory = tmp_path_factory.mktemp("inventory") / "hosts.yml"
    # Fresh hosts: a session sandbox left by an interrupted run still holds that run's
    # state (run ids, plans, units), which the tests' fixed run ids would collide with.
    SandboxHosts.remove_leftover(SESSION_SANDBOX, inventory)
    hosts = SandboxHosts.up(SESSION_SANDBOX, workers=2, inventory=inventory, release=RELEASE)
    yield hosts
    down = hosts.down()
    assert down.returncode == 0, down.stderr


@pytest.fixture(scope="session")
def fleet(sandbox):
    """The session sandbox provisioned by playbooks/site.yml with the website plan."""
    proc = sandbox.playbook("playbooks/site.yml", "-e", "locust_testplan_src=locustfiles/website")
    assert proc.returncode == 0, proc.stdout[-4000:]
    return sandbox
