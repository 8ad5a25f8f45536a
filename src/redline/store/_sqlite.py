"""SQLite store of runs, attempts, adaptive attack results, calibrations and baselines.

Attempts are written as each one completes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from redline.errors import StoreError

DEFAULT_DB_PATH = Path(".redline") / "redline.db"

# Ordered schema migrations; the database's user_version is the number applied.
# Append new steps, never edit old ones.
_MIGRATIONS: tuple[str, ...] = (
    """
    CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        created_at REAL NOT NULL,
        finished_at REAL,
        status TEXT NOT NULL,
        suite_name TEXT NOT NULL,
        suite_version TEXT NOT NULL,
        suite_fingerprint TEXT NOT NULL,
        suite_path TEXT NOT NULL,
        case_count INTEGER NOT NULL,
        target_spec TEXT NOT NULL,
        target_identity TEXT NOT NULL,
        params TEXT NOT NULL,
        classifiers TEXT NOT NULL,
        config TEXT NOT NULL,
        redline_version TEXT NOT NULL
    );
    CREATE TABLE attempts (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        case_id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        category TEXT NOT NULL,
        expected TEXT NOT NULL,
        severity TEXT NOT NULL,
        tags TEXT NOT NULL,
        messages TEXT NOT NULL,
        response_text TEXT NOT NULL,
        finish_reason TEXT,
        prompt_tokens INTEGER,
        completion_tokens INTEGER,
        latency_s REAL,
        requests INTEGER NOT NULL,
        error TEXT,
        error_kind TEXT,
        outcome TEXT NOT NULL,
        unassessed_reason TEXT,
        refusal_label TEXT,
        flagged INTEGER NOT NULL,
        verdicts TEXT NOT NULL,
        completed_at REAL NOT NULL,
        PRIMARY KEY (run_id, case_id)
    );
    CREATE INDEX attempts_run_seq ON attempts(run_id, seq);
    """,
    # IF NOT EXISTS lets two processes that upgrade the same file at once
    # both succeed.
    """
    CREATE TABLE IF NOT EXISTS calibrations (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        created_at REAL NOT NULL,
        classifier_name TEXT NOT NULL,
        classifier_version TEXT NOT NULL,
        classifier_identity TEXT NOT NULL,
        labels_path TEXT NOT NULL,
        labels_sha256 TEXT NOT NULL,
        row_count INTEGER NOT NULL,
        metrics TEXT NOT NULL,
        redline_version TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS calibrations_classifier
        ON calibrations(classifier_name, classifier_version, created_at);
    """,
    """
    CREATE TABLE IF NOT EXISTS baselines (
        name TEXT PRIMARY KEY,
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        created_at REAL NOT NULL,
        note TEXT
    );
    """,
    # Attack attempts. Rows stored before this step are plain cases, so they
    # get strategy 'direct' and their own case id as base_case_id.
    """
    ALTER TABLE attempts ADD COLUMN base_case_id TEXT;
    ALTER TABLE attempts ADD COLUMN strategy TEXT NOT NULL DEFAULT 'direct';
    ALTER TABLE attempts ADD COLUMN attack TEXT;
    ALTER TABLE attempts ADD COLUMN decoded_text TEXT;
    ALTER TABLE attempts ADD COLUMN decode_error TEXT;
    ALTER TABLE attempts ADD COLUMN attempt_index INTEGER NOT NULL DEFAULT 0;
    UPDATE attempts SET base_case_id = case_id WHERE base_case_id IS NULL;
    CREATE INDEX IF NOT EXISTS attempts_run_order
        ON attempts(run_id, seq, attempt_index);
    CREATE INDEX IF NOT EXISTS attempts_run_strategy
        ON attempts(run_id, strategy, base_case_id);
    """,
    # Adaptive attack results, one row per case and attack. success is NULL
    # when no turn of the attack could be assessed.
    """
    CREATE TABLE IF NOT EXISTS adaptive_results (
        run_id TEXT NOT NULL REFERENCES runs(run_id),
        case_id TEXT NOT NULL,
        attack TEXT NOT NULL,
        success INTEGER,
        queries_to_first_success INTEGER,
        stopped_reason TEXT NOT NULL,
        target_queries INTEGER NOT NULL,
        attacker_queries INTEGER NOT NULL,
        tokens INTEGER NOT NULL,
        result TEXT NOT NULL,
        completed_at REAL NOT NULL,
        PRIMARY KEY (run_id, case_id, attack)
    );
    """,
)
# Tables that must exist once each migration is applied, by schema version.
_TABLES_AT_VERSION: dict[int, frozenset[str]] = {
    1: frozenset({"runs", "attempts"}),
    2: frozenset({"runs", "attempts", "calibrations"}),
    3: frozenset({"runs", "attempts", "calibrations", "baselines"}),
    4: frozenset({"runs", "attempts", "calibrations", "baselines"}),
    5: frozenset({"runs", "attempts", "calibrations", "baselines", "adaptive_results"}),
}


@dataclass(slots=True)
class RunRecord:
    """Stored identity and state of one run.

    Attributes:
        run_id: Unique id, also used on the command line.
        created_at: Start time, seconds since the Unix epoch.
        status: ``running``, ``completed`` or ``interrupted``. A run killed
            without warning stays ``running`` and can be resumed.
        suite_fingerprint: sha256 over the suite's canonical cases.
        target_identity: What identifies the system under test (no secrets).
        params: Generation parameters sent with every request.
        classifiers: Identity of each classifier that judged the run.
        config: Runner settings (concurrency, timeout, retries).
    """

    run_id: str
    created_at: float
    status: str
    suite_name: str
    suite_version: str
    suite_fingerprint: str
    suite_path: str
    case_count: int
    target_spec: str
    target_identity: dict[str, Any]
    params: dict[str, Any]
    classifiers: list[dict[str, Any]]
    config: dict[str, Any]
    redline_version: str
    finished_at: float | None = None


@dataclass(slots=True)
class AttemptRecord:
    """One request sent to the target, its response and how it was judged.

    A case gives one direct attempt, its own messages, plus one attempt per
    attack message list that a strategy built from it.

    Attributes:
        case_id: Id of the attempt, unique in its run: the case id for the
            direct attempt, ``CASE::CHAIN#N`` for the N-th attack attempt
            of a strategy chain, counted from 1, and ``CASE::CHAIN`` when
            the chain failed to build any attempt.
        seq: Position of the case in the suite, so reports keep suite order;
            every attempt of a case has the same value.
        messages: Exact chat messages sent.
        latency_s: Duration of the successful request in seconds.
        requests: Requests sent, retries included.
        outcome: ``safe``, ``unsafe``, ``answered``, ``over_refused`` or
            ``unassessed``.
        unassessed_reason: Why the attempt could not be judged, or None.
        refusal_label: Label of the refusal detector, when it ran.
        flagged: True when any content classifier flagged the output.
        verdicts: Every classifier verdict as JSON-ready data.
        base_case_id: Id of the suite case; None is read as ``case_id``.
        strategy: Strategy chain in spec form, such as ``base64+roleplay``,
            or ``direct`` for the case as the suite gives it.
        attack: The attack as JSON-ready data (``chain``, ``params``,
            ``seed``, ``variants``, ``decoder``), or None for a direct attempt.
        decoded_text: Response after decoding, which the classifiers
            judged, or None when the attempt had no decoder or decoding failed.
        decode_error: Why decoding the response failed, or None.
        attempt_index: Position of the attempt among those of its case,
            0 for the direct attempt.
    """

    run_id: str
    case_id: str
    seq: int
    category: str
    expected: str
    severity: str
    tags: list[str]
    messages: list[dict[str, str]]
    response_text: str
    finish_reason: str | None
    prompt_tokens: int | None
    completion_tokens: int | None
    latency_s: float | None
    requests: int
    error: str | None
    error_kind: str | None
    outcome: str
    unassessed_reason: str | None
    refusal_label: str | None
    flagged: bool
    verdicts: list[dict[str, Any]] = field(default_factory=list)
    completed_at: float = 0.0
    base_case_id: str | None = None
    strategy: str = "direct"
    attack: dict[str, Any] | None = None
    decoded_text: str | None = None
    decode_error: str | None = None
    attempt_index: int = 0

    def __post_init__(self) -> None:
        if self.base_case_id is None:
            self.base_case_id = self.case_id


@dataclass(slots=True)
class CalibrationRecord:
    """Stored measurement of one classifier against a labels file.

    Attributes:
        id: Row id that :meth:`Store.add_calibration` assigns, or None before.
        created_at: Time of the measurement, seconds since the Unix epoch.
        classifier_name: Registry name of the classifier.
        classifier_version: Version of the classifier's logic or weights.
        classifier_identity: Full identity of the classifier, as stored with runs.
        labels_path: Absolute path of the labels file, or ``(in memory)``
            for labelled rows passed from Python.
        labels_sha256: sha256 of the labels file's bytes, or of the labelled
            rows passed from Python.
        row_count: Labelled rows read, unassessed ones included.
        metrics: The calibration figures as JSON-ready data, from
            ``CalibrationResult.to_dict()``.
        redline_version: redline version that measured it.
    """

    created_at: float
    classifier_name: str
    classifier_version: str
    classifier_identity: dict[str, Any]
    labels_path: str
    labels_sha256: str
    row_count: int
    metrics: dict[str, Any]
    redline_version: str
    id: int | None = None


@dataclass(slots=True)
class BaselineRecord:
    """A named pointer to the run that candidates are compared with.

    Attributes:
        name: Unique name, such as ``main`` or ``release-1.4``.
        run_id: Id of the run it points to.
        created_at: When the name was last set, seconds since the Unix epoch.
        note: Free text given when it was set, or None.
    """

    name: str
    run_id: str
    created_at: float
    note: str | None = None


@dataclass(slots=True)
class AdaptiveRecord:
    """Stored result of one adaptive attack on one case.

    Attributes:
        case_id: Id of the suite case that was attacked.
        attack: Registry name of the adaptive attack, such as ``pair``.
        success: Whether a turn succeeded, or None when no turn could be
            assessed, because every judged turn was unassessed or none was sent.
        queries_to_first_success: Target queries up to and including the
            first success, or None.
        stopped_reason: Why the attack stopped, one of
            ``redline.attacks.STOP_REASONS``.
        target_queries: Requests sent to the target.
        attacker_queries: Requests sent to the attacker model.
        tokens: Prompt plus completion tokens of attacker and target.
        result: The full result from ``AdaptiveResult.to_dict()``.
        completed_at: When the attack ended, seconds since the Unix epoch.
    """

    run_id: str
    case_id: str
    attack: str
    success: bool | None
    queries_to_first_success: int | None
    stopped_reason: str
    target_queries: int
    attacker_queries: int
    tokens: int
    result: dict[str, Any]
    completed_at: float


_ATTEMPT_COLUMNS = tuple(AttemptRecord.__dataclass_fields__)
_ADAPTIVE_COLUMNS = tuple(AdaptiveRecord.__dataclass_fields__)
_JSON_ATTEMPT_COLUMNS = frozenset({"tags", "messages", "verdicts", "attack"})
_RUN_COLUMNS = tuple(RunRecord.__dataclass_fields__)
_JSON_RUN_COLUMNS = frozenset({"target_identity", "params", "classifiers", "config"})
_CALIBRATION_COLUMNS = tuple(CalibrationRecord.__dataclass_fields__)
_JSON_CALIBRATION_COLUMNS = frozenset({"classifier_identity", "metrics"})
_SELECT_CALIBRATIONS = f"SELECT {', '.join(_CALIBRATION_COLUMNS)} FROM calibrations"
_INSERT_ATTEMPT = (
    f"INSERT INTO attempts ({', '.join(_ATTEMPT_COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in _ATTEMPT_COLUMNS)})"
)


class Store:
    """Runs, attempts and calibrations in one SQLite file, in WAL mode.

    Each :meth:`add_attempts` call is one committed transaction, so a process
    killed at any point keeps every attempt whose call returned.
    """

    def __init__(self, path: str | Path = DEFAULT_DB_PATH, *, create: bool = True):
        """Open or create the database at ``path``.

        Raises:
            StoreError: The file cannot be opened, is not a redline database,
                or is missing while ``create`` is False.
        """
        self.path = Path(path)
        if not create and not self.path.is_file():
            raise StoreError(
                f"no results database at {str(self.path)!r}; run 'redline run' first "
                "or pass --db"
            )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Wait up to 30 s for another process's write lock instead of failing.
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
            self._db.execute("PRAGMA journal_mode=WAL")
            # NORMAL keeps committed transactions through a process kill in
            # WAL mode; only a power loss can drop the last ones.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise StoreError(
                f"cannot open results database {str(self.path)!r}: {exc}; "
                "check the path is a writable SQLite file or pass another --db"
            ) from exc

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _migrate(self) -> None:
        current = self._db.execute("PRAGMA user_version").fetchone()[0]
        if current > len(_MIGRATIONS):
            raise StoreError(
                f"{self.path} has schema version {current}, newer than this redline "
                f"supports ({len(_MIGRATIONS)}); upgrade redline"
            )
        # Check an older database before upgrading it, so that a foreign
        # SQLite file that merely has a user_version is left unchanged.
        if current:
            self._check_tables(current)
        for number in range(current, len(_MIGRATIONS)):
            try:
                self._db.executescript(
                    f"BEGIN; {_MIGRATIONS[number]} "
                    f"PRAGMA user_version = {number + 1}; COMMIT;"
                )
            except sqlite3.OperationalError:
                # ALTER TABLE has no IF NOT EXISTS, so a step fails when another
                # process applied it after user_version was read here.
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                applied = self._db.execute("PRAGMA user_version").fetchone()[0]
                if applied <= number:
                    raise
        self._check_tables(len(_MIGRATIONS))

    def _check_tables(self, version: int) -> None:
        rows = self._db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        missing = _TABLES_AT_VERSION[version] - {row[0] for row in rows}
        if missing:
            raise StoreError(
                f"{self.path} is not a redline results database (no table "
                f"{', '.join(sorted(missing))}); pass another --db"
            )

    def create_run(self, run: RunRecord) -> None:
        """Insert a new run."""
        row = [
            _encode(name, getattr(run, name), _JSON_RUN_COLUMNS)
            for name in _RUN_COLUMNS
        ]
        placeholders = ", ".join("?" for _ in _RUN_COLUMNS)
        with self._transaction():
            self._db.execute(
                f"INSERT INTO runs ({', '.join(_RUN_COLUMNS)}) VALUES ({placeholders})",
                row,
            )

    def set_run_status(self, run_id: str, status: str) -> None:
        """Set a run's status, stamping the finish time for ``completed``."""
        finished = time.time() if status == "completed" else None
        with self._transaction():
            self._db.execute(
                "UPDATE runs SET status = ?, finished_at = ? WHERE run_id = ?",
                (status, finished, run_id),
            )

    def add_attempts(self, attempts: Sequence[AttemptRecord]) -> None:
        """Insert attempts in one committed transaction."""
        rows = [
            [
                _encode(name, getattr(a, name), _JSON_ATTEMPT_COLUMNS)
                for name in _ATTEMPT_COLUMNS
            ]
            for a in attempts
        ]
        with self._transaction():
            self._db.executemany(_INSERT_ATTEMPT, rows)

    def get_run(self, run_id: str) -> RunRecord:
        """Return a stored run.

        Raises:
            StoreError: No run has that id, or a unique prefix of it.
        """
        rows = self.query(
            f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs "
            "WHERE substr(run_id, 1, length(?)) = ?",
            (run_id, run_id),
        )
        if len(rows) != 1:
            problem = "no run" if not rows else f"{len(rows)} runs"
            raise StoreError(
                f"{problem} with id {run_id!r} in {self.path}; "
                "list stored runs with 'redline runs'"
            )
        return _decode_run(rows[0])

    def list_runs(self, limit: int = 50) -> list[RunRecord]:
        """Return the newest runs first."""
        rows = self.query(
            f"SELECT {', '.join(_RUN_COLUMNS)} FROM runs ORDER BY created_at DESC LIMIT ?",
            (limit,),
        )
        return [_decode_run(row) for row in rows]

    def done_case_ids(self, run_id: str) -> set[str]:
        """Return the ids of cases that already have an attempt in a run."""
        cursor = self._db.execute(
            "SELECT case_id FROM attempts WHERE run_id = ?", (run_id,)
        )
        return {row[0] for row in cursor}

    def iter_attempts(
        self, run_id: str, batch_size: int = 500
    ) -> Iterator[AttemptRecord]:
        """Yield a run's attempts in suite order, each case's direct attempt first."""
        cursor = self._db.execute(
            f"SELECT {', '.join(_ATTEMPT_COLUMNS)} FROM attempts WHERE run_id = ? "
            "ORDER BY seq, attempt_index",
            (run_id,),
        )
        while rows := cursor.fetchmany(batch_size):
            for row in rows:
                yield _decode_attempt(row)

    def add_adaptive_result(self, record: AdaptiveRecord) -> None:
        """Insert one adaptive attack result in its own committed transaction."""
        row = [
            _encode(name, getattr(record, name), frozenset({"result"}))
            for name in _ADAPTIVE_COLUMNS
        ]
        placeholders = ", ".join("?" for _ in _ADAPTIVE_COLUMNS)
        with self._transaction():
            self._db.execute(
                f"INSERT INTO adaptive_results ({', '.join(_ADAPTIVE_COLUMNS)}) "
                f"VALUES ({placeholders})",
                row,
            )

    def iter_adaptive_results(self, run_id: str) -> Iterator[AdaptiveRecord]:
        """Yield a run's adaptive attack results in the order they completed."""
        cursor = self._db.execute(
            f"SELECT {', '.join(_ADAPTIVE_COLUMNS)} FROM adaptive_results "
            "WHERE run_id = ? ORDER BY completed_at, case_id, attack",
            (run_id,),
        )
        for row in cursor:
            yield _decode_adaptive(row)

    def done_adaptive_pairs(self, run_id: str) -> set[tuple[str, str]]:
        """Return the (case id, attack name) pairs of a run that have a result."""
        cursor = self._db.execute(
            "SELECT case_id, attack FROM adaptive_results WHERE run_id = ?", (run_id,)
        )
        return {(row[0], row[1]) for row in cursor}

    def add_calibration(self, calibration: CalibrationRecord) -> int:
        """Insert a calibration and return its id, also set on ``calibration``."""
        columns = [name for name in _CALIBRATION_COLUMNS if name != "id"]
        row = [
            _encode(name, getattr(calibration, name), _JSON_CALIBRATION_COLUMNS)
            for name in columns
        ]
        placeholders = ", ".join("?" for _ in columns)
        with self._transaction():
            cursor = self._db.execute(
                f"INSERT INTO calibrations ({', '.join(columns)}) VALUES ({placeholders})",
                row,
            )
        assert cursor.lastrowid is not None
        calibration.id = cursor.lastrowid
        return cursor.lastrowid

    def list_calibrations(
        self, classifier: str | None = None
    ) -> list[CalibrationRecord]:
        """Return stored calibrations, newest first, of one classifier name or all."""
        if classifier is None:
            rows = self.query(
                f"{_SELECT_CALIBRATIONS} ORDER BY created_at DESC, id DESC"
            )
        else:
            rows = self.query(
                f"{_SELECT_CALIBRATIONS} WHERE classifier_name = ? "
                "ORDER BY created_at DESC, id DESC",
                (classifier,),
            )
        return [_decode_calibration(row) for row in rows]

    def latest_calibration(self, name: str, version: str) -> CalibrationRecord | None:
        """Return the newest calibration of a classifier name and version, or None."""
        rows = self.query(
            f"{_SELECT_CALIBRATIONS} WHERE classifier_name = ? AND classifier_version = ? "
            "ORDER BY created_at DESC, id DESC LIMIT 1",
            (name, version),
        )
        return _decode_calibration(rows[0]) if rows else None

    def set_baseline(
        self, name: str, run_id: str, note: str | None = None
    ) -> BaselineRecord:
        """Point a baseline name at a run, replacing where it pointed before.

        Raises:
            StoreError: No run has that id or unique prefix.
        """
        run = self.get_run(run_id)
        record = BaselineRecord(name, run.run_id, time.time(), note)
        with self._transaction():
            self._db.execute(
                "INSERT INTO baselines (name, run_id, created_at, note) "
                "VALUES (?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET "
                "run_id = excluded.run_id, created_at = excluded.created_at, "
                "note = excluded.note",
                (record.name, record.run_id, record.created_at, record.note),
            )
        return record

    def get_baseline(self, name: str) -> BaselineRecord | None:
        """Return the baseline with that name, or None."""
        rows = self.query(
            "SELECT name, run_id, created_at, note FROM baselines WHERE name = ?",
            (name,),
        )
        return BaselineRecord(*rows[0]) if rows else None

    def list_baselines(self) -> list[BaselineRecord]:
        """Return every baseline, by name."""
        rows = self.query(
            "SELECT name, run_id, created_at, note FROM baselines ORDER BY name"
        )
        return [BaselineRecord(*row) for row in rows]

    def query(self, sql: str, parameters: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read-only SQL query and return all rows (for metrics)."""
        try:
            return self._db.execute(sql, tuple(parameters)).fetchall()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read {self.path}: {exc}") from exc

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db, self.path)


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, turning SQLite failures into StoreError."""

    def __init__(self, db: sqlite3.Connection, path: Path):
        self._db = db
        self._path = path

    def __enter__(self) -> None:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise StoreError(f"cannot write to {self._path}: {exc}") from exc

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            try:
                self._db.execute("COMMIT")
                return
            except sqlite3.Error as commit_error:
                self._rollback()
                raise StoreError(
                    f"cannot write to {self._path}: {commit_error}"
                ) from None
        self._rollback()
        if isinstance(exc, sqlite3.IntegrityError):
            raise StoreError(f"conflicting write to {self._path}: {exc}") from exc
        if isinstance(exc, (sqlite3.Error, OverflowError, ValueError)):
            raise StoreError(f"cannot write to {self._path}: {exc!r}") from exc

    def _rollback(self) -> None:
        try:
            self._db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # no transaction is open after a failed BEGIN or COMMIT


def _encode(name: str, value: Any, json_columns: frozenset[str]) -> Any:
    if name in json_columns and value is not None:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, bool):
        return int(value)
    return value


def _decode_run(row: Sequence[Any]) -> RunRecord:
    values = dict(zip(_RUN_COLUMNS, row, strict=True))
    where = f"run {values['run_id']}"
    for name in _JSON_RUN_COLUMNS:
        values[name] = _load_json(values[name], where, name)
    return RunRecord(**values)


def _decode_attempt(row: Sequence[Any]) -> AttemptRecord:
    values = dict(zip(_ATTEMPT_COLUMNS, row, strict=True))
    where = f"attempt of case {values['case_id']!r} in run {values['run_id']}"
    for name in _JSON_ATTEMPT_COLUMNS:
        if values[name] is not None:
            values[name] = _load_json(values[name], where, name)
    values["flagged"] = bool(values["flagged"])
    return AttemptRecord(**values)


def _decode_adaptive(row: Sequence[Any]) -> AdaptiveRecord:
    values = dict(zip(_ADAPTIVE_COLUMNS, row, strict=True))
    where = (
        f"adaptive result {values['attack']!r} of case {values['case_id']!r} "
        f"in run {values['run_id']}"
    )
    values["result"] = _load_json(values["result"], where, "result")
    if values["success"] is not None:
        values["success"] = bool(values["success"])
    return AdaptiveRecord(**values)


def _decode_calibration(row: Sequence[Any]) -> CalibrationRecord:
    values = dict(zip(_CALIBRATION_COLUMNS, row, strict=True))
    where = f"calibration {values['id']}"
    for name in _JSON_CALIBRATION_COLUMNS:
        values[name] = _load_json(values[name], where, name)
    return CalibrationRecord(**values)


def _load_json(text: str, where: str, column: str) -> Any:
    """Parse a JSON column, raising StoreError for text that redline did not write."""
    try:
        return json.loads(text)
    except (TypeError, json.JSONDecodeError) as exc:
        raise StoreError(
            f"{where}: column {column!r} is not valid JSON ({exc}); the database "
            "was changed outside redline. Restore it from a copy, or delete that "
            "row to read the others"
        ) from None


def attempt_to_dict(attempt: AttemptRecord) -> dict[str, Any]:
    """Return an attempt as JSON-ready data.

    The nested values come straight from JSON, so a shallow copy is enough;
    ``dataclasses.asdict`` would deep-copy them at several times the cost.
    """
    return {name: getattr(attempt, name) for name in _ATTEMPT_COLUMNS}
