"""Benchmark: does the time of a refused sign-in tell an attacker anything?

Builds a fresh database with one account, then times POST /login (through the app, with CSRF)
for: a wrong password on a known account (the baseline), an unknown e-mail, an inactive
account, a throttled account (right and wrong password), and a successful sign-in. Cases are
interleaved round by round so a slow moment of the machine hits them all alike. It prints the
mean and median of each and their ratio to the baseline; refusals should all be near 1.00.

    python bench/signin.py                                   # SQLite in a temporary folder
    python bench/signin.py --rounds 40 --database-url postgresql://postgres@127.0.0.1:5432/mel_bench
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import fresh_url  # noqa: E402
from mel.accounts.operations import create_user  # noqa: E402
from mel.app import create_app  # noqa: E402
from mel.db import db  # noqa: E402
from mel.migrate import upgrade  # noqa: E402

PASSWORD = "bench-sign-in-secret-2025"
WRONG = "wrong-password-123"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def build(url: str):
    # Throttling on, with a back-off longer than the run so "throttled" stays throttled.
    app = create_app("testing", DATABASE_URL=url, LOG_LEVEL="WARNING", LOGIN_ACCOUNT_BACKOFF_SECONDS=3600,
                     LOGIN_ACCOUNT_BACKOFF_MAX_SECONDS=3600,
                     LOGIN_IP_FREE_FAILURES=1_000_000)
    with app.app_context():
        upgrade(db.engine)
        for email in ("known@bench.test", "throttled@bench.test", "inactive@bench.test"):
            create_user(db.session, email, "viewer", password=PASSWORD)
        db.session.commit()
        from sqlalchemy import update

        from mel.accounts.models import User

        db.session.execute(update(User).where(User.email == "inactive@bench.test").values(is_active=False))
        db.session.commit()
    return app


def post(app, email: str, password: str) -> tuple[float, int]:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    match = CSRF.search(page)
    token = match.group(1) or match.group(2)
    started = time.perf_counter()
    response = client.post("/login", data={"email": email, "password": password, "csrf_token": token})
    return time.perf_counter() - started, response.status_code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default=None, help="PostgreSQL server URL (a fresh database is made)")
    parser.add_argument("--rounds", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        app = build(fresh_url(args.database_url, Path(workdir), 0))
        for _ in range(5):  # throttle one account for the rest of the run
            post(app, "throttled@bench.test", WRONG)
        cases = {
            "wrong password (baseline)": ("known@bench.test", WRONG, 401),
            "unknown e-mail": ("nobody@bench.test", WRONG, 401),
            "inactive account": ("inactive@bench.test", PASSWORD, 401),
            "throttled, right password": ("throttled@bench.test", PASSWORD, 401),
            "throttled, wrong password": ("throttled@bench.test", WRONG, 401),
            "success (for reference)": ("known@bench.test", PASSWORD, 302),
        }
        times: dict[str, list[float]] = {name: [] for name in cases}
        for _ in range(args.rounds):
            for name, (email, password, status) in cases.items():
                seconds, got = post(app, email, password)
                if got != status:
                    sys.exit(f"{name}: expected {status}, got {got}")
                times[name].append(seconds)
        with app.app_context():
            db.engine.dispose()
    base = statistics.mean(times["wrong password (baseline)"])
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(f"POST /login on {backend}, {args.rounds} rounds, interleaved")
    print(f"{'case':<28} {'mean ms':>8} {'median ms':>10} {'ratio':>6}")
    for name, values in times.items():
        mean = statistics.mean(values)
        print(f"{name:<28} {mean * 1000:8.1f} {statistics.median(values) * 1000:10.1f} {mean / base:6.2f}")


if __name__ == "__main__":
    main()
