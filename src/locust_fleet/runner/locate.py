"""Where the playbooks are: this checkout, or the installed `fleet.locust` collection."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

COLLECTION = "fleet.locust"


@dataclass(frozen=True)
class ContentLocation:
    checkout: Path | None  # the repository root when running from a checkout

    def playbook(self, name: str) -> str:
        """A playbook by path in a checkout, else by the collection's FQCN."""
        if self.checkout is not None:
            return str(self.checkout / "playbooks" / f"{name}.yml")
        return f"{COLLECTION}.{name}"

    @property
    def ansible_cfg(self) -> Path | None:
        if self.checkout is None:
            return None
        cfg = self.checkout / "ansible.cfg"
        return cfg if cfg.exists() else None


def locate_content(start: Path | None = None) -> ContentLocation:
    root = (start or Path(__file__)).resolve()
    for candidate in [root, *root.parents]:
        if (candidate / "playbooks" / "run_test.yml").exists() and (candidate / "roles").is_dir():
            return ContentLocation(candidate)
    return ContentLocation(None)
