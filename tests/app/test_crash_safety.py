"""Crash safety: `mel import`, the API import, the PUT of one return and the web upload, each
killed with SIGKILL at named moments, on a real database (PostgreSQL when MEL_TEST_DATABASE_URL
is set, else an SQLite file) and real processes (the CLI; gunicorn for the web and the API).

After every kill: each return of the file holds all its figures from the file or exactly what it
held before (and the file is one unit: all returns or none), the audit rows equal the values
changed (every batch's audit rows = its created + updated counts; each figure's last audit row
carries its value; each return's version is its last audit row's), no import batch without its
figures, no lock left behind, and the service starts (`/healthz` 200). The same file sent again
is then stored, and sent once more changes nothing.

How a process is stopped at a moment, without any hook in production code:
- `start`, `commit`, `after_commit`: the process runs under GATE, test-only SQLAlchemy event
  listeners that park it (and say so in a file) before its first statement, just before the
  COMMIT of a transaction that wrote an import batch, or just after that commit;
- `batch`, `values`, `audit` (writing import_batch, data_value, value_change): on PostgreSQL the
  test holds a SHARE lock on the table and kills the process once pg_stat_activity shows it
  waiting for that lock (observation, no sleeps); on SQLite GATE parks it before the statement;
- `printing` (`mel import`): its stdout is a pipe filled to capacity that nobody reads, so it
  blocks on its first line; the figures must already be committed then (on PostgreSQL its
  connection must not be left "idle in transaction").
"""

from __future__ import annotations

import fcntl
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
import requests
from sqlalchemy import Engine, create_engine, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from indicators.figures import split_code
from mel.catalogue.models import Indicator, OptionCombo, OrgUnit, Programme
from mel.returns.models import DataValue, ImportBatch, Return, ValueChange
from tests.helpers import CSRF_RE, flat_rows, fresh_database_url

pytestmark = pytest.mark.slow

SECRETARIAT = "secretariat@crash.test"
PASSWORD = "Kilimo-na-maji-" + "7f3a9c2e"  # long, not a common password
PROGRAMME = "OPCT"
QUARTERS = ("2025Q3", "2025Q4")  # windows open for the secretariat ever since
COLUMNS = ["indicator", "option", "org_unit", "period", "value", "comment", "explanation"]
BIN = Path(sys.executable).parent
WAIT = 120  # seconds before a test gives up waiting for a process to reach a moment

# Test-only: parks the process at the moment named in the file $CRASH_POINT_FILE (read at each
# event, so one server serves several scenarios) and writes where it stopped to $CRASH_MARK.
GATE = r'''
import os, re, sys, time
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

_STATEMENTS = {"start": r".", "batch": r"\s*INSERT INTO import_batch\b",
               "values": r"\s*(INSERT INTO|UPDATE) data_value\b", "audit": r"\s*INSERT INTO value_change\b"}
_wrote_batch = [False]


def _point():
    try:
        with open(os.environ["CRASH_POINT_FILE"]) as f:
            return f.read().strip()
    except OSError:
        return ""


def _park(where):
    with open(os.environ["CRASH_MARK"], "w") as f:
        f.write(where)
    while True:
        time.sleep(60)


@event.listens_for(Engine, "before_cursor_execute")
def _statement(conn, cursor, statement, parameters, context, executemany):
    if re.match(r"\s*INSERT INTO import_batch\b", statement, re.I):
        _wrote_batch[0] = True
    pattern = _STATEMENTS.get(_point())
    if pattern and re.match(pattern, statement, re.I):
        _park(statement[:60])


@event.listens_for(Engine, "commit")
def _commit(conn):
    if _wrote_batch[0] and _point() == "commit":
        _park("commit")


@event.listens_for(Engine, "rollback")
def _rollback(conn):
    _wrote_batch[0] = False


@event.listens_for(Session, "after_commit")
def _after_commit(session):
    wrote, _wrote_batch[0] = _wrote_batch[0], False
    if wrote and _point() == "after_commit":
        _park("after commit")
'''
CLI = GATE + "\nfrom mel.cli import main\nmain()\n"
SERVER = GATE + "\nfrom gunicorn.app.wsgiapp import run\nsys.argv = ['gunicorn', *sys.argv[1:]]\nrun()\n"
LOCKED_TABLE = {"batch": "import_batch", "values": "data_value", "audit": "value_change"}
COMMITTED = {"start": False, "batch": False, "values": False, "audit": False, "commit": False,
             "after_commit": True, "printing": True}


