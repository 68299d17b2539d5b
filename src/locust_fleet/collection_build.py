"""Build the `fleet.locust` collection tarball from this checkout.

    python -m locust_fleet.collection_build [--output DIR]

Assembles build/collection/ from collection/ (galaxy.yml, meta, plugins), roles/
and playbooks/, then runs `ansible-galaxy collection build` into DIR (default dist/).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

from .runner.locate import locate_content

PLAYBOOKS = (
    "site",
    "run_test",
    "start_run",
    "attach",
    "status",
    "stop",
    "teardown",
    "ui",
    "ui_stop",
)


def assemble(checkout: Path, staging: Path) -> Path:
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    source = checkout / "collection"
    for item in ("galaxy.yml", "CHANGELOG.md", "meta", "plugins"):
        src = source / item
        (shutil.copytree if src.is_dir() else shutil.copy2)(src, staging / item)
    shutil.copytree(
        checkout / "roles", staging / "roles", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    (staging / "playbooks").mkdir()
    for name in PLAYBOOKS:
        shutil.copy2(checkout / "playbooks" / f"{name}.yml", staging / "playbooks")
    shutil.copy2(checkout / "README.md", staging / "README.md")
    return staging


def build(output: Path) -> Path:
    content = locate_content()
    if content.checkout is None:
        raise SystemExit("run this from a locust-fleet checkout (roles/ and playbooks/ beside it)")
    staging = assemble(content.checkout, content.checkout / "build" / "collection")
    output.mkdir(parents=True, exist_ok=True)
    galaxy = Path(sys.executable).parent / "ansible-galaxy"
    proc = subprocess.run(
        [str(galaxy), "collection", "build", str(staging), "--output-path", str(output), "--force"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"ansible-galaxy collection build failed: {proc.stderr or proc.stdout}")
    (tarball,) = sorted(output.glob("fleet-locust-*.tar.gz"))[-1:]
    return tarball


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--output", type=Path, default=Path("dist"))
    args = parser.parse_args()
    print(build(args.output.resolve()))


if __name__ == "__main__":
    main()
