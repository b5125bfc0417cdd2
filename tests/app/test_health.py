"""`/healthz` for the load balancer, and the request id on every response and log line."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from alembic import command
from sqlalchemy import delete, insert

from mel.app import create_app
from mel.db import db, utcnow
from mel.logs import handler_for
from mel.migrate import alembic_config
from mel.scheduler.models import SchedulerLease
from mel.scheduler.process import LEASE
from tests.helpers import fresh_database_url


def test_a_serving_node_answers_200_and_says_whether_the_scheduler_runs(client, session):
    response = client.get("/healthz")  # no sign-in
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    body = response.json
    assert body["status"] == "degraded" and body["checks"]["scheduler"] == {"ok": False,
                                                                           "detail": "no scheduler has started"}
    assert body["checks"]["database"]["ok"] and body["checks"]["migrations"]["ok"] and body["checks"]["disk"]["ok"]
    session.execute(insert(SchedulerLease).values(name=LEASE, holder="host:1", expires_at=utcnow() + timedelta(minutes=2)))
    assert client.get("/healthz").json["status"] == "ok"
    session.execute(delete(SchedulerLease))
    session.execute(insert(SchedulerLease).values(name=LEASE, holder="host:1", expires_at=utcnow() - timedelta(minutes=5)))
    lapsed = client.get("/healthz")
    assert lapsed.status_code == 200 and lapsed.json["status"] == "degraded"


def test_a_node_behind_on_migrations_or_out_of_disk_answers_503(tmp_path_factory):
    url = fresh_database_url(tmp_path_factory, "health")
    app = create_app("testing", DATABASE_URL=url, INSTANCE_DIR=str(tmp_path_factory.mktemp("h")), LOG_LEVEL="WARNING")
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    with app.app_context():
        command.downgrade(alembic_config(db.engine), "0010")
        db.engine.dispose()
    behind = app.test_client().get("/healthz")
    assert behind.status_code == 503 and behind.json["status"] == "fail"
    assert behind.json["checks"]["migrations"]["ok"] is False and behind.json["checks"]["migrations"]["revision"] == "0010"
    assert app.test_cli_runner().invoke(args=["db", "upgrade"]).exit_code == 0
    app.config["HEALTH_MIN_FREE_MB"] = 10**12
    full = app.test_client().get("/healthz")
    assert full.status_code == 503 and full.json["checks"]["disk"]["ok"] is False
    with app.app_context():
        db.engine.dispose()


def test_a_node_without_its_database_answers_503(tmp_path_factory):
    missing = tmp_path_factory.mktemp("gone") / "no" / "such" / "mel.sqlite3"
    app = create_app("testing", DATABASE_URL=f"sqlite:///{missing}", INSTANCE_DIR=str(tmp_path_factory.mktemp("g")),
                     LOG_LEVEL="WARNING")
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.json["checks"]["database"] == {"ok": False, "detail": "OperationalError"}
    assert response.json["checks"]["migrations"] == {"ok": False, "detail": "no database"}


def test_every_response_and_log_line_carries_the_request_id(client, app, capsys):
    given = client.get("/login", headers={"X-Request-ID": "lb-7f3a.1"})
    assert given.headers["X-Request-ID"] == "lb-7f3a.1"
    made = client.get("/login", headers={"X-Request-ID": "not allowed <script>"})
    assert len(made.headers["X-Request-ID"]) == 32 and made.headers["X-Request-ID"].isalnum()
    # JSON lines, as production writes them, with the request's id.
    handler = handler_for("json")
    logger = logging.getLogger("mel.test.health")
    logger.addHandler(handler)
    try:
        with app.test_request_context("/x", headers={"X-Request-ID": "r-42"}):
            app.preprocess_request()
            logger.warning("figures refused for %s", "Kisumu")
    finally:
        logger.removeHandler(handler)
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["message"] == "figures refused for Kisumu" and line["request_id"] == "r-42"
    assert line["level"] == "WARNING" and line["logger"] == "mel.test.health" and "time" in line


def test_over_plain_http_a_secure_deployment_says_https_is_needed(tmp_path_factory, app):
    """Production cookies are Secure: over http:// the sign-in page says so instead of failing CSRF."""
    secure = create_app("testing", DATABASE_URL=app.config["DATABASE_URL"], INSTANCE_DIR=str(tmp_path_factory.mktemp("s")),
                        LOG_LEVEL="WARNING", SESSION_COOKIE_SECURE=True)
    client = secure.test_client()
    page = client.get("/login").get_data(as_text=True)
    assert "Sign-in needs a secure connection (HTTPS)" in page and "https://localhost/login" in page
    refused = client.post("/login", data={"email": "viewer@demo.test", "password": "x"})
    body = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "works only over a secure connection (HTTPS)" in body
    assert "CSRF check failed" not in body
    over_https = secure.test_client().get("/login", base_url="https://localhost")
    assert "needs a secure connection" not in over_https.get_data(as_text=True)


def test_behind_a_trusted_proxy_the_forwarded_https_counts(tmp_path_factory, app):
    proxied = create_app("testing", DATABASE_URL=app.config["DATABASE_URL"], INSTANCE_DIR=str(tmp_path_factory.mktemp("p")),
                         LOG_LEVEL="WARNING", SESSION_COOKIE_SECURE=True, TRUSTED_PROXIES=1)
    page = proxied.test_client().get("/login", headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "mel.go.ke"})
    assert "needs a secure connection" not in page.get_data(as_text=True)
    plain = proxied.test_client().get("/login", headers={"X-Forwarded-Proto": "http", "X-Forwarded-Host": "mel.go.ke"})
    assert "https://mel.go.ke/login" in plain.get_data(as_text=True)