# --------------------------------------------------------------------------- the database


@dataclass
class Lab:
    """The database under test, its files, and what the test knows of them."""

    url: str
    engine: Engine
    root: Path
    token: str
    counties: Iterator[str]
    session: Session  # the preparing process's own session: catalogue reads, figures stored before
    runs: int = 0

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    def env(self, name: str) -> dict[str, str]:
        """The environment of a process of the service; `name` tags its PostgreSQL connections."""
        url = make_url(self.url)
        if self.is_postgres:
            url = url.update_query_dict({"application_name": name})
        return os.environ | {
            "MEL_ENV": "development", "MEL_DATABASE_URL": url.render_as_string(hide_password=False),
            "MEL_SECRET_KEY": secrets.token_urlsafe(48), "MEL_INSTANCE_DIR": str(self.root / "instance"),
            "MEL_REDIS_URL": "", "MEL_RATELIMIT_ENABLED": "0", "MEL_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1", "CRASH_POINT_FILE": str(self.root / "point"),
            "CRASH_MARK": str(self.root / "mark"),
        }

    def arm(self, point: str) -> None:
        (self.root / "mark").unlink(missing_ok=True)
        (self.root / "point").write_text(point if point not in LOCKED_TABLE or not self.is_postgres else "")

    def disarm(self) -> None:
        (self.root / "point").write_text("")

    def next_name(self, what: str) -> str:
        self.runs += 1
        return f"crash_{what}_{self.runs}"


def figures_file(session: Session, counties: list[str], quarters: tuple[str, ...], base: int) -> pd.DataFrame:
    """Every OPCT figure for these returns, simple and consistent (parts within their totals)."""
    return pd.concat([flat_rows(session, PROGRAMME, unit, period, base)
                      for unit in counties for period in quarters], ignore_index=True)


@pytest.fixture(scope="module")
def lab(tmp_path_factory) -> Iterator[Lab]:
    from mel.accounts.operations import create_token, create_user
    from mel.app import create_app
    from mel.catalogue.lookup import load_catalogue
    from mel.catalogue.operations import seed_catalogue
    from mel.db import db
    from mel.migrate import upgrade

    url = fresh_database_url(tmp_path_factory, "crash")
    root = tmp_path_factory.mktemp("crash")
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(root / "instance"), LOG_LEVEL="WARNING")
    with app.app_context():
        upgrade(db.engine)
        session = db.session
        seed_catalogue(session)
        create_user(session, SECRETARIAT, "secretariat", name="Crash Secretariat", password=PASSWORD)
        token = create_token(session, SECRETARIAT, name="crash test").token
        session.commit()
        catalogue = load_catalogue(session)
        programme = catalogue.programmes[PROGRAMME]
        counties = sorted(u for u in catalogue.form_org_units(programme.id, "2025Q3") if u != "KE")
        session.commit()
        # The test's own reads: a plain engine (the app's SQLite engine begins IMMEDIATE, which
        # would wait for the writer under test); WAL lets them read while it writes.
        engine = create_engine(url)
        try:
            yield Lab(url, engine, root, token, iter(counties), session)
        finally:
            engine.dispose()
            db.engine.dispose()


# --------------------------------------------------------------------------- what a return holds


@dataclass
class State:
    """What the database holds for some returns: figures, versions, audit, batches."""

    values: dict[tuple, dict[tuple, Decimal]]  # (org unit, period) → {(indicator, component, option): value}
    versions: dict[tuple, int]
    audit_rows: int
    batches: int
    snapshot: tuple = field(repr=False, default=())


def expected_values(rows: pd.DataFrame) -> dict[tuple, dict[tuple, Decimal]]:
    out: dict[tuple, dict[tuple, Decimal]] = {}
    for row in rows.to_dict("records"):
        code, component = split_code(row["indicator"])
        out.setdefault((row["org_unit"], row["period"]), {})[(code, component, row["option"])] = Decimal(row["value"])
    return out


