"""DHIS2 Web API: /api/dataValueSets (POST, GET; JSON and CSV), /api/dataValues (GET, POST, DELETE)
and the task answers of an async import (/api/system/tasks/DATAVALUE_IMPORT/{id}).

Routes only read the request and write DHIS2's answer; parsing and the import (through the one
ingest service) are in datavalue_import.py, the export rows in datavalue_export.py. An async import
is an import job (mel/jobs.py, channel "dhis2") that a `mel worker` runs, or this process when
there is no queue; the task endpoints show it as DHIS2's notifier does.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time

from flask import Blueprint, Response, current_app, jsonify, request

from indicators.periods import PeriodError, PeriodType, parse_period
from mel import jobs
from mel.catalogue.lookup import load_catalogue
from mel.converters import is_digits
from mel.db import db, utcnow
from mel.dhis2 import datavalue_export as out
from mel.dhis2 import datavalue_import as io
from mel.dhis2.auth import dhis2_user
from mel.dhis2.ids import load_ids
from mel.dhis2.messages import Dhis2Error, web_message
from mel.returns.ingest import IngestSettings
from mel.scopes import can_access, is_entering_role
from mel.unit_of_work import finish

JOB_TYPE = "DATAVALUE_IMPORT"
CSV_TYPES = ("application/csv", "text/csv")


# --------------------------------------------------------------------------- POST /dataValueSets


def _max_bytes() -> int:
    config = current_app.config
    # MEL_DHIS2_MAX_UPLOAD_MB (config.py); never below the general limit.
    return max(int(config["DHIS2_MAX_UPLOAD_MB"]), int(config["MAX_UPLOAD_MB"])) * 1024 * 1024


def _body() -> bytes:
    """The request body, within the DHIS2 bound (larger than MEL_MAX_UPLOAD_MB: bulk pushes)."""
    limit = _max_bytes()
    request.max_content_length = limit
    if (request.content_length or 0) > limit:
        raise Dhis2Error(413, f"The payload is larger than {limit // (1024 * 1024)} MB (DHIS2_MAX_UPLOAD_MB); "
                              "split it by period or org unit.")
    return request.get_data(cache=False)


def _is_csv(suffix: str) -> bool:
    mimetype = (request.mimetype or "").lower()
    if mimetype in CSV_TYPES:
        return True
    if mimetype in ("application/json", "") and suffix != ".csv":
        return False
    if suffix == ".csv" and mimetype in ("", "application/octet-stream", "text/plain"):
        return True
    raise Dhis2Error(415, f"Content type '{request.mimetype}' not supported: send application/json or "
                          "application/csv.")


def _summary_answer(summary: dict) -> Response:
    status_code, status, message = io.web_message_parts(summary)
    return web_message(status_code, message, status=status, response=summary)


def post_data_value_sets(suffix: str = "") -> Response:
    user = dhis2_user()
    if not is_entering_role(user):
        raise Dhis2Error(403, "Access is denied: your role cannot enter data (F_DATAVALUE_ADD).", "E1006")
    try:
        options = io.ImportOptions.from_args(request.args)
    except ValueError as exc:
        raise Dhis2Error(409, str(exc)) from None
    is_csv = _is_csv(suffix)
    data = _body()
    session = db.session
    if options.is_async:  # DHIS2 reads the payload in the job: a bad one is the job's ERROR summary
        return _start_job(session, user, options, data, is_csv)
    try:
        payload = io.read_payload(data, options, is_csv=is_csv)
    except io.PayloadError as exc:
        summary = io.Summary(options, status="ERROR", description=f"The import process failed: {exc}").as_json()
        return _summary_answer(summary)
    summary, _ = io.import_value_set(session, user, options, payload, IngestSettings.from_config(current_app.config),
                                     content=data)
    if not options.dry_run and summary["status"] != "ERROR":
        # A 409 WARNING still stores the returns that passed: commit here, as the request's own
        # commit happens on statuses below 400 only.
        finish(session, current_app.config)
    return _summary_answer(summary)


# --------------------------------------------------------------------------- async: a job to poll


def _job_uid(job_id: int) -> str:
    return f"J{job_id:010d}"


def _job_id(uid: str) -> int | None:
    return int(uid[1:]) if len(uid) == 11 and uid[0] == "J" and is_digits(uid[1:]) else None


def _start_job(session, user, options: io.ImportOptions, data: bytes, is_csv: bool) -> Response:
    """DHIS2's answer to `async=true`: the job and where to follow it. The payload and options are
    kept on an import job that a worker imports (or this process, when there is no queue)."""
    record = {"options": options.as_record(), "format": "csv" if is_csv else "json"}
    job = jobs.ImportJob(user_id=user.id, channel="dhis2", filename="dataValueSets", content=data, size=len(data),
                         dry_run=options.dry_run, options=json.dumps(record), created_at=utcnow())
    job = jobs.start_job(session, current_app.config, job)
    uid = _job_uid(job.id)
    answer = web_message(200, f"Initiated {JOB_TYPE}", response={
        "name": JOB_TYPE, "id": uid, "created": _iso(job.created_at), "jobType": JOB_TYPE,
        "jobStatus": "SCHEDULED", "jobParameters": options.as_json(),
        "relativeNotifierEndpoint": f"/api/system/tasks/{JOB_TYPE}/{uid}"})
    answer.headers["Location"] = f"/system/tasks/{JOB_TYPE}"
    return answer


def _iso(moment: datetime) -> str:
    """A time as DHIS2 writes it in JSON (UTC, milliseconds, no zone)."""
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite gives naive UTC
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def _visible_job(job_type: str, uid: str):
    """The uploader's or (for the secretariat) anyone's DHIS2 import job; None for anything else."""
    from mel.errors import NotFound

    user = dhis2_user()
    job_id = _job_id(uid)
    if job_type != JOB_TYPE or job_id is None:
        return None
    try:
        job = jobs.visible_import(db.session, user, job_id)
    except NotFound:  # another's job: as DHIS2, nothing is known of it
        return None
    return job if job.channel == "dhis2" else None


def _notification(job, n: int, moment: datetime, message: str, *, level: str = "INFO", completed: bool = False,
                  data: dict | None = None) -> dict:
    """One of DHIS2's Notification objects (system/notification/Notification.java)."""
    uid = f"N{job.id:08d}{n:02d}"
    note = {"uid": uid, "id": uid, "level": level, "category": JOB_TYPE, "time": _iso(moment), "message": message,
            "completed": completed}
    if data is not None:
        note.update(dataType="PARAMETERS", data=data)
    return note


