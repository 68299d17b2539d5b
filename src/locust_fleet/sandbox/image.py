"""The sandbox's Debian images: built once with debootstrap, cached by the hash of their recipe.

The recipe is the suite, the package list, the files shipped in `files/`, the
texts below and the source of `_customise`: change any of them and the next
`sandbox up` builds anew. The monitoring host boots an image of its own, the
same recipe plus `MONITOR_PACKAGES` (Debian's Prometheus) and `_customise_monitor`,
built only when a sandbox asks for that host: the other hosts' image, and its
hash, stay as they are.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import shutil
import time
from pathlib import Path

from ..shell import CommandError, run
from .errors import SandboxError

# The Debian releases the sandbox builds hosts from (sandbox up --release); the roles'
# meta/main.yml lists exactly these, as they are what the tests run on.
RELEASES = ("bookworm", "trixie")
DEFAULT_RELEASE = "bookworm"
PACKAGES = (
    "systemd",
    "systemd-sysv",
    "dbus",
    "libpam-systemd",
    "python3",
    "python3-venv",
    "openssh-server",
    "iproute2",
    "nftables",
    "nginx",
    "curl",
    "netcat-openbsd",
    "procps",
    "iputils-ping",
    "ca-certificates",
    "less",
)
# The monitoring host's image adds these (sandbox up --monitoring).
MONITOR_PACKAGES = ("prometheus",)
FILES_DIR = Path(__file__).with_name("files")
DEFAULT_CACHE = Path("/var/cache/locust-fleet/images")

SSHD_CONFIG = """\
# Sandbox sshd: key-only root login, no DNS lookups, room for Ansible's forks.
PermitRootLogin prohibit-password
PasswordAuthentication no
UseDNS no
MaxStartups 200
MaxSessions 100
"""

PAGES = {
    "index.html": "<html><head><title>Sandbox shop</title></head>"
    "<body><h1>Welcome</h1><a href='/about'>About</a></body></html>\n",
    "about.html": "<html><head><title>About</title></head>"
    "<body><h1>About us</h1><p>A target for locust-fleet.</p></body></html>\n",
    "big.html": "<html><body>" + "<p>payload</p>" * 4000 + "</body></html>\n",
}


def recipe_hash(extra_packages: tuple[str, ...] = (), release: str = DEFAULT_RELEASE) -> str:
    """A short hash of everything that decides the image's content."""
    digest = hashlib.sha256()
    digest.update(release.encode())
    digest.update(",".join(PACKAGES).encode())
    digest.update(SSHD_CONFIG.encode())
    digest.update(json.dumps(PAGES, sort_keys=True).encode())
    digest.update(inspect.getsource(_customise).encode())
    for path in sorted(FILES_DIR.iterdir()):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    if extra_packages:  # the base image's hash is the same as before monitoring existed
        digest.update(("+" + ",".join(extra_packages)).encode())
        digest.update(inspect.getsource(_customise_monitor).encode())
    return digest.hexdigest()[:16]


def ensure_image(
    cache_root: Path = DEFAULT_CACHE,
    log=print,
    extra_packages: tuple[str, ...] = (),
    release: str = DEFAULT_RELEASE,
) -> Path:
    """Return the cached rootfs of `release` for the current recipe (plus `extra_packages`,
    e.g. MONITOR_PACKAGES), building it first if needed."""
    if release not in RELEASES:
        raise SandboxError(
            f"release {release!r} is not one the sandbox builds; use one of {', '.join(RELEASES)}"
        )
    recipe = recipe_hash(extra_packages, release)
    packages = PACKAGES + tuple(extra_packages)
    image_dir = cache_root / recipe
    rootfs = image_dir / "rootfs"
    if (image_dir / "complete").exists():
        return rootfs
    if shutil.which("debootstrap") is None:
        raise SandboxError(
            "debootstrap is not installed; install it with: "
            "apt-get install -y debootstrap systemd-container"
        )
    building = cache_root / f".building-{recipe}"
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    log(f"building the sandbox image ({release}, {len(packages)} packages) into {image_dir}")
    started = time.monotonic()
    try:
        run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(packages)}",
                release,
                str(building / "rootfs"),
            ],
            timeout=1800,
        )
    except CommandError as err:
        shutil.rmtree(building, ignore_errors=True)
        raise SandboxError(
            f"debootstrap could not build the image: {err}. Check that this machine's apt "
            "sources are reachable (apt-get update), then run `locust-fleet sandbox up` again."
        ) from err
    _customise(building / "rootfs")
    if extra_packages:
        _customise_monitor(building / "rootfs")
    (building / "complete").write_text(f"built in {time.monotonic() - started:.0f}s\n")
    shutil.rmtree(image_dir, ignore_errors=True)
    building.rename(image_dir)
    log(f"image ready in {time.monotonic() - started:.0f}s")
    return rootfs


def _customise(rootfs: Path) -> None:
    """Settings every sandbox host shares; per-host ones go into its overlay at boot."""
    run(["systemctl", f"--root={rootfs}", "enable", "systemd-networkd.service", "ssh.service"])
    # Only the target serves HTTP; it enables nginx in its own overlay.
    run(["systemctl", f"--root={rootfs}", "disable", "nginx.service"])
    (rootfs / "etc/ssh/sshd_config.d/sandbox.conf").write_text(SSHD_CONFIG)
    (rootfs / "etc/nginx/nginx.conf").write_text((FILES_DIR / "nginx.conf").read_text())
    sites = rootfs / "etc/nginx/sites-enabled"
    for old in sites.iterdir():
        old.unlink()
    (sites / "sandbox.conf").write_text((FILES_DIR / "nginx-site.conf").read_text())
    www = rootfs / "var/www/sandbox"
    www.mkdir(parents=True, exist_ok=True)
    for name, body in PAGES.items():
        (www / name).write_text(body)
    # An empty machine-id makes systemd give each container its own at boot.
    (rootfs / "etc/machine-id").write_text("")
    (rootfs / "root/.ssh").mkdir(mode=0o700, exist_ok=True)


def _customise_monitor(rootfs: Path) -> None:
    """The monitoring host's Prometheus starts at boot; its scrape config is per sandbox
    (written into the host's overlay, see machine.py)."""
    run(["systemctl", f"--root={rootfs}", "enable", "prometheus.service"])