def read_state(engine: Engine, returns: list[tuple]) -> State:
    """The figures of these (org unit, period) returns, and the audit invariants checked on the way."""
    units = sorted({u for u, _ in returns})
    periods = sorted({p for _, p in returns})
    with engine.connect() as conn:
        rows = conn.execute(
            select(OrgUnit.code, DataValue.period, Indicator.code, DataValue.component, OptionCombo.code,
                   DataValue.value, DataValue.return_id, DataValue.indicator_id, DataValue.option_combo_id)
            .join(OrgUnit, OrgUnit.id == DataValue.org_unit_id).join(Indicator, Indicator.id == DataValue.indicator_id)
            .join(OptionCombo, OptionCombo.id == DataValue.option_combo_id)
            .join(Programme, Programme.id == DataValue.programme_id)
            .where(Programme.code == PROGRAMME, OrgUnit.code.in_(units), DataValue.period.in_(periods))).all()
        records = conn.execute(
            select(Return.id, OrgUnit.code, Return.period, Return.version, Return.state)
            .join(OrgUnit, OrgUnit.id == Return.org_unit_id).join(Programme, Programme.id == Return.programme_id)
            .where(Programme.code == PROGRAMME, OrgUnit.code.in_(units), Return.period.in_(periods))).all()
        ids = [r.id for r in records if (r[1], r.period) in returns]
        audit = conn.execute(
            select(ValueChange.id, ValueChange.return_id, ValueChange.indicator_id, ValueChange.component,
                   ValueChange.option_combo_id, ValueChange.new_value, ValueChange.return_version)
            .where(ValueChange.return_id.in_(ids)).order_by(ValueChange.id)).all() if ids else []
        batches = conn.execute(
            select(ImportBatch.id, ImportBatch.outcome, ImportBatch.created_count, ImportBatch.updated_count,
                   func.count(ValueChange.id))
            .outerjoin(ValueChange, ValueChange.batch_id == ImportBatch.id).group_by(ImportBatch.id)).all()
    for batch_id, outcome, created, updated, audited in batches:
        assert outcome == "stored" and audited == created + updated, \
            f"import batch {batch_id} ({outcome}) has {audited} audit rows for {created} created + {updated} updated"
    last: dict[tuple, tuple] = {}
    for change in audit:
        last[(change.return_id, change.indicator_id, change.component, change.option_combo_id)] = change
    values: dict[tuple, dict[tuple, Decimal]] = {}
    for unit, period, code, component, option, value, return_id, indicator_id, combo_id in rows:
        if (unit, period) not in returns:
            continue
        values.setdefault((unit, period), {})[(code, component, option)] = Decimal(value)
        change = last.get((return_id, indicator_id, component, combo_id))
        assert change is not None and Decimal(change.new_value) == Decimal(value), \
            f"{unit} {period} {code}.{component} {option}: stored {value}, last audit row {change}"
    versions = {}
    for return_id, unit, period, version, state in records:
        if (unit, period) not in returns:
            continue
        versions[(unit, period)] = version
        audited = [c.return_version for c in audit if c.return_id == return_id]
        assert state == "draft" and audited and max(audited) == version, \
            f"return {unit} {period} is {state} v{version}; its audit rows carry versions {sorted(set(audited))}"
    assert set(versions) == set(values), f"returns without figures: {set(versions) - set(values)}"
    return State(values, versions, len(audit), len(batches),
                 (sorted(map(tuple, rows)), sorted(map(tuple, records)), len(audit), len(batches)))


def assert_whole_or_before(before: State, after: State, sent: dict, committed: bool, where: str) -> None:
    """Every return holds the file's figures (committed) or exactly its figures before (not)."""
    for key in sent:
        now, old, new = after.values.get(key), before.values.get(key), sent[key]
        assert now in (old, new), f"{where}: {key} is half-written ({len(now or {})} figures)"
    whole = {key for key in sent if after.values.get(key) == sent[key]}
    if committed:
        assert whole == set(sent), f"{where}: committed, yet {sorted(set(sent) - whole)} lack the file's figures"
        assert after.batches == before.batches + 1
    else:
        assert after.values == before.values and after.versions == before.versions, f"{where}: changed"
        assert (after.audit_rows, after.batches) == (before.audit_rows, before.batches), f"{where}: audit left"


# --------------------------------------------------------------------------- processes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, what: str, timeout: float = WAIT, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = condition()
        if found:
            return found
        time.sleep(every)
    raise AssertionError(f"timed out waiting for {what}")