def notifications(job) -> list[dict]:
    """What DHIS2's notifier holds for the job, newest first: nothing while it waits; "Data value set
    import" (with its parameters) once it runs, then its stage; last, completed, the outcome."""
    if job.state == "queued" or job.started_at is None:
        return []
    record = json.loads(job.options or "{}")
    parameters = io.ImportOptions.from_record(record.get("options") or {}).as_json()
    notes = [_notification(job, 1, job.started_at, "Data value set import", data=parameters)]
    if job.stage == io.IMPORTING or job.state in ("done", "failed"):
        notes.append(_notification(job, 2, job.started_at, io.IMPORTING))
    if job.state == "done":
        summary = json.loads(job.answer or "{}")
        counts = summary.get("importCount", {})
        notes.append(_notification(job, 3, job.finished_at or job.started_at, (
            f"Import complete with status {summary.get('status', 'ERROR')}, {counts.get('imported', 0)} created, "
            f"{counts.get('updated', 0)} updated, {counts.get('deleted', 0)} deleted, "
            f"{counts.get('ignored', 0)} ignored"), completed=True))
    elif job.state == "failed":
        notes.append(_notification(job, 3, job.finished_at or job.started_at,
                                   json.loads(job.answer or "{}").get("message", "Import failed"),
                                   level="ERROR", completed=True))
    return notes[::-1]


