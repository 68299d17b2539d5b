"""fleet.locust.locust_run_prepare: a host's run folder, secrets file, worker restart and CPU
sampler in one call; systemd and the ownership of files are the test's own."""

from __future__ import annotations

import importlib.util
import json
import os
import stat
import time
from pathlib import Path

import pytest
from ansible.module_utils.testing import patch_module_args

REPO = Path(__file__).resolve().parents[2]


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


prepare = load(
    "fleet_locust_run_prepare", REPO / "collection/plugins/modules/locust_run_prepare.py"
)
_docs = load("fleet_locust_run_prepare_docs", REPO / "tests/unit/test_module_docs.py")

RUN_ID = "20261201T101010Z-abc123"


# ---- systemd's EnvironmentFile= parser, for reading the written file back ------------------


def parse_env_file(text: str, legacy: bool = False) -> dict[str, str]:
    """What systemd puts in the environment from an EnvironmentFile= (a port of the state
    machine of parse_env_file_internal, src/basic/env-file.c, as systemd.exec(5) describes it).

    In double quotes, a backslash before one of " \\ ` $ stands for that character, before a
    newline continues the line, before anything else is kept with it. With ``legacy`` (the
    parser before v241), a backslash before any character but a newline stands for that
    character."""
    whitespace, newline, comments = " \t\n\r", "\n\r", "#;"
    env: dict[str, str] = {}
    state, key, value = "PRE_KEY", [], []
    key_ws = value_ws = None  # where trailing whitespace starts in key / value

    def push() -> None:
        name = "".join(key[:key_ws] if key_ws is not None else key)
        env[name] = "".join(value)

    for c in text:
        if state == "PRE_KEY":
            if c in comments:
                state = "COMMENT"
            elif c not in whitespace:
                state, key, key_ws = "KEY", [c], None
        elif state == "KEY":
            if c in newline:
                state, key = "PRE_KEY", []
            elif c == "=":
                state, value, value_ws = "PRE_VALUE", [], None
            else:
                if c not in whitespace:
                    key_ws = None
                elif key_ws is None:
                    key_ws = len(key)
                key.append(c)
        elif state == "PRE_VALUE":
            if c in newline:
                push()
                state = "PRE_KEY"
            elif c == "'":
                state = "SINGLE_QUOTE_VALUE"
            elif c == '"':
                state = "DOUBLE_QUOTE_VALUE"
            elif c == "\\":
                state = "VALUE_ESCAPE"
            elif c not in whitespace:
                state = "VALUE"
                value.append(c)
        elif state == "VALUE":
            if c in newline:
                if value_ws is not None:
                    del value[value_ws:]
                push()
                state = "PRE_KEY"
            elif c == "\\":
                state, value_ws = "VALUE_ESCAPE", None
            else:
                if c not in whitespace:
                    value_ws = None
                elif value_ws is None:
                    value_ws = len(value)
                value.append(c)
        elif state == "VALUE_ESCAPE":
            state = "VALUE"
            if c not in newline:
                value.append(c)
        elif state == "SINGLE_QUOTE_VALUE":
            if c == "'":
                state = "PRE_VALUE"
            else:
                value.append(c)
        elif state == "DOUBLE_QUOTE_VALUE":
            if c == '"':
                state = "PRE_VALUE"
            elif c == "\\":
                state = "DOUBLE_QUOTE_VALUE_ESCAPE"
            else:
                value.append(c)
        elif state == "DOUBLE_QUOTE_VALUE_ESCAPE":
            state = "DOUBLE_QUOTE_VALUE"
            if c in '"\\`$' or (legacy and c not in newline):
                value.append(c)
            elif c != "\n":
                value += ["\\", c]
        elif state == "COMMENT":
            if c == "\\":
                state = "COMMENT_ESCAPE"
            elif c in newline:
                state = "PRE_KEY"
        elif state == "COMMENT_ESCAPE":
            state = "COMMENT"
    if state in (
        "PRE_VALUE",
        "VALUE",
        "VALUE_ESCAPE",
        "SINGLE_QUOTE_VALUE",
        "DOUBLE_QUOTE_VALUE",
        "DOUBLE_QUOTE_VALUE_ESCAPE",
    ):
        if state == "VALUE" and value_ws is not None:
            del value[value_ws:]
        push()
    return env


