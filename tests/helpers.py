"""Helpers shared by test modules: sign-in, fresh databases, return figures, the web grid.

Test modules import helpers from here (or from `tests/app/returns_helpers.py` and
`tests/app/smtp_helpers.py`), never from another test module or from a conftest.
"""

from __future__ import annotations

import html
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import pandas as pd
import time_machine
from sqlalchemy import text
from sqlalchemy.engine import make_url
from werkzeug.serving import make_server

from indicators.figures import figure_code, split_code
from mel.accounts.operations import load_user
from mel.catalogue.lookup import load_catalogue
from mel.db import make_engine
from mel.demo import DEMO_PASSWORD
from mel.returns import operations as return_ops
from mel.returns.models import Return
from mel.review import operations as review
from tests.app.returns_helpers import IN_WINDOW, rows_like, send

# Under pytest-xdist each worker (gw0, gw1, …) gets its own PostgreSQL database: `<name>_gw0`, …
WORKER = os.environ.get("PYTEST_XDIST_WORKER", "")


def _worker_database(url: str | None) -> str | None:
    if not url or not WORKER:
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{WORKER}").render_as_string(hide_password=False)


PG_URL = _worker_database(os.environ.get("MEL_TEST_DATABASE_URL"))


# --------------------------------------------------------------------------- databases


def reset_postgres_database(url: str) -> None:
    """Drop and recreate a PostgreSQL database so every run starts empty."""
    parsed = make_url(url)
    admin = make_engine(parsed.set(database="postgres").render_as_string(hide_password=False))
    name = parsed.database
    assert re.fullmatch(r"[a-z_][a-z0-9_]*", name or ""), f"unsafe test database name {name!r}"
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def fresh_database_url(tmp_path_factory, suffix: str) -> str:
    """A new empty database on the backend under test."""
    if PG_URL:
        url = make_url(PG_URL)
        fresh = url.set(database=f"{url.database}_{suffix}").render_as_string(hide_password=False)
        reset_postgres_database(fresh)
        return fresh
    return f"sqlite:///{tmp_path_factory.mktemp(suffix) / 'mel.sqlite3'}"


def seeded_app(tmp_path_factory, suffix: str):
    """An app on a new database of its own, upgraded and seeded with the CLI as an operator would (a
    migration test then moves it down and up)."""
    from mel.app import create_app

    url = fresh_database_url(tmp_path_factory, suffix)
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(tmp_path_factory.mktemp(suffix)))
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    assert runner.invoke(args=["seed"]).exit_code == 0
    return app


# --------------------------------------------------------------------------- signing in


CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token(client, path: str = "/login") -> str:
    """The CSRF token of a rendered form."""
    page = client.get(path).get_data(as_text=True)
    match = CSRF_RE.search(page)
    assert match, f"no CSRF token on {path}"
    return match.group(1) or match.group(2)


def login(client, email: str, password: str = DEMO_PASSWORD):
    token = csrf_token(client)
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token})


# --------------------------------------------------------------------------- return figures