def _no_store(answer: Response) -> Response:
    answer.headers["Cache-Control"] = "no-store"
    return answer


def task_notifications(job_type: str, job_id: str) -> Response:
    job = _visible_job(job_type, job_id)
    return _no_store(jsonify(notifications(job) if job is not None else []))


def task_summary(job_type: str, job_id: str) -> Response:
    """The ImportSummary once the job is done; an empty answer before, as DHIS2 gives."""
    job = _visible_job(job_type, job_id)
    if job is None or job.state != "done" or not job.answer:
        return _no_store(Response(status=200))
    return _no_store(jsonify(json.loads(job.answer)))


# --------------------------------------------------------------------------- GET /dataValueSets


def _many(name: str) -> list[str]:
    values = []
    for raw in request.args.getlist(name):
        values += [part.strip() for part in raw.split(",") if part.strip()]
    return values


def _date(name: str) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        raise Dhis2Error(409, f"Value '{raw}' of parameter {name} is not a date (yyyy-MM-dd)", "E2005") from None


def get_data_value_sets(suffix: str = "") -> Response:
    user = dhis2_user()
    session = db.session
    ids, catalogue = load_ids(session), load_catalogue(session)
    args = request.args
    base = io.read_scheme(args.get("idScheme")) or "UID"
    schemes = {kind: io.read_scheme(args.get(param)) or base for param, kind in io.SCHEME_PARAMS.items()}
    input_scheme = io.read_scheme(args.get("inputIdScheme")) or "UID"

    def find(kind: str, raw: str, scheme: str = input_scheme):
        found = ids.resolve(kind, raw, scheme)
        return found if found is not None else ids.resolve(kind, raw, "CODE")

    data_sets_raw, elements_raw = _many("dataSet"), _many("dataElement")
    periods_raw, units_raw = _many("period"), _many("orgUnit")
    start, end = _date("startDate"), _date("endDate")
    last_updated = _date("lastUpdated")
    children = io.read_flag(args, "children")
    error = None
    if not data_sets_raw and not elements_raw and not _many("dataElementGroup"):
        error = ("E2001", "At least one data element, data set or data element group must be specified")
    if not periods_raw and not (start and end) and not last_updated and not args.get("lastUpdatedDuration"):
        error = ("E2002", "At least one period, start/end dates, last updated or last updated duration must be "
                          "specified")
    if periods_raw and (start or end):
        error = ("E2003", "Both periods and start/end date cannot be specified")
    if start and end and start > end:
        error = ("E2004", "Start date must be before end date")
    if not units_raw and not _many("orgUnitGroup"):
        error = ("E2006", "At least one organisation unit or organisation unit group must be specified")
    if children and not units_raw:
        error = ("E2008", "At least one organisation unit must be specified when children are included")
    if error:
        raise Dhis2Error(409, error[1], error[0])
    def resolve_all(kind: str, raws, scheme_param: str, what: str, code: str) -> list:
        scheme = io.read_scheme(args.get(scheme_param)) or input_scheme
        found = []
        for raw in raws:
            item = find(kind, raw, scheme)
            if item is None:
                raise Dhis2Error(409, f"{what} not found or not accessible: `{raw}`", code)
            found.append(item)
        return found

    data_sets = resolve_all("dataSet", data_sets_raw, "inputDataSetIdScheme", "Data set", "E1105")
    elements = resolve_all("dataElement", elements_raw, "inputDataElementIdScheme", "Data element", "E1100")
    units = resolve_all("orgUnit", units_raw, "inputOrgUnitIdScheme", "Organisation unit", "E1102")
    programmes = {ds.programme for ds in data_sets}
    for element in elements:
        programmes |= {ids.data_sets[uid].programme for uid in element.data_sets if uid in ids.data_sets}
    for raw in _many("attributeOptionCombo"):
        aoc = find("attributeOptionCombo", raw)
        if aoc is None:
            raise Dhis2Error(409, f"Attribute option combo not found or not accessible: `{raw}`", "E1104")
        programmes &= {aoc.programme} if programmes else {aoc.programme}
    if user.role == "officer":
        mine = {p.code for p in user.programmes}
        for ds in data_sets:
            if ds.programme not in mine:
                raise Dhis2Error(409, f"User is not allowed to read data for data set: `{ds.uid}`", "E2010")
        programmes &= mine
        for unit in units:
            ours = catalogue.org_units.get(unit.our_code)
            within = ours is not None and any(ours.path.startswith(u.path) or u.path.startswith(ours.path)
                                              for u in user.org_units)
            if not within:
                raise Dhis2Error(409, f"User is not allowed to view org unit: `{unit.uid}`", "E2012")
    periods = None
    if periods_raw:
        periods = []
        for raw in periods_raw:
            try:
                parsed = parse_period(raw)
            except (PeriodError, ValueError):
                raise Dhis2Error(409, f"Period is invalid: `{raw}`", "E1101") from None
            periods += [parsed.id] if parsed.type is PeriodType.QUARTER else [q.id for q in _quarters_in(parsed)]
    query = out.ExportQuery(sorted(programmes), elements or None, periods, start, end, units, children,
                           datetime.combine(last_updated, time.min, tzinfo=UTC) if last_updated else None,
                           schemes)
    rows = out.export_rows(session, user, ids, catalogue, query)
    wants_csv = suffix == ".csv" or args.get("format") == "csv" or (
        suffix == "" and request.accept_mimetypes.best_match(["application/json", *CSV_TYPES])
        in CSV_TYPES)
    if wants_csv:
        answer = Response(out.to_csv(rows), mimetype="application/csv")
        answer.headers["Cache-Control"] = "no-cache, no-store, max-age=0, must-revalidate"
        return answer
    body: dict = {}
    if len(data_sets) == 1 and len(periods_raw) == 1 and len(units) == 1 and not children:
        body = {"dataSet": ids.identify("dataSet", data_sets[0], schemes["dataSet"]), "completeDate": None,
                "period": periods_raw[0], "orgUnit": ids.identify("orgUnit", units[0], schemes["orgUnit"])}
    body["dataValues"] = rows
    answer = jsonify(body)
    answer.headers["Cache-Control"] = "no-cache, no-store, max-age=0, must-revalidate"
    return answer


