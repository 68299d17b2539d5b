#!/usr/bin/python3
"""A plan's requirements.txt in the Locust virtualenv: parse its pins, refuse those that would
change Locust's own packages, install the pinned wheels (checked by sha256) and import the plan
with the virtualenv's Python.

Runs on the controller (mode parse) or as root on the host's system Python (3.8 or later),
standard library only besides ansible.module_utils. The work is in plain functions; main()
only wires AnsibleModule to them.
"""

from __future__ import annotations

import glob
import hashlib
import os
import platform
import pwd
import re
import subprocess
import sys
import tempfile

from ansible.module_utils.basic import AnsibleModule

DOCUMENTATION = r"""
module: locust_plan_requirements
short_description: Install a Locust test plan's pinned requirements into the Locust virtualenv
description:
  - O(mode=parse) (on the controller) reads O(requirements_file), a plan's C(requirements.txt),
    and returns its pins. Every line must be one exact pin C(name==version) (a comment after
    C(#) and blank lines are fine); anything else (a range, an option, a URL, a marker, a
    package named twice, C(locust) itself) is refused with the line and the fix.
  - O(mode=check) (on a host, read-only) reads the virtualenv O(venv) from its C(dist-info)
    metadata (no Python of the virtualenv runs for that), refuses a pin that would replace,
    with another version, a package of the fleet's tree (every package no plan brought -
    Locust, what locust_install put beside it, pip - and all they depend on), naming it, and
    returns what is missing and what is stale. Stale are packages that earlier plan installs
    brought (recorded in C(<venv>/locust-fleet-plan-packages.txt)) and that neither the
    fleet's tree nor the pins need any more. When nothing is missing or stale and O(plan) is
    given, it imports the plan.
  - O(mode=present) checks each of O(wheels) in O(wheelhouse) by sha256, installs the pins
    from there only (C(pip --no-index)), with every package of the fleet's tree constrained to
    its installed version, so that pip refuses rather than changes one; records what the
    install brought, uninstalls the stale packages, and imports the plan when O(plan) is given.
  - The import is C(<venv>/bin/python -m locust -f <plan>/locustfile.py --list) in the plan
    folder, as O(user) when given; it must list at least one User class.
  - In check mode nothing is installed or removed, and the plan is not imported.
options:
  mode:
    description: What to do (see the description).
    type: str
    choices: [parse, check, present]
    default: check
  requirements_file:
    description: The plan's C(requirements.txt) (O(mode=parse)).
    type: path
  pins:
    description: The pins, C(name==version), as O(mode=parse) returned them.
    type: list
    elements: str
    default: []
  venv:
    description: The Locust virtualenv.
    type: path
    default: /opt/locust/venv
  wheelhouse:
    description: Host folder holding the wheels to install from (O(mode=present)).
    type: path
  wheels:
    description:
      - Wheels expected in O(wheelhouse), file name -> sha256 as the controller hashed them;
        every one is checked on the host before pip runs.
    type: dict
    default: {}
  plan:
    description: The plan folder to import after the check or the install; none, no import.
    type: path
  user:
    description: The user that imports the plan (root only switches); empty, the module's own.
    type: str
    default: ""
  timeout:
    description: Seconds the import and each pip call may take.
    type: int
    default: 180
attributes:
  check_mode:
    support: full
author: locust-fleet
"""

EXAMPLES = r"""
- name: Read the plan's pins on the controller
  fleet.locust.locust_plan_requirements:
    mode: parse
    requirements_file: locustfiles/shop/requirements.txt
  delegate_to: localhost
  register: __pins

- name: Check the virtualenv against them and import the plan
  fleet.locust.locust_plan_requirements:
    mode: check
    pins: "{{ __pins.pins }}"
    venv: /opt/locust/venv
    plan: /opt/locust/plans/shop
    user: locust
"""

RETURN = r"""
pins:
  description: The pins, C(name==version) as written, in file order.
  returned: always
  type: list
  elements: str
  sample: [inflection==0.5.1]
pins_sha256:
  description: The sha256 of the pins (one a line, normalised names, sorted); empty without pins.
  returned: always
  type: str
tag:
  description: The virtualenv's Python version and the machine architecture, C("X.Y arch").
  returned: when mode is check or present
  type: str
  sample: 3.11 x86_64
missing:
  description: Pins not installed at their version (before this call).
  returned: when mode is check or present
  type: list
  elements: str
stale:
  description: Packages earlier plans brought that nothing needs any more (before this call).
  returned: when mode is check or present
  type: list
  elements: str
satisfied:
  description: Nothing is missing or stale.
  returned: when mode is check or present
  type: bool
classes:
  description: The User classes the plan's import listed.
  returned: when the plan was imported
  type: list
  elements: str
"""