def kill(process: subprocess.Popen) -> None:
    """SIGKILL the process and everything it started (its own process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait(timeout=WAIT)


def output(lab: Lab, name: str) -> str:
    log = lab.root / f"{name}.log"
    return log.read_text()[-3000:] if log.exists() else ""


def backends(lab: Lab, name: str) -> list:
    with lab.engine.connect() as conn:
        return conn.execute(text("SELECT pid, state, wait_event_type, query FROM pg_stat_activity "
                                 "WHERE application_name = :name"), {"name": name}).all()


@contextmanager
def table_locked(lab: Lab, point: str) -> Iterator[None]:
    """PostgreSQL: hold a SHARE lock on the table the moment writes, so writers wait for it."""
    if not (lab.is_postgres and point in LOCKED_TABLE):
        yield
        return
    with lab.engine.connect() as conn:
        conn.execute(text(f"LOCK TABLE {LOCKED_TABLE[point]} IN SHARE MODE"))
        try:
            yield
        finally:
            conn.rollback()


def reach(lab: Lab, point: str, name: str, process: subprocess.Popen) -> str:
    """Wait until the process stands at the moment; say what was observed there."""
    if lab.is_postgres and point in LOCKED_TABLE:
        def waiting():
            return [b for b in backends(lab, name) if b.wait_event_type == "Lock"
                    and LOCKED_TABLE[point] in b.query]
        found = wait_for(waiting, f"{name} waiting to write {LOCKED_TABLE[point]}")
        return f"waiting on {found[0].query[:40]!r}"
    if point == "printing":
        proc = Path(f"/proc/{process.pid}")

        def blocked():  # asleep in the kernel's pipe write (or, where wchan is hidden, in write(1, …))
            assert process.poll() is None, f"{name} ended before it printed: {output(lab, name)}"
            return "pipe_write" in (proc / "wchan").read_text() or (proc / "syscall").read_text().startswith("1 0x1 ")
        wait_for(blocked, f"{name} blocked on stdout")
        where = "blocked writing to stdout"
    else:
        mark = lab.root / "mark"

        def parked():
            assert process.poll() is None, f"{name} ended before it reached {point}: {output(lab, name)}"
            return mark.exists() and mark.read_text()
        where = wait_for(parked, f"{name} at {point}")
        expected = {"batch": "INSERT INTO import_batch", "values": "data_value", "audit": "INSERT INTO value_change",
                    "commit": "commit", "after_commit": "after commit"}.get(point, "")
        assert expected in where, f"{name} stopped at {where!r}, not at {point}"
    if lab.is_postgres:
        states = {b.state for b in backends(lab, name)}
        in_transaction = point not in ("start", "after_commit", "printing")
        assert ("idle in transaction" in states) == in_transaction, f"{name} at {point}: connections {states}"
    return where


def no_lock_left(lab: Lab, name: str) -> None:
    """The killed process's transaction is gone and holds nothing; a writer gets in at once."""
    if lab.is_postgres:
        wait_for(lambda: not backends(lab, name), f"the backends of {name} to end")
        with lab.engine.connect() as conn:
            held = conn.execute(text(
                "SELECT l.pid, l.mode, l.relation::regclass::text FROM pg_locks l "
                "JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE a.datname = current_database() AND l.pid <> pg_backend_pid()")).all()
        assert not held, f"locks left after {name}: {held}"
    else:
        import sqlite3

        database = make_url(lab.url).database
        conn = sqlite3.connect(database, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")  # fails at once ("database is locked") if a lock was left
            conn.execute("ROLLBACK")
        finally:
            conn.close()


def run_cli(lab: Lab, path: Path, name: str) -> subprocess.CompletedProcess:
    lab.disarm()
    return subprocess.run([sys.executable, "-c", CLI, "import", str(path), "--programme", PROGRAMME],
                          env=lab.env(name), capture_output=True, text=True, timeout=WAIT * 2)


class Server:
    """gunicorn (one sync worker) serving the app under GATE on a free port of 127.0.0.1."""

    def __init__(self, lab: Lab, name: str) -> None:
        self.lab, self.name, self.port = lab, name, free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = lab.root / f"{name}.log"
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-c", SERVER, "--workers", "1", "--timeout", "300", "--bind",
                 f"127.0.0.1:{self.port}", "mel.app:create_app()"],
                env=lab.env(name), stdout=log, stderr=subprocess.STDOUT, start_new_session=True)

    def healthy(self) -> dict:
        def answer():
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited: {self.log.read_text()[-2000:]}")
            try:
                return requests.get(f"{self.base}/healthz", timeout=WAIT)
            except requests.ConnectionError:  # not listening yet
                return None
        response = wait_for(answer, f"{self.name} to answer /healthz", every=0.2)
        assert response.status_code == 200, response.text
        return response.json()

    def stop(self) -> None:
        kill(self.process)


