"""load_run on real recorded runs (tests/data/runs) and on broken copies of them."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from locust_fleet.results import ResultsError, load_run

DATA = Path(__file__).resolve().parents[1] / "data" / "runs"


def copy_run(tmp_path: Path, name: str = "standalone") -> Path:
    target = tmp_path / name
    shutil.copytree(DATA / name, target)
    return target


def replace_line(path: Path, line_number: int, new: str) -> None:
    lines = path.read_text().splitlines()
    lines[line_number - 1] = new
    path.write_text("\n".join(lines) + "\n")


# --- the numbers in the recorded CSVs -------------------------------------------------------


def test_aggregated_row_has_the_numbers_locust_wrote() -> None:
    results = load_run(DATA / "standalone")
    agg = results.aggregated
    assert (agg.method, agg.name) == ("", "Aggregated")
    assert agg.is_aggregated
    assert agg.request_count == 2043
    assert agg.failure_count == 205
    assert agg.requests_per_s == pytest.approx(145.85494133360126)
    assert agg.failures_per_s == pytest.approx(14.63546890523165)
    assert agg.average_ms == pytest.approx(6.868372667645808)
    assert agg.max_ms == pytest.approx(1036.2080999999819)
    assert agg.median_ms == 3
    assert agg.percentile(95) == 7
    assert agg.percentile(99) == 9
    assert agg.percentile(99.9) == 1000
    assert agg.fail_ratio == pytest.approx(205 / 2043)
    assert list(agg.percentiles) == [50, 66, 75, 80, 90, 95, 98, 99, 99.9, 99.99, 100]


def test_endpoint_rows_in_csv_order_without_the_aggregated_row() -> None:
    results = load_run(DATA / "standalone")
    assert [row.label for row in results.endpoints] == ["GET /", "GET /about", "GET /missing"]
    missing = results.find_endpoints("/missing", "get")
    assert len(missing) == 1
    assert missing[0].request_count == missing[0].failure_count == 205
    assert missing[0].fail_ratio == 1.0
    about = results.find_endpoints("/about")[0]
    assert (about.request_count, about.percentile(95), about.average_content_size) == (735, 7, 35)
    assert results.all_rows[-1] is results.aggregated


def test_history_rows_keep_na_as_none_and_parse_unix_seconds() -> None:
    results = load_run(DATA / "standalone")
    assert len(results.history) == 57
    first = results.history[0]
    assert first.is_aggregated
    assert first.timestamp == datetime.fromtimestamp(1795869436, UTC)
    assert first.percentiles[95.0] is None  # Locust wrote N/A before any request
    agg = results.aggregated_history
    assert len(agg) == 15
    last = agg[-1]
    assert (last.user_count, last.total_request_count, last.total_failure_count) == (20, 2043, 205)
    assert last.requests_per_s == pytest.approx(154.9)
    assert last.percentiles[95.0] == 7
    endpoint_rows = [row for row in results.history if row.label == "GET /missing"]
    assert endpoint_rows and all(not row.is_aggregated for row in endpoint_rows)


def test_failures_and_exceptions() -> None:
    standalone = load_run(DATA / "standalone")
    (failure,) = standalone.failures
    assert failure.label == "GET /missing"
    assert failure.occurrences == 205
    assert "404 Client Error" in failure.error
    assert failure.first_seen == datetime(2026, 11, 28, 12, 37, 16, tzinfo=UTC)
    assert standalone.exceptions == ()
    saturated = load_run(DATA / "saturated")
    (exception,) = saturated.exceptions
    assert exception.count == 158
    assert exception.message == "plan bug: no token in response"
    assert 'raise ValueError("plan bug' in exception.traceback  # multi-line quoted field
    assert exception.nodes == ("vm_2a320790a247421ca0547b7b543d9c74",)
    assert saturated.failures == ()
    assert saturated.exception_count == 158
    assert saturated.had_errors  # Locust exits 1 on exceptions alone


def test_json_stats_are_kept_and_show_the_csv_lag() -> None:
    results = load_run(DATA / "standalone")
    assert results.json_stats is not None
    by_label = {entry.label: entry for entry in results.json_stats}
    assert set(by_label) == {"GET /", "GET /about", "GET /missing"}
    # stats.json is written at shutdown; the CSV's last rewrite was up to a second earlier
    assert by_label["GET /missing"].num_requests == 217
    assert results.find_endpoints("/missing")[0].request_count == 205
    assert sum(by_label["GET /missing"].requests_per_second.values()) == 217


def test_metadata_cpu_samples_and_files_of_a_distributed_run() -> None:
    results = load_run(DATA / "distributed")
    meta = results.metadata
    assert meta.run_id == "20261128T123751Z-distributed"
    assert (meta.workers_expected, meta.workers_connected, meta.master_exit_code) == (2, 2, 1)
    assert meta.parameters.users == 30 and meta.parameters.spawn_rate == 15
    assert meta.started_at == datetime(2026, 11, 28, 12, 37, 50, 986000, tzinfo=UTC)
    assert meta.duration_s == pytest.approx(19.29)
    assert meta.hosts.workers == ("controller",)
    assert len(results.cpu_samples) == 50
    roles = [s.role for s in results.cpu_samples]
    assert roles.count("master") == 18 and roles.count("worker") == 32
    assert {s.unit for s in results.cpu_samples if s.role == "worker"} == {
        "locust-worker@1.service",
        "locust-worker@2.service",
    }
    assert list(results.files.journals) == ["controller"]
    assert results.files.master_log is not None
    assert results.files.report_html is None


def test_optional_files_may_be_missing(tmp_path: Path) -> None:
    run = copy_run(tmp_path, "distributed")
    for name in (
        "locust_stats_history.csv",
        "locust_failures.csv",
        "locust_exceptions.csv",
        "stats.json",
        "cpu_samples.csv",
        "master.log",
    ):
        (run / name).unlink()
    shutil.rmtree(run / "journals")
    results = load_run(run)
    assert results.aggregated.request_count == 3168
    assert results.history == () and results.failures == () and results.exceptions == ()
    assert results.cpu_samples == () and results.json_stats is None
    assert results.files.journals == {} and results.files.master_log is None


# --- errors name the file, the line and the problem -----------------------------------------


@pytest.mark.parametrize("name", ["run.json", "locust_stats.csv"])
def test_required_file_missing(tmp_path: Path, name: str) -> None:
    run = copy_run(tmp_path)
    (run / name).unlink()
    with pytest.raises(ResultsError, match=rf"{name}: missing"):
        load_run(run)


def test_not_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ResultsError, match="not a directory"):
        load_run(tmp_path / "nope")


def test_non_number_in_stats_names_file_line_column(tmp_path: Path) -> None:
    run = copy_run(tmp_path)
    stats = run / "locust_stats.csv"
    replace_line(
        stats, 3, "GET,/about,735,0,3,7.5,1.4,1036.2,35.0,abc,0.0,3,4,4,4,5,7,8,9,1000,1000,1000"
    )
    with pytest.raises(ResultsError) as caught:
        load_run(run)
    assert str(caught.value) == (f"{stats}: line 3: column 'Requests/s': 'abc' is not a number")
    assert caught.value.line == 3


def test_stats_without_aggregated_row(tmp_path: Path) -> None:
    run = copy_run(tmp_path)
    stats = run / "locust_stats.csv"
    stats.write_text("\n".join(stats.read_text().splitlines()[:-1]) + "\n")
    with pytest.raises(ResultsError, match=r"no 'Aggregated' row.*truncated"):
        load_run(run)


def test_stats_with_missing_column(tmp_path: Path) -> None:
    run = copy_run(tmp_path)
    stats = run / "locust_stats.csv"
    stats.write_text(stats.read_text().replace("Failure Count", "Failure Cnt", 1))
    with pytest.raises(ResultsError, match=r"line 1: header lacks column\(s\) 'Failure Count'"):
        load_run(run)


def test_truncated_row(tmp_path: Path) -> None:
    run = copy_run(tmp_path)
    stats = run / "locust_stats.csv"
    replace_line(stats, 2, "GET,/,1103,0,3")
    with pytest.raises(ResultsError, match="line 2: expected 22 fields as in the header, found 5"):
        load_run(run)


def test_empty_stats_file(tmp_path: Path) -> None:
    run = copy_run(tmp_path)
    (run / "locust_stats.csv").write_text("")
    with pytest.raises(ResultsError, match=r"locust_stats\.csv: empty file"):
        load_run(run)


def test_more_failures_than_requests(tmp_path: Path) -> None:
    run = copy_run(tmp_path)
    stats = run / "locust_stats.csv"
    stats.write_text(stats.read_text().replace("GET,/missing,205,205", "GET,/missing,205,206"))
    with pytest.raises(ResultsError, match="Failure Count 206 exceeds Request Count 205"):
        load_run(run)


def test_bad_history_timestamp(tmp_path: Path) -> None:
    run = copy_run(tmp_path)
    history = run / "locust_stats_history.csv"
    lines = history.read_text().splitlines()
    lines[1] = "yesterday" + lines[1][len("1795869436") :]
    history.write_text("\n".join(lines) + "\n")
    with pytest.raises(ResultsError, match=r"history.csv: line 2: column 'Timestamp': 'yesterday'"):
        load_run(run)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2026-11-28T12:37:17Z,h,client,u,1,5.0", "column 'role': 'client' is not one of"),
        ("2026-11-28T12:37:17Z,h,worker,u,1,-5", "column 'cpu_percent': -5.0 is negative"),
        ("2026-11-28T12:37:17Z,h,worker,u,x,5", "column 'pid': 'x' is not a whole number"),
        ("noon,h,worker,u,1,5", "column 'timestamp': 'noon' is not a timestamp"),
    ],
)
def test_bad_cpu_samples(tmp_path: Path, row: str, message: str) -> None:
    run = copy_run(tmp_path)
    replace_line(run / "cpu_samples.csv", 2, row)
    with pytest.raises(ResultsError, match=rf"cpu_samples.csv: line 2: {message}"):
        load_run(run)


def test_cpu_samples_with_wait_column(tmp_path: Path) -> None:
    run = copy_run(tmp_path)
    (run / "cpu_samples.csv").write_text(
        "timestamp,host,role,unit,pid,cpu_percent,wait_percent\n"
        "2026-11-28T12:37:17Z,h,worker,u,1,30.0,68.5\n"
        "2026-11-28T12:37:18Z,h,worker,u,1,31.0,N/A\n"
    )
    first, second = load_run(run).cpu_samples
    assert (first.cpu_percent, first.wait_percent, first.demand_percent) == (30.0, 68.5, 98.5)
    assert (second.wait_percent, second.demand_percent) == (None, 31.0)


def test_negative_wait_is_refused(tmp_path: Path) -> None:
    run = copy_run(tmp_path)
    (run / "cpu_samples.csv").write_text(
        "timestamp,host,role,unit,pid,cpu_percent,wait_percent\n"
        "2026-11-28T12:37:17Z,h,worker,u,1,30.0,-1\n"
    )
    with pytest.raises(ResultsError, match=r"line 2: column 'wait_percent': -1\.0 is negative"):
        load_run(run)


def test_run_json_not_json(tmp_path: Path) -> None:
    run = copy_run(tmp_path)
    (run / "run.json").write_text('{"run_id": ')
    with pytest.raises(ResultsError, match=r"run\.json: line 1: not valid JSON"):
        load_run(run)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d.pop("run_id"), "key 'run_id': missing"),
        (
            lambda d: d["parameters"].update(users="many"),
            "key 'parameters.users': expected an integer",
        ),
        (lambda d: d.update(started_at="soon"), "key 'started_at': 'soon' is not an ISO-8601 time"),
        (lambda d: d.update(events=[{"host": "w1"}]), r"key 'events\[0\].kind': missing"),
        (
            lambda d: d["hosts"].update(workers=[1]),
            "key 'hosts.workers': expected a list of strings",
        ),
    ],
)
def test_run_json_bad_keys(tmp_path: Path, edit, message: str) -> None:
    run = copy_run(tmp_path)
    data = json.loads((run / "run.json").read_text())
    edit(data)
    (run / "run.json").write_text(json.dumps(data))
    with pytest.raises(ResultsError, match=rf"run.json: {message}"):
        load_run(run)


def test_run_json_nulls_are_allowed_where_documented(tmp_path: Path) -> None:
    run = copy_run(tmp_path)
    data = json.loads((run / "run.json").read_text())
    data.update(ended_at=None, workers_connected=None, master_exit_code=None)
    data["events"] = [
        {"time": "2026-11-28T12:37:20Z", "host": "w1", "kind": "worker_missing", "message": "gone"}
    ]
    (run / "run.json").write_text(json.dumps(data))
    meta = load_run(run).metadata
    assert meta.ended_at is None and meta.duration_s is None
    assert meta.workers_connected is None and meta.master_exit_code is None
    assert meta.events[0].kind == "worker_missing"
    assert meta.events[0].time == datetime(2026, 11, 28, 12, 37, 20, tzinfo=UTC)


def test_stats_json_wrong_shape(tmp_path: Path) -> None:
    run = copy_run(tmp_path)
    (run / "stats.json").write_text('{"name": "/"}')
    with pytest.raises(ResultsError, match=r"stats\.json: expected a list of endpoint objects"):
        load_run(run)
    (run / "stats.json").write_text('[{"name": "/"}]')
    with pytest.raises(ResultsError, match=r"stats\.json: entry 0: missing key"):
        load_run(run)


@pytest.mark.parametrize("name", ["locust_failures.csv", "run.json", "stats.json"])
def test_binary_garbage_is_reported_not_crashed_on(tmp_path: Path, name: str) -> None:
    run = copy_run(tmp_path)
    (run / name).write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ResultsError, match=rf"{re.escape(name)}: not UTF-8 text"):
        load_run(run)


def test_run_json_as_the_run_playbook_writes_it(tmp_path: Path) -> None:
    """Extra keys, numbers as text, extra_args as a mapping, an error, no start time."""
    run = copy_run(tmp_path)
    data = json.loads((run / "run.json").read_text())
    data["parameters"].update(
        users="50",
        spawn_rate="25.0",
        run_seconds=20,
        user_classes=["WebsiteUser"],
        extra_args={"--search-term": "shoes"},
        target_url="http://10.0.0.20",
    )
    data.update(
        started_at=None,
        workers_expected="4",
        workers_connected=3,
        worker_processes={"w1": 2, "w2": "2"},
        master_unit_result="exit-code",
        error="host w2: locustfile.py sha256 3f2a differs",
    )
    (run / "run.json").write_text(json.dumps(data))
    meta = load_run(run).metadata
    assert (meta.parameters.users, meta.parameters.spawn_rate) == (50, 25.0)
    assert meta.parameters.extra_args == ("--search-term=shoes",)
    assert meta.parameters.target_url == "http://10.0.0.20"
    assert meta.started_at is None and meta.duration_s is None
    assert (meta.workers_expected, meta.workers_connected) == (4, 3)
    assert meta.worker_processes == {"w1": 2, "w2": 2}
    assert meta.master_unit_result == "exit-code"
    assert meta.error.startswith("host w2")