def flat_rows(session, programme: str, unit: str, period: str, base: int) -> pd.DataFrame:
    """Every figure of a programme's form for one org unit, with simple consistent values."""
    catalogue = load_catalogue(session)
    form = catalogue.forms[catalogue.programmes[programme].id]
    records = []
    for item in form.items_in(period):
        spec = catalogue.specs[item.indicator.code]
        if item.indicator.frequency == "annual":
            continue
        for option in spec.options:
            for component, value in (("numerator", base // 2), ("denominator", base)) if spec.measure == "ratio" \
                    else (("value", base // 2 if item.indicator.code == "SA08" else base),):
                records.append({"indicator": figure_code(item.indicator.code, component), "option": option, "org_unit": unit,
                                "period": period, "value": str(value), "comment": "", "explanation": "",
                                "file": "", "sheet": "", "row": None, "column": None})
    return pd.DataFrame(records)


def submitted_return(session):
    """OPCT Kisumu's 2025Q3 return, sent and submitted by its officer in the window."""
    result = send(session, "officer.opct@demo.test", rows_like(session, "OPCT", ["042"]))
    record = session.get(Return, result.returns[0].return_id)
    with time_machine.travel(IN_WINDOW, tick=False):
        return_ops.submit(session, load_user(session, "officer.opct@demo.test"), record)
    return record


def explain_all(session, user, record):
    """The flat test figures differ from the demo history; the officer explains each warning."""
    flags = review.flags_of(session, record)
    return_ops.explain_flags(session, user, record, {f.id: "Test figures." for f in flags})


def submit_figures(session, programme: str, rows: pd.DataFrame, *, now: datetime, approve: bool = False) -> Return:
    """The secretariat stores a return's figures at `now`, explains every warning and submits it
    (and the TWG approves it when asked). The rows hold one return."""
    from mel.returns.ingest import Incoming, ingest

    secretariat = load_user(session, "secretariat@demo.test")
    with time_machine.travel(now, tick=False):
        result = ingest(session, secretariat, Incoming(rows, "api"), programme=programme, now=now)
        assert result.outcome == "stored", [e.message for e in result.errors]
        record = session.get(Return, result.returns[0].return_id)
        explain_all(session, secretariat, record)
        return_ops.submit(session, secretariat, record, now=now)
        if approve:
            review.approve(session, load_catalogue(session), load_user(session, "reviewer@demo.test"), record,
                           now=now)
    return record


# --------------------------------------------------------------------------- the return grid


PAGE = "/returns/OPCT/042/2025Q3"
# The window of 2025Q3 closed on 14 Nov 2025; a fortnight later only the secretariat may send.
AFTER_CLOSE = datetime(2025, 11, 28, 9, 0, tzinfo=UTC)


def field_name(code: str, option: str) -> str:
    indicator, component = split_code(code)
    return f"v.{indicator}.{component}.{option}"


def grid_form(session, client, *, version: str = "0", narrative: str = "Two payment cycles paid.",
              action: str = "save") -> dict:
    """The grid's form as a browser posts it, filled from last quarter grown by 1%."""
    rows = rows_like(session, "OPCT", ["042"])
    data = {field_name(r["indicator"], r["option"]): r["value"] for r in rows.to_dict("records")}
    return data | {"csrf_token": csrf_token(client, PAGE), "version": version, "action": action,
                   "narrative": narrative, "c.SA02.value.F": "checked against the payroll"}


def input_value(page: str, name: str) -> str | None:
    match = re.search(rf'<input[^>]*name="{re.escape(name)}"[^>]*value="([^"]*)"', page)
    return html.unescape(match.group(1)) if match else None


def alert(page: str) -> str:
    """The page's error box (what a failed assertion should show), else its start."""
    match = re.search(r'<div class="error" role="alert">.*?</div>', page, re.S)
    return match.group(0) if match else page[:2000]


def textarea(page: str, name: str) -> str | None:
    match = re.search(rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>([^<]*)</textarea>', page)
    return html.unescape(match.group(1)) if match else None


def saved_draft(session, factor: float = 1.01) -> None:
    """A draft saved (and committed, as a request would) by the OPCT desk."""
    result = send(session, "officer.opct@demo.test", rows_like(session, "OPCT", ["042"], factor=factor))
    assert result.outcome == "stored", [e.message for e in result.errors]
    session.commit()


@contextmanager
def serving(app) -> Iterator[str]:
    """The app served on 127.0.0.1 (a free port) in a thread, for real clients: yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def choose_language(client, lang: str, page: str = "/") -> None:
    """Press the header's language switch (kept on the account when signed in), with the CSRF token of
    `page`; back to the home page."""
    response = client.post("/language", data={"lang": lang, "next": "/", "csrf_token": csrf_token(client, page)})
    assert response.status_code == 302