@pytest.fixture
def servers(lab):
    started: list[Server] = []

    def start(what: str) -> Server:
        server = Server(lab, lab.next_name(what))
        started.append(server)
        server.healthy()
        return server

    yield start
    for server in started:
        if server.process.poll() is None:
            server.stop()


# --------------------------------------------------------------------------- clients


def api_import(server: Server, token: str, path: Path) -> requests.Response:
    with open(path, "rb") as f:
        return requests.post(f"{server.base}/api/v1/returns:import", params={"programme": PROGRAMME},
                             files={"file": (path.name, f, "text/csv")},
                             headers={"Authorization": f"Bearer {token}"}, timeout=WAIT)


def api_put(server: Server, token: str, rows: pd.DataFrame, version: int) -> requests.Response:
    unit, period = rows.iloc[0]["org_unit"], rows.iloc[0]["period"]
    values = [{"indicator": r["indicator"], "option": r["option"], "value": r["value"]} for r in rows.to_dict("records")]
    return requests.put(f"{server.base}/api/v1/returns/{PROGRAMME}/{unit}/{period}",
                        json={"version": version, "values": values},
                        headers={"Authorization": f"Bearer {token}"}, timeout=WAIT)


def signed_in(server: Server) -> requests.Session:
    browser = requests.Session()

    def token(path: str) -> str:
        match = CSRF_RE.search(browser.get(f"{server.base}{path}", timeout=WAIT).text)
        assert match, f"no CSRF token on {path}"
        return match.group(1) or match.group(2)

    response = browser.post(f"{server.base}/login", data={"email": SECRETARIAT, "password": PASSWORD,
                                                         "csrf_token": token("/login")},
                            allow_redirects=False, timeout=WAIT)
    assert response.status_code == 302, response.text[:500]
    browser.upload_token = token("/upload")  # type: ignore[attr-defined]
    return browser


def web_upload(server: Server, browser: requests.Session, path: Path) -> requests.Response:
    with open(path, "rb") as f:
        return browser.post(f"{server.base}/upload", data={"programme": PROGRAMME,
                                                          "csrf_token": browser.upload_token},  # type: ignore[attr-defined]
                            files={"file": (path.name, f, "text/csv")}, timeout=WAIT)


def in_flight(send) -> threading.Thread:
    """Send a request in a thread; the server is killed under it, so its error is expected."""
    def run():
        try:
            send()
        except requests.RequestException:
            pass
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


# --------------------------------------------------------------------------- scenarios


@dataclass
class Scenario:
    """A file of returns: some stored before (`before`), all sent again with new figures."""

    lab: Lab
    counties: list[str]
    quarters: tuple[str, ...] = QUARTERS
    path: Path = field(init=False)
    sent: dict = field(init=False)
    rows: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        from mel.accounts.operations import load_user
        from mel.returns.ingest import Incoming, ingest

        session = self.lab.session
        first = figures_file(session, self.counties, self.quarters[:1], base=1000)  # the returns stored before
        stored = ingest(session, load_user(session, SECRETARIAT), Incoming(first, "api"), programme=PROGRAMME)
        assert stored.outcome == "stored", [e.message for e in stored.errors[:5]]
        self.rows = figures_file(session, self.counties, self.quarters, base=1200)
        session.commit()  # and ends the reading transaction (SQLite's BEGIN IMMEDIATE holds the writer lock)
        self.sent = expected_values(self.rows)
        self.path = self.lab.root / f"figures_{'_'.join(self.counties)}.csv"
        self.rows[COLUMNS].to_csv(self.path, index=False)

    def state(self) -> State:
        return read_state(self.lab.engine, list(self.sent))


def scenario(lab: Lab, counties: int) -> Scenario:
    return Scenario(lab, [next(lab.counties) for _ in range(counties)])


CLI_POINTS = ["start", "batch", "values", "audit", "commit", "printing"]


