"""Nothing a host sends crosses into the controller, and root on a host never follows a path
the locust user controls (#14 classes 1 and 2): plan code runs as locust, so these are
what a plan (or anyone with the locust user) can do on the master or a worker mid-run."""

from __future__ import annotations

from .sandbox_hosts import cli, flat

LOCUST = "runuser -u locust -- sh -c"


def _start(fleet, tmp_path, run_id):
    results = tmp_path / "results"
    started = fleet.run(results, "--run-id", run_id, "--detach", users="4", run_time="15s")
    assert started.returncode == 0, started.stderr[-3000:]
    return results


def _attach(fleet, results, run_id):
    return cli("attach", "-i", str(fleet.inventory), run_id, "--results", str(results))


def _files(folder):
    return [p for p in folder.rglob("*") if p.is_file() and "ansible" not in p.parts]


def test_a_run_folder_swapped_for_a_link_to_etc_brings_nothing_of_etc_home(fleet, tmp_path):
    master = fleet.role("master")[0]["name"]
    run_id = "swap-to-etc"
    results = _start(fleet, tmp_path, run_id)
    runs = "/var/lib/locust/runs"
    fleet.ssh(master, f"cd {runs} && {LOCUST} 'mv {run_id} {run_id}.moved && ln -s /etc {run_id}'")
    try:
        proc = _attach(fleet, results, run_id)
        passwd = fleet.ssh(master, "cat /etc/passwd").stdout
    finally:
        fleet.ssh(master, f"rm -f {runs}/{run_id}; rm -rf {runs}/{run_id}.moved")
    text = flat(proc.stdout + proc.stderr)
    assert proc.returncode == 2, text[-3000:]
    # The user is told what was refused, and why the stats are missing.
    assert f"not brought home: {master}: {runs}/{run_id}:" in text, text[-3000:]
    assert "is a symbolic link in a folder another user can change" in text
    run_dir = results / run_id
    names = {p.name for p in _files(run_dir)}
    assert not names & {"passwd", "shadow", "hostname", "os-release", "locust_stats.csv"}
    assert all(passwd.splitlines()[0] not in p.read_text(errors="replace") for p in _files(run_dir))
    # What was outside the folder still came home: the master's journal and its state.
    assert (run_dir / "journals" / f"{master}.log").is_file()
    assert (run_dir / "state.json").is_file()
    # The next run works without any cleanup.
    again = fleet.run(tmp_path / "again", users="2", run_time="3s")
    assert again.returncode == 0, again.stderr[-3000:]


def test_a_worker_cannot_send_links_or_the_masters_files(fleet, tmp_path):
    worker = fleet.role("worker")[0]["name"]
    run_id = "forged-by-worker"
    results = _start(fleet, tmp_path, run_id)
    run_dir_on_host = f"/var/lib/locust/runs/{run_id}"
    forge = (
        "echo forged-stats > locust_stats.csv && echo forged > report.html && "
        f"ln -s /etc/shadow cpu-{worker}9.csv && ln -s /etc/passwd limits-{worker}.csv.x"
    )
    fleet.ssh(worker, f"cd {run_dir_on_host} && {LOCUST} '{forge}'")
    proc = _attach(fleet, results, run_id)
    text = flat(proc.stdout + proc.stderr)
    assert proc.returncode == 0, text[-3000:]  # the run itself is sound
    run_dir = results / run_id
    # The master's stats and report are the master's; nothing the links point to came home.
    assert "forged" not in (run_dir / "locust_stats.csv").read_text()
    assert "forged" not in (run_dir / "report.html").read_text()
    shadow = fleet.ssh(worker, "head -1 /etc/shadow").stdout.strip()
    assert all(shadow not in p.read_text(errors="replace") for p in _files(run_dir))
    assert not (run_dir / "cpu" / f"cpu-{worker}9.csv").exists()
    # Each refusal is said, naming the host and the file, in the output and in run.json.
    for said in (
        f"{worker}: locust_stats.csv: not a file this host sends",
        f"{worker}: report.html: not a file this host sends",
        f"{worker}: cpu-{worker}9.csv: a symbolic link (left on the host)",
        f"{worker}: limits-{worker}.csv.x: a symbolic link (left on the host)",
    ):
        assert said in text, text[-3000:]
        assert said in (run_dir / "run.json").read_text()
