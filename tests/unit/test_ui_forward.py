"""The SSH forward of `locust-fleet ui`: the master as the inventory describes it, and the
ssh command line (loopback on both ends, the inventory's key, user, port and options)."""

from __future__ import annotations

from pathlib import Path

import pytest

from locust_fleet.ui import Forward, ForwardError, SshTarget, master_ssh_target

INVENTORY = """\
all:
  vars:
    ansible_user: deploy
    ansible_ssh_private_key_file: /keys/fleet
    ansible_ssh_common_args: -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null
  children:
    locust_master:
      hosts:
        m1:
          ansible_host: 10.1.2.3
          ansible_port: 2222
    locust_workers:
      hosts:
        w1:
          ansible_host: 10.1.2.4
"""


def test_master_is_read_from_the_inventory(tmp_path: Path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(INVENTORY)
    target = master_ssh_target(inventory)
    assert target == SshTarget(
        name="m1",
        address="10.1.2.3",
        user="deploy",
        port=2222,
        key="/keys/fleet",
        options=("-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null"),
    )


def test_an_inventory_without_exactly_one_master_is_refused(tmp_path: Path):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(INVENTORY.replace("        m1:\n", "        m0:\n        m1:\n"))
    with pytest.raises(ForwardError, match="exactly one host in group locust_master"):
        master_ssh_target(inventory)


def test_forward_command_keeps_both_ends_on_loopback():
    target = SshTarget("m1", "10.1.2.3", "deploy", 2222, "/keys/fleet", ("-o", "A=b"))
    forward = Forward(target, local_port=40123, remote_port=8089)
    command = forward.command()
    assert command[:2] == ["ssh", "-N"]
    assert command[command.index("-L") + 1] == "127.0.0.1:40123:127.0.0.1:8089"
    assert command[command.index("-i") + 1] == "/keys/fleet"
    assert command[command.index("-p") + 1] == "2222"
    assert "ExitOnForwardFailure=yes" in command and "BatchMode=yes" in command
    # the destination after "--": a host named "-oProxyCommand=..." is not an option
    assert command[-4:] == ["-o", "A=b", "--", "deploy@10.1.2.3"]
    assert forward.url == "http://127.0.0.1:40123/"


def test_a_forward_that_cannot_start_says_why(tmp_path: Path):
    target = SshTarget("m1", "10.1.2.3", None, None, None, ("-o", "ProxyCommand=false"))
    forward = Forward(target, local_port=40124)
    with pytest.raises(ForwardError, match="ssh to m1"):
        forward.open(timeout=30)
    assert forward.process is None