@pytest.mark.parametrize("point", CLI_POINTS)
def test_mel_import_killed_leaves_each_return_whole_or_as_before(lab, point):
    case = scenario(lab, 2)
    before = case.state()
    assert len(before.values) == 2 and len(case.sent) == 4  # two returns updated, two created
    name = lab.next_name(f"cli_{point}")
    lab.arm(point)
    command = [sys.executable, "-c", CLI, "import", str(case.path), "--programme", PROGRAMME]
    if point == "printing":
        # stdout: a pipe filled to capacity that nobody reads, so the first line blocks.
        read_end, write_end = os.pipe()
        flags = fcntl.fcntl(write_end, fcntl.F_GETFL)
        fcntl.fcntl(write_end, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        try:
            while True:
                os.write(write_end, b"." * 4096)
        except BlockingIOError:
            pass
        fcntl.fcntl(write_end, fcntl.F_SETFL, flags)
        stdout = write_end
    else:
        read_end = write_end = None
        stdout = subprocess.DEVNULL
    with table_locked(lab, point), open(lab.root / f"{name}.log", "w") as log:
        process = subprocess.Popen(command, env=lab.env(name), stdout=stdout, stderr=log, start_new_session=True)
        if write_end is not None:
            os.close(write_end)
        try:
            reach(lab, point, name, process)
        finally:
            kill(process)
    if read_end is not None:
        os.close(read_end)
    assert process.returncode == -signal.SIGKILL
    no_lock_left(lab, name)
    after = case.state()
    assert_whole_or_before(before, after, case.sent, COMMITTED[point], f"mel import killed at {point}")

    again = run_cli(lab, case.path, lab.next_name("cli_again"))
    assert again.returncode == 0, again.stdout + again.stderr
    stored = case.state()
    assert stored.values == case.sent
    once_more = run_cli(lab, case.path, lab.next_name("cli_once_more"))
    assert once_more.returncode == 0 and "0 created, 0 updated, 0 deleted" in once_more.stdout, once_more.stdout
    assert case.state().snapshot == stored.snapshot


SERVER_POINTS = {"import": ["audit", "commit", "after_commit"], "put": ["values", "commit", "after_commit"],
                 "upload": ["batch", "commit", "after_commit"]}


def send(channel: str, server: Server, case: Scenario, browser: requests.Session | None) -> requests.Response:
    """The request of the channel: the API import, the PUT of the one return (at its version), the upload."""
    if channel == "import":
        return api_import(server, case.lab.token, case.path)
    if channel == "put":
        key = next(iter(case.sent))
        rows = case.rows[(case.rows["org_unit"] == key[0]) & (case.rows["period"] == key[1])]
        return api_put(server, case.lab.token, rows, case.state().versions[key])
    return web_upload(server, browser, case.path)


@pytest.mark.parametrize("channel", sorted(SERVER_POINTS))
def test_server_killed_mid_request_leaves_each_return_whole_and_restarts(lab, servers, channel):
    """POST /api/v1/returns:import, PUT /api/v1/returns/…, and /upload (signed in, with CSRF)."""
    for point in SERVER_POINTS[channel]:
        case = scenario(lab, 1 if channel == "put" else 2)
        if channel == "put":  # one return, stored before
            case.sent = {k: v for k, v in case.sent.items() if k[1] == QUARTERS[0]}
        before = case.state()
        lab.disarm()
        server = servers(f"{channel}_{point}")
        browser = signed_in(server) if channel == "upload" else None
        lab.arm(point)
        with table_locked(lab, point):
            request = in_flight(lambda: send(channel, server, case, browser))  # noqa: B023 - joined below
            try:
                reach(lab, point, server.name, server.process)
            finally:
                server.stop()
        request.join(WAIT)
        assert server.process.returncode == -signal.SIGKILL
        no_lock_left(lab, server.name)
        after = case.state()
        where = f"{channel} killed at {point}"
        assert_whole_or_before(before, after, case.sent, COMMITTED[point], where)

        lab.disarm()
        restarted = servers(f"{channel}_after_{point}")  # starts cleanly: /healthz 200
        browser = signed_in(restarted) if channel == "upload" else None
        again = send(channel, restarted, case, browser)
        assert again.status_code == 200, f"{where}, sent again: {again.status_code} {again.text[:1000]}"
        stored = case.state()
        assert stored.values == case.sent, where
        once_more = send(channel, restarted, case, browser)
        assert once_more.status_code == 200, once_more.text[:1000]
        if channel != "upload":
            assert once_more.json()["outcome"] == "unchanged", once_more.json()
        assert case.state().snapshot == stored.snapshot, f"{where}: sending the file once more changed something"
        restarted.stop()
