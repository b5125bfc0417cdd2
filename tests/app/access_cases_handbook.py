"""Access-matrix cases for the reporting guidelines handbook (merged by tests/app/test_access_matrix.py):
every signed-in role reads the editions and downloads their files; only the secretariat makes one (a note
over the limit: 422 for them, 403 for the others, before anything is rendered); an unknown edition, language
or format is "not found". The secretariat's requests carry a note that is refused (422 through the
API; a flashed refusal on the web), so nothing is rendered here.

The matrix's edition is a row added once to the module's transaction with small files of its own (the real
rendering is tests/app/test_handbook.py's), with the run that made it: every signed-in role follows runs as it
reads editions (an unknown run is "not found"); the handbook of the current catalogue is rendered for real.
"""

from __future__ import annotations

from sqlalchemy import insert, select

from mel.db import utcnow
from mel.guidelines.models import HandbookEdition, HandbookFile, HandbookRun

NUMBER = 77
FILES = {("en", "pdf"): b"%PDF-1.4\n% handbook matrix\n", ("sw", "html"): b"<!doctype html><p>handbook matrix</p>"}


def _edition(s) -> tuple[int, int]:
    """(the matrix's edition, the run that made it), added once."""
    if s.current is not None:  # its savepoint would take the rows with it when it closes
        s.current.close()
        s.current = None
    editions, files, runs = HandbookEdition.__table__, HandbookFile.__table__, HandbookRun.__table__
    found = s.connection.execute(select(editions.c.id).where(editions.c.number == NUMBER)).scalar()
    if found is not None:
        return found, s.connection.execute(select(runs.c.id).where(runs.c.edition_id == found)).scalar()
    found = s.connection.execute(insert(editions).values(
        number=NUMBER, catalogue_version="c-000000000000", content={"catalogue": {"indicators": {}, "forms": {}, "rules": {}},
                                                       "texts": {"indicators": {}}},
        changes={"previous": None}, note="matrix", created_at=utcnow()).returning(editions.c.id)).scalar()
    for (language, file_format), data in FILES.items():
        s.connection.execute(insert(files).values(edition_id=found, language=language, format=file_format,
                                                  content=data, sha256="0" * 64, size=len(data),
                                                  pages=1 if file_format == "pdf" else None, created_at=utcnow()))
    run = s.connection.execute(insert(runs).values(
        state="done", stage="done", progress=100, note="matrix", languages=["en", "sw"], number=NUMBER,
        catalogue_version="c-000000000000", created_at=utcnow(), finished_at=utcnow(), error="",
        edition_id=found).returning(runs.c.id)).scalar()
    return found, run


def cases(s) -> dict:
    from tests.app.test_access_matrix import ADMIN, HIDDEN, WRITE, Case, only, signed

    _, run = _edition(s)
    long_note = "x" * 2001
    return {
        ("guidelines.index", "GET"): [Case("GET", "/guidelines/", signed())],
        ("guidelines.current", "GET"): [Case("GET", "/guidelines/handbook", signed(), query={"lang": "sw"})],
        ("guidelines.make", "POST"): [Case("POST", "/guidelines/editions", only(ADMIN, WRITE),
                                           data={"note": long_note})],
        ("guidelines.edition", "GET"): [Case("GET", f"/guidelines/editions/{NUMBER}", signed()),
                                        Case("GET", "/guidelines/editions/9999", signed(HIDDEN))],
        ("guidelines.edition_file", "GET"): [
            Case("GET", f"/guidelines/editions/{NUMBER}/en.pdf", signed()),
            Case("GET", f"/guidelines/editions/{NUMBER}/sw.html", signed()),
            Case("GET", f"/guidelines/editions/{NUMBER}/sw.pdf", signed(HIDDEN)),
            Case("GET", f"/guidelines/editions/{NUMBER}/fr.exe", signed(HIDDEN))],
        ("guidelines.run_page", "GET"): [Case("GET", f"/guidelines/runs/{run}", signed()),
                                         Case("GET", "/guidelines/runs/999999", signed(HIDDEN))],
        ("guidelines.run_status", "GET"): [Case("GET", f"/guidelines/runs/{run}/status", signed()),
                                           Case("GET", "/guidelines/runs/999999/status", signed(HIDDEN))],
        ("handbook_api.Handbook", "GET"): [Case("GET", "/api/v1/handbook", signed(api=True))],
        ("handbook_api.HandbookRuns", "GET"): [Case("GET", "/api/v1/handbook/runs", signed(api=True))],
        ("handbook_api.HandbookRunOne", "GET"): [
            Case("GET", f"/api/v1/handbook/runs/{run}", signed(api=True)),
            Case("GET", "/api/v1/handbook/runs/999999", signed(HIDDEN, api=True))],
        # A note the schema accepts and the service refuses: the person is checked first (403), then the note (422).
        ("handbook_api.Handbook", "POST"): [Case("POST", "/api/v1/handbook", only(ADMIN, WRITE, api=True),
                                                 json={"note": "bell\u0007"})],
        ("handbook_api.HandbookEdition", "GET"): [Case("GET", f"/api/v1/handbook/{NUMBER}", signed(api=True)),
                                                  Case("GET", "/api/v1/handbook/9999", signed(HIDDEN, api=True))],
        ("handbook_api.HandbookFileItem", "GET"): [
            Case("GET", f"/api/v1/handbook/{NUMBER}/files/en/pdf", signed(api=True)),
            Case("GET", f"/api/v1/handbook/{NUMBER}/files/en/html", signed(HIDDEN, api=True)),
            Case("GET", f"/api/v1/handbook/{NUMBER}/files/xx/pdf", signed(HIDDEN, api=True))],
    }
