"""locust-fleet: a distributed Locust load-testing fleet driven by Ansible."""

__version__ = "0.1.0"