def test_the_parser_follows_the_manual() -> None:
    """The examples of systemd.exec(5) and issue systemd#10659, read by the test's parser."""
    text = (
        '# a comment\n; another\nA=\\value\nB="\\value \\\\ \\" \\$ \\`"\nC=\'\\value\'\n'
        'D=  spaced out  \nE="a\\\nb"\n'
    )
    assert parse_env_file(text) == {
        "A": "value",
        "B": '\\value \\ " $ `',
        "C": "\\value",
        "D": "spaced out",
        "E": "ab",
    }


# ---- the host --------------------------------------------------------------------------------


class FakeSystemd:
    """systemctl and systemd-run as the module calls them, and the owners it sets."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.active: set[str] = set()
        self.fail: dict[str, tuple[int, str]] = {}
        self.owners: list[tuple[int, int, int]] = []

    def run(self, argv, timeout=120):
        argv = list(argv)
        self.calls.append(argv)
        if argv[0] in self.fail:
            code, err = self.fail[argv[0]]
            return code, "", err
        if argv[:2] == ["systemctl", "is-active"]:
            state = "active" if argv[2] in self.active else "inactive"
            return (0 if state == "active" else 3), state + "\n", ""
        if argv[:2] == ["systemctl", "show"]:
            units = [a for a in argv[2:] if a.endswith(".service")]
            started = int(time.monotonic() * 1e6)  # every running process has just started
            blocks = [
                f"Id={u}\nSubState={'running' if u in self.active else 'dead'}\n"
                f"ExecMainStartTimestampMonotonic={started if u in self.active else 0}\n"
                for u in units
            ]
            return 0, "\n".join(blocks), ""
        if argv[0] == "systemd-run":
            self.active.add(argv[1].split("=", 1)[1])
        return 0, "", ""

    def changes(self) -> list[list[str]]:
        """The calls that change something (all but is-active and show)."""
        reads = (["systemctl", "is-active"], ["systemctl", "show"])
        return [argv for argv in self.calls if argv[:2] not in reads]


@pytest.fixture
def systemd(monkeypatch: pytest.MonkeyPatch) -> FakeSystemd:
    fake = FakeSystemd()
    monkeypatch.setattr(prepare, "run", fake.run)
    monkeypatch.setattr(prepare, "ids", lambda owner, group: (os.getuid(), os.getgid()))
    monkeypatch.setattr(prepare, "SECRETS_OWNER", os.getuid())
    monkeypatch.setattr(
        prepare, "set_owner", lambda fd, uid, gid: fake.owners.append((fd, uid, gid))
    )
    return fake


@pytest.fixture
def host(tmp_path: Path) -> dict[str, Path]:
    (tmp_path / "runs").mkdir()
    (tmp_path / "etc").mkdir()
    return {
        "run_dir": tmp_path / "runs" / RUN_ID,
        "secrets_path": tmp_path / "etc" / "secrets.env",
    }


def sampler(**changes) -> dict:
    spec = {
        "unit": f"locust-cpu-sampler-{RUN_ID}",
        "script": "/opt/locust/bin/locust-cpu-sampler.py",
        "out": f"/var/lib/locust/runs/{RUN_ID}/cpu-w1.csv",
        "host": "w1",
        "interval": 1.0,
        "duration": 920,
        "runtime_max_sec": 930,
        "python": "/usr/bin/python3",
    }
    spec.update(changes)
    return spec


def params(host: dict[str, Path], **changes) -> dict:
    values = {
        "run_id": RUN_ID,
        "run_dir": str(host["run_dir"]),
        "owner": "locust",
        "group": "locust",
        "secrets": {},
        "secrets_path": str(host["secrets_path"]),
        "restart_units": [],
        "sampler": None,
    }
    values.update(changes)
    return values


def run_main(args: dict, capsys) -> dict:
    with patch_module_args(args), pytest.raises(SystemExit):
        prepare.main()
    return json.loads(capsys.readouterr().out)


# ---- secrets -------------------------------------------------------------------------------

AWKWARD = {
    "DOUBLE_QUOTES": 'say "hi" and ""',
    "BACKSLASHES": "C:\\new\\table \\\\server\\ \\",
    "DOLLARS": "$HOME ${HOME} $$ \\$HOME $(id) `id`",
    "SPACES": "  leading and trailing  \t",
    "SINGLE_QUOTES": "it's 'quoted'",
    "EQUALS": "a=b==c=",
    "UNICODE": "pässwörd ✓ 密码 🎉",
    "HASH_AND_SEMICOLON": "# not a comment; really",
    "EMPTY": "",
    "ONLY_A_BACKSLASH": "\\",
    "ONLY_A_QUOTE": '"',
    "_lower_1": "x",
}


@pytest.mark.parametrize("legacy", [False, True], ids=["systemd", "systemd-before-241"])
def test_secrets_reach_the_environment_byte_for_byte(
    host, systemd: FakeSystemd, legacy: bool
) -> None:
    result = prepare.prepare(params(host, secrets=AWKWARD))
    assert result["secrets_changed"] is True and result["changed"] is True
    data = host["secrets_path"].read_bytes()
    text = data.decode("utf-8")
    assert parse_env_file(text, legacy=legacy) == AWKWARD
    first, *rest = text.splitlines()
    assert first == (
        f"# Written by fleet.locust.locust_run_prepare for run {RUN_ID}; names: "
        + ", ".join(sorted(AWKWARD))
    )
    assert len(rest) == len(AWKWARD)
    assert all(line.split("=", 1)[1].startswith('"') for line in rest)
    for value in AWKWARD.values():
        if len(value) > 3:
            assert value not in first


def test_the_secrets_file_is_root_group_0640_written_atomically(host, systemd: FakeSystemd) -> None:
    path = host["secrets_path"]
    path.write_text("OLD=1\n")
    old_inode = path.stat().st_ino
    prepare.prepare(params(host, secrets={"TOKEN": "t"}))
    st = path.stat()
    assert stat.S_IMODE(st.st_mode) == 0o640
    assert st.st_ino != old_inode  # a new file renamed over the old one
    assert (prepare.SECRETS_OWNER, os.getgid()) in [(uid, gid) for _, uid, gid in systemd.owners]
    assert sorted(p.name for p in path.parent.iterdir()) == ["secrets.env"]  # no temp left


def test_unchanged_secrets_are_not_rewritten(host, systemd: FakeSystemd) -> None:
    prepare.prepare(params(host, secrets={"TOKEN": "t"}))
    inode = host["secrets_path"].stat().st_ino
    result = prepare.prepare(params(host, secrets={"TOKEN": "t"}))
    assert result["secrets_changed"] is False and result["changed"] is False
    assert host["secrets_path"].stat().st_ino == inode
    result = prepare.prepare(params(host, secrets={"TOKEN": "u"}))
    assert result["secrets_changed"] is True


def test_a_wrong_mode_is_fixed_without_a_content_change(host, systemd: FakeSystemd) -> None:
    prepare.prepare(params(host, secrets={"TOKEN": "t"}))
    host["secrets_path"].chmod(0o644)
    result = prepare.prepare(params(host, secrets={"TOKEN": "t"}))
    assert result["secrets_changed"] is False and result["changed"] is True
    assert stat.S_IMODE(host["secrets_path"].stat().st_mode) == 0o640


def test_no_secrets_write_the_comment_only(host, systemd: FakeSystemd) -> None:
    prepare.prepare(params(host))
    text = host["secrets_path"].read_text()
    assert text == f"# Written by fleet.locust.locust_run_prepare for run {RUN_ID}; names: none\n"
    assert parse_env_file(text) == {}


def test_a_link_at_the_secrets_path_is_replaced_not_followed(
    host, systemd: FakeSystemd, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("KEEP=me\n")
    host["secrets_path"].symlink_to(target)
    prepare.prepare(params(host, secrets={"TOKEN": "t"}))
    assert not host["secrets_path"].is_symlink()
    assert target.read_text() == "KEEP=me\n"


def test_numbers_are_written_as_text(host, systemd: FakeSystemd) -> None:
    prepare.prepare(params(host, secrets={"PORT": 8080, "RATIO": 0.5}))
    assert parse_env_file(host["secrets_path"].read_text()) == {"PORT": "8080", "RATIO": "0.5"}


@pytest.mark.parametrize(
    ("value", "what"),
    [
        ("line one\nline two", "a newline"),
        ("ends with\r", "a carriage return"),
        ("nul\0byte", "a NUL character"),
        ("bom\ufeff", "U+FEFF"),
        ("non\ufffe", "noncharacter"),
    ],
)
def test_a_value_an_environment_file_cannot_carry_is_refused_by_name(
    host, systemd: FakeSystemd, value: str, what: str
) -> None:
    with pytest.raises(prepare.PrepareError) as caught:
        prepare.prepare(params(host, secrets={"OK": "fine", "API_TOKEN": value}))
    message = str(caught.value)
    assert "secret API_TOKEN contains" in message and what in message
    assert "cannot carry" in message
    assert value not in message and "line one" not in message
    # refused before anything was done
    assert not host["run_dir"].exists() and not host["secrets_path"].exists()
    assert systemd.calls == []


@pytest.mark.parametrize("name", ["1ST", "WITH-DASH", "WITH SPACE", "", "A=B", "ÄPFEL", "A\n"])
def test_a_name_that_is_not_a_variable_name_is_refused(
    host, systemd: FakeSystemd, name: str
) -> None:
    with pytest.raises(prepare.PrepareError, match="is not an environment variable name"):
        prepare.prepare(params(host, secrets={name: "s3cret"}))
    assert not host["secrets_path"].exists()


@pytest.mark.parametrize("value", [None, True, ["a"], {"a": 1}])
def test_a_value_that_is_not_text_is_refused(host, systemd: FakeSystemd, value) -> None:
    with pytest.raises(prepare.PrepareError, match="secret TOKEN is not a string"):
        prepare.prepare(params(host, secrets={"TOKEN": value}))


@pytest.mark.parametrize("run_id", ["x\nA=injected", f"{RUN_ID}\n", "", "-x"])
def test_the_run_id_must_be_usable(host, systemd: FakeSystemd, run_id: str) -> None:
    with pytest.raises(prepare.PrepareError, match="is not usable"):
        prepare.prepare(params(host, run_id=run_id))


# ---- the run's folder -----------------------------------------------------------------------


def test_the_run_folder_is_created_0750(host, systemd: FakeSystemd) -> None:
    result = prepare.prepare(params(host))
    assert result["run_dir_created"] is True
    st = host["run_dir"].lstat()
    assert stat.S_ISDIR(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o750
    assert (os.getuid(), os.getgid()) in [(uid, gid) for _, uid, gid in systemd.owners]
    again = prepare.prepare(params(host))
    assert again["run_dir_created"] is False and again["changed"] is False


def test_an_existing_run_folder_gets_its_mode(host, systemd: FakeSystemd) -> None:
    host["run_dir"].mkdir(mode=0o777)
    host["run_dir"].chmod(0o777)
    result = prepare.prepare(params(host))
    assert result["run_dir_created"] is False and result["changed"] is True
    assert stat.S_IMODE(host["run_dir"].stat().st_mode) == 0o750


def test_a_link_at_the_run_folder_is_refused(host, systemd: FakeSystemd, tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir(mode=0o755)
    host["run_dir"].symlink_to(target)
    with pytest.raises(prepare.PrepareError, match="is a link"):
        prepare.prepare(params(host))
    assert stat.S_IMODE(target.stat().st_mode) == 0o755
    assert not host["secrets_path"].exists() and systemd.changes() == []


def test_a_file_at_the_run_folder_is_refused(host, systemd: FakeSystemd) -> None:
    host["run_dir"].write_text("")
    with pytest.raises(prepare.PrepareError, match="is not a folder"):
        prepare.prepare(params(host))


def test_a_runs_folder_swapped_for_a_link_by_another_user_is_refused(
    host, systemd: FakeSystemd, tmp_path: Path
) -> None:
    """The locust user owns locust_data_dir: it can swap runs/ for a link to /etc; root
    must not make (and hand to locust) a folder there."""
    shared = tmp_path / "data"
    shared.mkdir()
    shared.chmod(0o777)  # a folder another user can change, as locust_data_dir is to root
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (shared / "runs").symlink_to(elsewhere)
    with pytest.raises(prepare.PrepareError, match="another user can change"):
        prepare.prepare(params(host, run_dir=str(shared / "runs" / RUN_ID)))
    assert list(elsewhere.iterdir()) == []
    assert systemd.changes() == []


def test_the_run_folder_needs_its_parent(host, systemd: FakeSystemd, tmp_path: Path) -> None:
    with pytest.raises(prepare.PrepareError, match="does not exist"):
        prepare.prepare(params(host, run_dir=str(tmp_path / "missing" / RUN_ID)))
    assert not (tmp_path / "missing").exists()


# ---- units ----------------------------------------------------------------------------------


def test_workers_restart_in_one_call_and_the_sampler_starts(host, systemd: FakeSystemd) -> None:
    units = ["locust-worker@1.service", "locust-worker@2.service"]
    result = prepare.prepare(params(host, restart_units=units, sampler=sampler()))
    assert result == {
        "changed": True,
        "run_dir_created": True,
        "secrets_changed": True,
        "restarted": units,
        "kept": [],
        "sampler_started": True,
        "sampler_written": False,
        "files_written": [],
        "fence_changed": [],
    }
    assert systemd.changes() == [
        ["systemctl", "reset-failed", *units],  # a start limit from before never blocks a run
        ["systemctl", "restart", *units],
        [
            "systemd-run",
            f"--unit=locust-cpu-sampler-{RUN_ID}",
            "--collect",
            "--property=RuntimeMaxSec=930",
            "/usr/bin/python3",
            "/opt/locust/bin/locust-cpu-sampler.py",
            f"--out=/var/lib/locust/runs/{RUN_ID}/cpu-w1.csv",
            "--host=w1",
            "--interval=1",
            "--duration=920",
        ],
    ]


def test_a_worker_that_never_served_a_test_is_kept_when_it_cannot_hold_secrets(
    host, systemd: FakeSystemd
) -> None:
    units = ["locust-worker@1.service", "locust-worker@2.service"]
    folder = host["secrets_path"].parent
    os.utime(folder, (time.time() - 60, time.time() - 60))  # secrets last removed a minute ago
    systemd.active = {"locust-worker@1.service"}  # @2 is waiting to be restarted by systemd
    fresh = params(host, restart_units=units, keep_units=units)
    result = prepare.prepare(fresh)
    assert result["kept"] == ["locust-worker@1.service"]
    assert result["restarted"] == ["locust-worker@2.service"]
    assert systemd.changes()[:2] == [
        ["systemctl", "reset-failed", "locust-worker@2.service"],
        ["systemctl", "restart", "locust-worker@2.service"],
    ]
    # A secrets file on the host (an earlier run's, say): the process may have read it.
    again = prepare.prepare(dict(fresh, run_id="20261201T111111Z-second1"))
    assert again["kept"] == [] and again["restarted"] == units
    host["secrets_path"].unlink()
    os.utime(folder, (time.time() + 60, time.time() + 60))  # changed after the process started
    assert prepare.prepare(dict(fresh, run_id="20261201T121212Z-third11"))["kept"] == []
    host["secrets_path"].unlink()
    os.utime(folder, (time.time() - 60, time.time() - 60))
    with_secrets = dict(fresh, run_id="20261201T131313Z-fourth1", secrets={"TOKEN": "a"})
    assert prepare.prepare(with_secrets)["restarted"] == units  # each process must read them


def test_a_fractional_interval_is_passed_as_written(host, systemd: FakeSystemd) -> None:
    prepare.prepare(params(host, sampler=sampler(interval=0.25)))
    assert "--interval=0.25" in systemd.changes()[-1]


def test_the_sampler_script_is_written_from_its_content_once(host, systemd, tmp_path) -> None:
    script = tmp_path / "bin" / "locust-cpu-sampler.py"
    given = sampler(script=str(script), script_content="print('sampling')\n")
    first = prepare.prepare(params(host, sampler=given))
    assert first["sampler_written"] is True
    assert script.read_text() == "print('sampling')\n"
    assert stat.S_IMODE(script.stat().st_mode) == 0o755
    assert systemd.changes()[-1][-5] == str(script)  # the script it wrote is the one it starts
    systemd.active.add(f"locust-cpu-sampler-{RUN_ID}")
    if os.geteuid() == 0:  # the file is root's only when the test runs as root
        assert prepare.prepare(params(host, sampler=given))["sampler_written"] is False
    script.write_text("tampered")
    assert prepare.prepare(params(host, sampler=given))["sampler_written"] is True
    assert script.read_text() == "print('sampling')\n"


def test_fleet_files_are_written_where_they_differ(host, systemd, tmp_path) -> None:
    plugin = tmp_path / "bin" / "locust_fleet_shape_bound.py"
    files = [{"path": str(plugin), "content": "# plugin\n"}]
    first = prepare.prepare(params(host, files=files))
    assert first["files_written"] == [str(plugin)] and first["changed"] is True
    assert plugin.read_text() == "# plugin\n"
    assert stat.S_IMODE(plugin.stat().st_mode) == 0o644
    if os.geteuid() == 0:  # the file is root's only when the test runs as root
        assert prepare.prepare(params(host, files=files))["files_written"] == []
    plugin.write_text("tampered")
    assert prepare.prepare(params(host, files=files))["files_written"] == [str(plugin)]
    assert plugin.read_text() == "# plugin\n"


def test_an_active_sampler_is_not_started_twice(host, systemd: FakeSystemd) -> None:
    systemd.active.add(f"locust-cpu-sampler-{RUN_ID}")
    result = prepare.prepare(params(host, sampler=sampler()))
    assert result["sampler_started"] is False
    assert [argv for argv in systemd.changes() if argv[0] == "systemd-run"] == []


def test_nothing_to_restart_runs_nothing(host, systemd: FakeSystemd) -> None:
    result = prepare.prepare(params(host))
    assert result["restarted"] == [] and result["sampler_started"] is False
    assert systemd.calls == []


def test_a_failed_restart_fails_with_its_stderr(host, systemd: FakeSystemd, capsys) -> None:
    systemd.fail["systemctl"] = (5, "Unit locust-worker@9.service not found.\n")
    result = run_main(
        {**params(host, restart_units=["locust-worker@9.service"]), "_ansible_check_mode": False},
        capsys,
    )
    assert result["failed"] is True
    assert "systemctl restart locust-worker@9.service failed (exit 5)" in result["msg"]
    assert "Unit locust-worker@9.service not found." in result["msg"]
    assert result["run_dir_created"] is True and result["changed"] is True


def test_a_failed_sampler_start_fails_with_its_stderr(host, systemd: FakeSystemd, capsys) -> None:
    systemd.fail["systemd-run"] = (1, "Failed to start transient service unit: exists\n")
    result = run_main(params(host, sampler=sampler()), capsys)
    assert result["failed"] is True and "exists" in result["msg"]


# ---- the module -----------------------------------------------------------------------------


def test_check_mode_changes_nothing(host, systemd: FakeSystemd, capsys) -> None:
    args = params(
        host,
        secrets={"TOKEN": "s3cret"},
        restart_units=["locust-worker@1.service"],
        sampler=sampler(),
    )
    result = run_main({**args, "_ansible_check_mode": True}, capsys)
    assert result["changed"] is True
    assert result["run_dir_created"] is True and result["secrets_changed"] is True
    assert result["restarted"] == ["locust-worker@1.service"]
    assert result["sampler_started"] is True
    assert not host["run_dir"].exists() and not host["secrets_path"].exists()
    assert sorted(p.name for p in host["secrets_path"].parent.iterdir()) == []
    assert systemd.changes() == [] and systemd.owners == []


def test_check_mode_on_a_prepared_host_reports_no_change(
    host, systemd: FakeSystemd, capsys
) -> None:
    args = params(host, secrets={"TOKEN": "s3cret"}, sampler=sampler())
    run_main(args, capsys)
    before = host["secrets_path"].read_bytes()
    systemd.calls.clear()
    result = run_main({**args, "_ansible_check_mode": True}, capsys)
    assert result["changed"] is False and result["sampler_started"] is False
    assert host["secrets_path"].read_bytes() == before and systemd.changes() == []


def test_the_module_never_shows_a_secret(host, systemd: FakeSystemd, capsys) -> None:
    result = run_main(params(host, secrets={"TOKEN": "s3cret-value"}), capsys)
    assert "s3cret-value" not in json.dumps(result)
    assert "TOKEN" in host["secrets_path"].read_text().splitlines()[0]


class Captured(Exception):
    pass


def test_the_secrets_option_is_no_log(monkeypatch: pytest.MonkeyPatch) -> None:
    seen = {}

    def capture(argument_spec, **kwargs):
        seen.update(argument_spec)
        raise Captured

    monkeypatch.setattr(prepare, "AnsibleModule", capture)
    with pytest.raises(Captured):
        prepare.main()
    assert seen["secrets"]["no_log"] is True


def test_the_documentation_matches_the_argument_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    _docs.test_documentation_matches_the_argument_spec("locust_run_prepare", monkeypatch)


def test_a_unit_systemd_could_not_spawn_is_restarted_once_more(monkeypatch) -> None:
    calls: list[list[str]] = []
    restarts = iter(
        [(1, "", "Job for locust-worker@2.service failed because of unavailable resources")]
    )

    def fake(argv, timeout=120):
        calls.append(list(argv))
        if argv[:2] == ["systemctl", "restart"]:
            return next(restarts, (0, "", ""))
        if argv[:2] == ["systemctl", "show"]:
            return 0, ("resources\n" if argv[-1] == "locust-worker@2.service" else "success\n"), ""
        return 0, "", ""

    monkeypatch.setattr(prepare, "run", fake)
    units = ["locust-worker@1.service", "locust-worker@2.service"]
    assert prepare.restart_units(units, sleep=lambda _s: None) == units
    assert [c for c in calls if c[1] != "show"] == [
        ["systemctl", "reset-failed", *units],
        ["systemctl", "restart", *units],
        ["systemctl", "reset-failed", "locust-worker@2.service"],
        ["systemctl", "restart", "locust-worker@2.service"],
    ]


def test_a_unit_that_cannot_be_spawned_twice_is_an_error(monkeypatch) -> None:
    def fake(argv, timeout=120):
        if argv[:2] == ["systemctl", "restart"]:
            return 1, "", "unavailable resources"
        return 0, ("resources\n" if argv[:2] == ["systemctl", "show"] else ""), ""

    monkeypatch.setattr(prepare, "run", fake)
    with pytest.raises(prepare.PrepareError, match=r"restart locust-worker@1.service failed"):
        prepare.restart_units(["locust-worker@1.service"], sleep=lambda _s: None)


# ---- the master's port filter brought in line with the inventory --------------------------

LIVE = {
    "nftables": [
        {"metainfo": {"json_schema_version": 1}},
        {"table": {"family": "inet", "name": "locust"}},
        {
            "set": {
                "family": "inet",
                "name": "workers_ipv4",
                "table": "locust",
                "type": "ipv4_addr",
                "flags": ["interval"],
                "elem": ["10.0.0.31", "10.0.0.32", {"prefix": {"addr": "10.9.0.0", "len": 24}}],
            }
        },
    ]
}


def fence_run(monkeypatch, live=LIVE):
    scripts: list[str] = []
    monkeypatch.setattr(prepare, "run", lambda argv, timeout=120: (0, json.dumps(live), ""))
    monkeypatch.setattr(
        prepare, "run_input", lambda argv, text, timeout=60: scripts.append(text) or (0, "", "")
    )
    return scripts


def test_a_worker_gone_from_the_inventory_is_taken_out_of_the_live_set(monkeypatch) -> None:
    scripts = fence_run(monkeypatch)
    wanted = {"workers_ipv4": ["10.0.0.31", "10.9.0.0/24"], "workers_ipv6": []}
    changed = prepare.align_fence({"table": "locust", "sets": wanted})
    assert changed == ["workers_ipv4"]
    assert scripts == [
        "flush set inet locust workers_ipv4\n"
        "add element inet locust workers_ipv4 { 10.0.0.31, 10.9.0.0/24 }\n"
    ]


def test_a_fence_that_already_holds_the_workers_is_left_alone(monkeypatch) -> None:
    scripts = fence_run(monkeypatch)
    wanted = {"workers_ipv4": ["10.0.0.32/32", "10.0.0.31", "10.9.0.0/24"]}
    assert prepare.align_fence({"table": "locust", "sets": wanted}) == []
    assert scripts == []


def test_a_set_missing_for_a_new_address_names_it_and_site_yml(monkeypatch) -> None:
    fence_run(monkeypatch)
    wanted = {"workers_ipv4": ["10.0.0.31"], "workers_ipv6": ["fd00::31"]}
    with pytest.raises(prepare.PrepareError, match=r"no set workers_ipv6 for fd00::31; run"):
        prepare.align_fence({"table": "locust", "sets": wanted})