# In the venv: the packages that plan installs brought (one name a line), so that only
# those are ever removed again; whatever else the venv holds belongs to the fleet.
RECORD = "locust-fleet-plan-packages.txt"
LOCUST = "locust"
_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(?P<extras>\[[A-Za-z0-9._,\s-]*\])?"
    r"\s*==\s*(?P<version>[A-Za-z0-9][A-Za-z0-9.+!_-]*)$"
)
_REQ_NAME = re.compile(r"^\s*([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


class RequirementsError(ValueError):
    """The pins cannot be used as they are; the message names the package and the fix."""


def normalize(name: str) -> str:
    """PEP 503: case and runs of '-', '_', '.' do not matter."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pins(text: str, where: str = "requirements.txt") -> list[tuple[str, str, str]]:
    """(normalised name, version, the pin as written) per line of a requirements file."""
    pins, seen = [], {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        match = _PIN.match(line)
        if not match:
            raise RequirementsError(
                f"{where} line {number}: {line!r} is not an exact pin; write one package a line "
                "as name==version (e.g. inflection==0.5.1): ranges, options (-r, -e, --index-url), "
                "URLs and markers are not accepted, so that every host installs the same wheels"
            )
        name, version = normalize(match["name"]), match["version"]
        if name == LOCUST:
            raise RequirementsError(
                f"{where} line {number}: {line!r} pins Locust itself; remove it: locust_install "
                "installs Locust at locust_version on every host, and the plan runs on that one"
            )
        if name in seen:
            raise RequirementsError(
                f"{where} line {number}: {match['name']} is pinned twice (line {seen[name]} "
                "too); keep one pin"
            )
        seen[name] = number
        pins.append((name, version, f"{match['name']}{match['extras'] or ''}=={version}"))
    return pins


def pins_sha256(pins: list[tuple[str, str, str]]) -> str:
    if not pins:
        return ""
    lines = sorted(f"{name}=={version}" for name, version, _ in pins)
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def _headers(path: str) -> tuple[str, str, list[str]]:
    """(Name, Version, [Requires-Dist]) of a dist-info METADATA file (headers end at the first
    blank line)."""
    name, version, requires = "", "", []
    with open(path, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            line = line.rstrip("\r\n")
            if not line:
                break
            key, sep, value = line.partition(":")
            key = key.strip().lower()
            if not sep:
                continue
            if key == "name":
                name = value.strip()
            elif key == "version":
                version = value.strip()
            elif key == "requires-dist":
                requires.append(value.strip())
    return name, version, requires


def site_packages(venv: str) -> list[str]:
    return sorted(glob.glob(os.path.join(glob.escape(venv), "lib", "python3*", "site-packages")))


def installed(venv: str) -> dict[str, tuple[str, list[str]]]:
    """normalised name -> (version, names it requires), from the venv's dist-info metadata.

    A requirement that applies only with an extra is left out; one with another marker is kept
    (the tree may name a package the host does not use: only installed ones count)."""
    found = {}
    for folder in site_packages(venv):
        for metadata in glob.glob(os.path.join(glob.escape(folder), "*.dist-info", "METADATA")):
            try:
                name, version, requires = _headers(metadata)
            except OSError:
                continue
            if not name:
                continue
            needs = []
            for requirement in requires:
                marker = requirement.partition(";")[2]
                match = _REQ_NAME.match(requirement)
                if match and "extra" not in marker:
                    needs.append(normalize(match.group(1)))
            found[normalize(name)] = (version, needs)
    return found


def tree(dists: dict[str, tuple[str, list[str]]], roots: list[str]) -> set[str]:
    """The installed packages reachable from roots by their requirements, roots included."""
    seen, todo = set(), [r for r in roots if r in dists]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        todo.extend(n for n in dists[name][1] if n in dists and n not in seen)
    return seen


def owned(venv: str) -> set[str]:
    """The packages plan installs brought into the venv (RECORD), as earlier calls wrote it."""
    try:
        with open(os.path.join(venv, RECORD), encoding="utf-8") as handle:
            return {normalize(line.strip()) for line in handle if line.strip()}
    except OSError:
        return set()


def write_owned(venv: str, names: set[str]) -> None:
    path = os.path.join(venv, RECORD)
    partial = f"{path}.{os.getpid()}.partial"
    with open(partial, "w", encoding="utf-8") as handle:
        handle.write("".join(f"{name}\n" for name in sorted(names)))
    os.replace(partial, path)


def fleet_tree(dists: dict, plan_owned: set[str]) -> set[str]:
    """What the venv holds for the fleet: every package no plan brought (Locust, what
    locust_install added beside it, pip) and all they depend on. A plan never changes these."""
    return tree(dists, [name for name in dists if name not in plan_owned])


def conflicts(pins: list[tuple[str, str, str]], dists: dict, plan_owned: set[str]) -> list[str]:
    """One message per pin that would replace a package of the fleet's tree with another
    version."""
    locust_tree = tree(dists, [LOCUST])
    locust = f"Locust {dists.get(LOCUST, ('?', []))[0]}"
    refused = []
    for name, version, pin in pins:
        have = dists.get(name, ("", []))[0]
        if name in fleet_tree(dists, plan_owned) and have != version:
            whose = f"which {locust} depends on" if name in locust_tree else (
                f"which locust_install put beside {locust}"
            )  # fmt: skip
            refused.append(
                f"{pin} would replace {name} {have}, {whose}; remove {name} from "
                f"requirements.txt (the plan then imports the virtualenv's {name} {have}) "
                f"or pin {name}=={have}"
            )
    return refused


def reconcile(
    pins: list[tuple[str, str, str]], dists: dict, plan_owned: set[str]
) -> tuple[list[str], list[str]]:
    """(pins not installed at their version, packages earlier plans brought that neither the
    fleet nor these pins need)."""
    missing = [pin for name, version, pin in pins if dists.get(name, ("", []))[0] != version]
    keep = fleet_tree(dists, plan_owned) | tree(dists, [name for name, _, _ in pins])
    stale = sorted(name for name in plan_owned if name in dists and name not in keep)
    return missing, stale


def venv_tag(venv: str) -> str:
    """ "X.Y arch" of the venv's Python (from its lib/pythonX.Y folder) on this machine."""
    folders = site_packages(venv)
    version = os.path.basename(os.path.dirname(folders[0]))[len("python") :] if folders else "?"
    return f"{version} {platform.machine()}"


def sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def wheel_mismatches(wheelhouse: str, wheels: dict[str, str]) -> list[str]:
    """One message per expected wheel whose sha256 on the host differs (or that is missing)."""
    bad = []
    for name, expected in sorted(wheels.items()):
        path = os.path.join(wheelhouse, os.path.basename(name))
        try:
            actual = sha256(path)
        except OSError:
            actual = "(missing)"
        if actual != expected:
            bad.append(f"{path} sha256 {actual} on the host, {expected} on the controller")
    return bad


def _tail(text: str, lines: int = 12) -> str:
    kept = [line.strip() for line in text.splitlines() if line.strip()]
    return " | ".join(kept[-lines:])


def pip_install(venv, wheelhouse, pins, held, dists, timeout):
    """pip install of the pins from the wheelhouse only, the held packages (the fleet's tree)
    constrained to their installed versions. (return code, what pip said)."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", prefix="locust-constraints-") as c:
        c.write("".join(f"{name}=={dists[name][0]}\n" for name in sorted(held)))
        c.flush()
        command = [
            os.path.join(venv, "bin", "python"), "-m", "pip", "install",
            "--disable-pip-version-check", "--no-input", "--no-index",
            "--find-links", wheelhouse, "--constraint", c.name, *pins,
        ]  # fmt: skip
        proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def pip_uninstall(venv, names, timeout):
    command = [os.path.join(venv, "bin", "python"), "-m", "pip", "uninstall", "-y", *names]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def _as_user(user: str) -> dict:
    """subprocess arguments that run a command as user (only root can switch)."""
    if not user or os.geteuid() != 0 or sys.version_info < (3, 9):
        return {"env": {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}}
    entry = pwd.getpwnam(user)
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": entry.pw_dir,
        "USER": user,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": [], "env": env}


def import_plan(venv: str, plan: str, user: str, timeout: int) -> tuple[list[str], str]:
    """(User classes, '') when the plan imports with the venv's Locust, else ([], why)."""
    command = [
        os.path.join(venv, "bin", "python"), "-m", "locust",
        "-f", os.path.join(plan, "locustfile.py"), "--list",
    ]  # fmt: skip
    try:
        proc = subprocess.run(
            command, cwd=plan, capture_output=True, text=True, timeout=timeout, check=False,
            **_as_user(user),
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return [], f"the import did not end within {timeout} s"
    classes = [line.strip() for line in proc.stdout.splitlines() if re.match(r"^\s+\S", line)]
    if proc.returncode == 0 and classes:
        return classes, ""
    said = [line.strip() for line in proc.stderr.splitlines() if line.strip()]
    return [], (said[-1] if said else proc.stdout.strip() or f"exit {proc.returncode}")


def import_failure(plan: str, venv: str, why: str) -> str:
    missing = re.search(r"No module named '([^']+)'", why)
    fix = (
        f"add the package that provides {missing.group(1).split('.')[0]!r} to the plan's "
        "requirements.txt as name==version (`pip freeze` shows the version you use) and run again"
        if missing
        else "fix the plan (check it with `locust -f locustfile.py --list`) and run again"
    )
    return f"plan {plan} cannot be imported with {venv}/bin/python: {why}; {fix}"


def _fail(module, msg, **result):
    module.fail_json(msg=msg, **result)


def main():
    module = AnsibleModule(
        argument_spec={
            "mode": {"type": "str", "choices": ["parse", "check", "present"], "default": "check"},
            "requirements_file": {"type": "path"},
            "pins": {"type": "list", "elements": "str", "default": []},
            "venv": {"type": "path", "default": "/opt/locust/venv"},
            "wheelhouse": {"type": "path"},
            "wheels": {"type": "dict", "default": {}},
            "plan": {"type": "path"},
            "user": {"type": "str", "default": ""},
            "timeout": {"type": "int", "default": 180},
        },
        required_if=[("mode", "parse", ["requirements_file"])],
        supports_check_mode=True,
    )
    p = module.params
    try:
        if p["mode"] == "parse":
            with open(p["requirements_file"], encoding="utf-8") as handle:
                pins = parse_pins(handle.read(), p["requirements_file"])
        else:
            pins = parse_pins("\n".join(p["pins"]), "pins")
    except (OSError, RequirementsError) as err:
        _fail(module, str(err))
    result = {
        "changed": False,
        "pins": [pin for _, _, pin in pins],
        "pins_sha256": pins_sha256(pins),
    }
    if p["mode"] == "parse":
        module.exit_json(**result)
    venv = p["venv"]
    dists, plan_owned = installed(venv), owned(venv)
    if LOCUST not in dists and module.check_mode:
        # A first provisioning in check mode: locust_install has not made the venv yet.
        missing = result["pins"]
        module.exit_json(**result, missing=missing, stale=[], satisfied=False, tag="")
    if LOCUST not in dists:
        _fail(module, f"Locust is not installed in {venv}; run playbooks/site.yml first", **result)
    refused = conflicts(pins, dists, plan_owned)
    if refused:
        _fail(module, "the plan's requirements.txt: " + "; ".join(refused), **result)
    missing, stale = reconcile(pins, dists, plan_owned)
    satisfied = not (missing or stale)
    result.update(tag=venv_tag(venv), missing=missing, stale=stale, satisfied=satisfied)
    if p["mode"] == "present" and not satisfied:
        result["changed"] = True
        if module.check_mode:
            module.exit_json(**result)
        if missing:
            bad = wheel_mismatches(p["wheelhouse"] or "", p["wheels"])
            if bad or not p["wheels"]:
                _fail(
                    module,
                    "wheels differ from the controller's: " + "; ".join(bad or ["none given"])
                    + f"; delete {p['wheelhouse']} on the host and run again",
                    **result,
                )  # fmt: skip
            held = fleet_tree(dists, plan_owned)
            code, said = pip_install(
                venv, p["wheelhouse"], result["pins"], held, dists, p["timeout"]
            )
            if code != 0:
                _fail(
                    module,
                    "pip could not install the plan's requirements.txt from the pushed wheels "
                    f"without changing a package Locust depends on: {_tail(said)}; remove or "
                    "re-pin the package pip names",
                    **result,
                )  # fmt: skip
            after = installed(venv)
            plan_owned = plan_owned | (set(after) - set(dists))
            write_owned(venv, plan_owned)
            # What the new pins need is kept, even when an earlier plan had brought it.
            stale = reconcile(pins, after, plan_owned)[1]
        if stale:
            code, said = pip_uninstall(venv, stale, p["timeout"])
            if code != 0:
                _fail(module, f"pip could not remove {', '.join(stale)}: {_tail(said)}", **result)
            write_owned(venv, plan_owned - set(stale))
    if p["plan"] and not module.check_mode and (satisfied or p["mode"] == "present"):
        classes, why = import_plan(venv, p["plan"], p["user"], p["timeout"])
        if not classes:
            _fail(module, import_failure(p["plan"], venv, why), **result)
        result["classes"] = classes
    module.exit_json(**result)


if __name__ == "__main__":
    main()
