"""The `mel` command line: users, tokens, seed and demo."""

from __future__ import annotations

from sqlalchemy import select

from mel.accounts.models import User


def test_users_create_an_officer_with_scope(runner, session):
    result = runner.invoke(args=["users", "create", "jane@county.test", "--role", "officer",
                                 "--programme", "OPCT", "--org-unit", "42",
                                 "--password", "a-long-enough-password"])
    assert result.exit_code == 0, result.output
    assert "for OPCT in Kisumu" in result.output
    user = session.scalar(select(User).where(User.email == "jane@county.test"))
    assert user.role == "officer"


def test_users_create_reports_errors_and_exits_non_zero(runner):
    result = runner.invoke(args=["users", "create", "x@y.test", "--role", "officer",
                                 "--programme", "OPCT", "--org-unit", "999",
                                 "--password", "a-long-enough-password"])
    assert result.exit_code == 1
    assert "'999' is not known" in result.output


def test_tokens_create_prints_a_working_token_once(runner, client):
    result = runner.invoke(args=["tokens", "create", "reviewer@demo.test", "--name", "MIS"])
    assert result.exit_code == 0, result.output
    token = result.stdout.strip().splitlines()[0]
    assert token.startswith("mel_")
    response = client.get("/api/v1/indicators?pillar=social_assistance",
                          headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200 and len(response.json) == 17
    listing = runner.invoke(args=["tokens", "list"])
    assert "reviewer@demo.test" in listing.output and token not in listing.output
    # Other tests of this worker may have left tokens: revoke the one whose prefix this token starts with.
    lines = [line.split() for line in listing.output.splitlines() if line.startswith("#")]
    token_id = next(parts[0].lstrip("#") for parts in lines if token.startswith(parts[1].rstrip("…")))
    assert runner.invoke(args=["tokens", "revoke", token_id]).exit_code == 0
    assert client.get("/api/v1/indicators", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_tokens_list_shows_expired_tokens_as_expired(runner, client, session):
    from datetime import timedelta

    from sqlalchemy import update

    from mel.accounts.models import ApiToken
    from mel.accounts.operations import create_token
    from mel.db import utcnow

    old = create_token(session, "viewer@demo.test", name="old MIS")
    fresh = create_token(session, "viewer@demo.test", name="new MIS")
    session.execute(update(ApiToken).where(ApiToken.id == old.record.id).values(expires_at=utcnow() - timedelta(days=3)))
    lines = {line.split()[0]: line for line in runner.invoke(args=["tokens", "list", "viewer@demo.test"]).output.splitlines()}
    assert " expired on " in lines[f"#{old.record.id}"]
    assert " active (expires " in lines[f"#{fresh.record.id}"]
    assert client.get("/api/v1/indicators", headers={"Authorization": f"Bearer {fresh.token}"}).status_code == 200
    assert client.get("/api/v1/indicators", headers={"Authorization": f"Bearer {old.token}"}).status_code == 401
    runner.invoke(args=["tokens", "revoke", str(fresh.record.id)])
    assert runner.invoke(args=["tokens", "list", "viewer@demo.test"]).output.count("revoked") == 1


def test_tokens_for_unknown_users_fail(runner):
    result = runner.invoke(args=["tokens", "create", "ghost@demo.test"])
    assert result.exit_code == 1 and "No user" in result.output


def test_seed_and_demo_are_idempotent(runner):
    assert "nothing changed" in runner.invoke(args=["seed"]).output
    result = runner.invoke(args=["demo", "--as-of", "2025-10-05", "--history-only"])
    assert "already loaded" in result.output
    assert "secretariat@demo.test" in result.output and "demo-password-2025" in result.output
