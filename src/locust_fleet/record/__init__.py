"""A run's record: typed run.json, the hosts' archives brought home safely, run ids."""

from .archive import ArchiveError, Extracted, bring_home
from .build import build_record, merge_cpu_samples, read_state
from .ids import RUN_ID_PATTERN, check_run_id, new_run_id
from .model import SCHEMA_VERSION, RecordEvent, RecordHosts, RecordParameters, RunRecord

__all__ = [
    "RUN_ID_PATTERN",
    "SCHEMA_VERSION",
    "ArchiveError",
    "Extracted",
    "RecordEvent",
    "RecordHosts",
    "RecordParameters",
    "RunRecord",
    "bring_home",
    "build_record",
    "check_run_id",
    "merge_cpu_samples",
    "new_run_id",
    "read_state",
]