def _quarters_in(parsed):
    """The quarters inside a longer period (a year, a financial year), for the export."""
    found, cursor = [], parsed.start
    while cursor <= parsed.end:
        quarter = parse_period(f"{cursor.year}Q{(cursor.month - 1) // 3 + 1}")
        if quarter.start >= parsed.start and quarter.end <= parsed.end and quarter not in found:
            found.append(quarter)
        cursor = date(cursor.year + (cursor.month + 2) // 12, (cursor.month + 2) % 12 + 1, 1)
    return found


# --------------------------------------------------------------------------- /dataValues

SINGLE_CODES = {  # the import's conflict codes -> DHIS2's single-value answers (DataValidator)
    "E7610": "E1100", "E7611": "E1101", "E7632": "E1101", "E7612": "E1102", "E7613": "E1103",
    "E7634": "E1103", "E7615": "E1104", "E7616": "E2031", "E7617": "E2020", "E7619": "E2030",
    "E7640": "E2017", "E7642": "E2017", "E7643": "E2025", "E7633": "E2021", "E7618": "E2030",
}


def _value_params() -> dict:
    """de, pe, ou, co and the attribute combo (cc + cp, or ao), from the query or a JSON body."""
    args = request.args
    body = {}
    if request.method == "POST" and request.is_json:
        body = request.get_json(silent=True) or {}
        if not isinstance(body, dict):
            raise Dhis2Error(400, "The body must be a JSON object")
    attribute = body.get("attribute") if isinstance(body.get("attribute"), dict) else {}
    def pick(key, name):
        return (io.clean_text(args.get(key) or body.get(name) or ""))
    params = {"de": pick("de", "dataElement"), "pe": pick("pe", "period"), "ou": pick("ou", "orgUnit"),
              "co": pick("co", "categoryOptionCombo"), "ao": pick("ao", "attributeOptionCombo"),
              "cc": io.clean_text(args.get("cc") or attribute.get("combo") or ""),
              "cp": io.clean_text(args.get("cp") or ";".join(attribute.get("options") or []) or ""),
              "value": io.clean_text(args.get("value") if "value" in args else body.get("value")),
              "comment": io.clean_text(args.get("comment") if "comment" in args else body.get("comment"))}
    for key, word in (("de", "de"), ("pe", "pe"), ("ou", "ou")):
        if not params[key]:
            raise Dhis2Error(400, f"Required request parameter '{word}' for method parameter type String is not "
                                  "present")
    return params


def _attribute(ids, params: dict) -> str:
    """The attribute option combo's uid: `ao`, or `cc` + `cp` (the programme's category option)."""
    if params["ao"]:
        return params["ao"]
    cc, cp = params["cc"], params["cp"]
    if not cc and not cp:
        return ""
    if not (cc and cp):
        raise Dhis2Error(409, "Both category combination and category options must be specified", "E2040")
    options = [p for p in cp.split(";") if p]
    for aoc in ids.attribute_combos.values():
        if aoc.category_option in options or aoc.code in options:
            return aoc.uid
    raise Dhis2Error(409, f"Attribute option combo not found or not accessible: `{cc} {options}`", "E1104")


def _single(params: dict, *, delete: bool = False) -> io.Summary:
    user = dhis2_user()
    if not is_entering_role(user):
        raise Dhis2Error(403, "Access is denied: your role cannot enter data (F_DATAVALUE_ADD).", "E1006")
    session = db.session
    ids = load_ids(session)
    aoc = _attribute(ids, params)
    values = {name: [""] for name in io.CSV_COLUMNS}
    values.update({"dataElement": [params["de"]], "period": [params["pe"]], "orgUnit": [params["ou"]],
                   "categoryOptionCombo": [params["co"]], "attributeOptionCombo": [aoc],
                   "value": [params["value"]], "comment": [params["comment"]], "deleted": ["true" if delete else ""]})
    import pandas as pd

    payload = io.Payload(pd.DataFrame(values, columns=list(io.CSV_COLUMNS), dtype=object))
    options = io.ImportOptions(strategy="DELETE" if delete else "CREATE_AND_UPDATE")
    importer = io.Importer(session, user, ids, load_catalogue(session), options,
                           IngestSettings.from_config(current_app.config), filename="dataValues")
    return importer.run(payload)


def _single_refusal(summary: io.Summary) -> None:
    conflicts = [c for c in summary.conflicts.values() if c.error_code] or list(summary.conflicts.values())
    if conflicts:
        first = conflicts[0]
        code = SINGLE_CODES.get(first.error_code or "", first.error_code)
        raise Dhis2Error(409, first.value, code)


def post_data_value() -> Response:
    summary = _single(_value_params())
    _single_refusal(summary)
    db.session.flush()
    return Response(status=201)


def delete_data_value() -> Response:
    params = _value_params()
    summary = _single(params, delete=True)
    _single_refusal(summary)
    if not summary.deleted:
        raise Dhis2Error(409, "Data value cannot be deleted because it does not exist")
    return Response(status=204)


def get_data_value() -> Response:
    user = dhis2_user()
    params = _value_params()
    session = db.session
    ids, catalogue = load_ids(session), load_catalogue(session)

    def find(kind, raw):
        found = ids.resolve(kind, raw, "UID")
        return found if found is not None else ids.resolve(kind, raw, "CODE")

    de = find("dataElement", params["de"])
    if de is None:
        raise Dhis2Error(409, f"Data element not found or not accessible: `{params['de']}`", "E1100")
    coc = find("categoryOptionCombo", params["co"]) if params["co"] else next(
        c for c in ids.option_combos.values() if c.is_default)
    if coc is None:
        raise Dhis2Error(409, f"Category option combo not found or not accessible: `{params['co']}`", "E1103")
    aoc_uid = _attribute(ids, params)
    aoc = find("attributeOptionCombo", aoc_uid) if aoc_uid else None
    if aoc_uid and aoc is None and not (find("categoryOptionCombo", aoc_uid) or aoc_uid == "default"):
        raise Dhis2Error(409, f"Attribute option combo not found or not accessible: `{aoc_uid}`", "E1104")
    try:
        period = parse_period(params["pe"])
    except (PeriodError, ValueError):
        raise Dhis2Error(409, f"Period is invalid: `{params['pe']}`", "E1101") from None
    unit = find("orgUnit", params["ou"])
    if unit is None:
        raise Dhis2Error(409, f"Organisation unit not found or not accessible: `{params['ou']}`", "E1102")
    if aoc is not None:
        programme = aoc.programme
    else:
        sets = [ids.data_sets[uid].programme for uid in de.data_sets if uid in ids.data_sets]
        if user.role == "officer":
            sets = [p for p in sets if p in {q.code for q in user.programmes}] or sets
        if not sets:
            raise Dhis2Error(409, "Data value does not exist")
        programme = sets[0]
    ours = catalogue.org_units[unit.our_code]
    if user.role == "officer" and not can_access(user, catalogue.programmes[programme].id, ours):
        raise Dhis2Error(403, "User does not have access to read this data value", "E2032")
    query = out.ExportQuery([programme], [de], [period.id], None, None, [unit], False, None,
                           {k: "UID" for k in ("dataElement", "orgUnit", "categoryOptionCombo",
                                               "attributeOptionCombo", "dataSet")})
    rows = [r for r in out.export_rows(session, user, ids, catalogue, query) if r["categoryOptionCombo"] == coc.uid]
    if not rows:
        raise Dhis2Error(409, "Data value does not exist")
    answer = jsonify([rows[0]["value"]])
    answer.headers["Cache-Control"] = "no-cache, no-store, max-age=0, must-revalidate"
    return answer


# --------------------------------------------------------------------------- registration


def _raise_body_limit() -> None:
    """Bulk DHIS2 pushes may exceed MEL_MAX_UPLOAD_MB: lift the bound for these paths before any
    hook reads the body (the app's own before-request hooks parse forms and JSON)."""
    path = request.path
    if request.method in ("POST", "PUT") and "/dataValue" in path and path.startswith("/api/"):
        request.max_content_length = _max_bytes()


def register(bp: Blueprint) -> None:
    """Add this module's routes to the DHIS2 blueprint."""
    bp.record_once(lambda state: state.app.before_request_funcs.setdefault(None, []).insert(0, _raise_body_limit))
    for suffix in ("", ".json", ".csv"):
        bp.add_url_rule(f"/dataValueSets{suffix}", "data_value_sets_get", get_data_value_sets,
                        methods=["GET"], defaults={"suffix": suffix})
        bp.add_url_rule(f"/dataValueSets{suffix}", "data_value_sets_post", post_data_value_sets,
                        methods=["POST"], defaults={"suffix": suffix})
    for suffix in ("", ".json"):
        bp.add_url_rule(f"/dataValues{suffix}", "data_values_get", get_data_value, methods=["GET"])
        bp.add_url_rule(f"/dataValues{suffix}", "data_values_post", post_data_value, methods=["POST"])
        bp.add_url_rule(f"/dataValues{suffix}", "data_values_delete", delete_data_value, methods=["DELETE"])
    bp.add_url_rule("/system/tasks/<job_type>/<job_id>", "system_task", task_notifications, methods=["GET"])
    bp.add_url_rule("/system/taskSummaries/<job_type>/<job_id>", "system_task_summary", task_summary,
                    methods=["GET"])

