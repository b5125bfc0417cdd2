"""DHIS2 data value sets in: payloads (JSON, CSV) to canonical rows for the one ingest service, its
result to DHIS2 2.41's ImportSummary; the same import inline (datavalues.py) and as a queued job
(`run_job`, called by mel/jobs.py for the "dhis2" channel).

Import, as DHIS2 does it: set-level problems (unknown data set, org unit or attribute option combo
of the set) abort the whole payload (ERROR); value-level problems are conflicts (errorCode,
objects, indexes into the payload) and the other values import (WARNING). Our own rule stays on
top: a return (programme × org unit × period) with any rejected value is stored not at all; its
other values are rejected too. Figures go through `mel.returns.ingest.ingest` once per programme,
and again without the refused returns when some are (ingest refuses all or nothing per call).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from indicators.figures import ROW_COLUMNS, SUFFIX
from indicators.periods import PeriodError, PeriodType, parse_period
from mel.accounts.models import User
from mel.catalogue.lookup import Catalogue
from mel.returns.ingest import Incoming, IngestResult, IngestSettings, ingest
from mel.returns.models import DataValue, Return
from mel.scopes import can_access

STRATEGIES = ("CREATE_AND_UPDATE", "CREATE", "UPDATE", "DELETE", "NEW_AND_UPDATES", "NEW", "UPDATES", "DELETES")
STRATEGY_ALIASES = {"NEW_AND_UPDATES": "CREATE_AND_UPDATE", "NEW": "CREATE", "UPDATES": "UPDATE",
                    "DELETES": "DELETE"}
SCHEME_PARAMS = {  # URL parameter -> the kind ids.resolve knows
    "dataElementIdScheme": "dataElement", "orgUnitIdScheme": "orgUnit",
    "categoryOptionComboIdScheme": "categoryOptionCombo", "attributeOptionComboIdScheme": "attributeOptionCombo",
    "dataSetIdScheme": "dataSet",
}
CSV_COLUMNS = ("dataElement", "period", "orgUnit", "categoryOptionCombo", "attributeOptionCombo", "value",
               "storedBy", "lastUpdated", "comment", "followup", "deleted")
TRUE = ("true", "1", "yes")
BATCH_ROWS = 100_000  # values per ingest call at most (whole returns), for memory
IMPORTING = "Importing data..."  # DHIS2's stage of a running import job (DataValueSetImportJob)


class PayloadError(ValueError):
    """The payload cannot be read at all (DHIS2: "The import process failed: ...")."""


def read_flag(args, name: str, default: bool = False) -> bool:
    raw = args.get(name)
    return default if raw in (None, "") else str(raw).strip().lower() in TRUE


def read_scheme(raw: str | None) -> str | None:
    if raw is None or not str(raw).strip():
        return None
    text = str(raw).strip().upper()
    return "UID" if text == "ID" else text


@dataclass
class ImportOptions:
    """The import parameters DHIS2 reads from the URL (ImportOptions), echoed in the summary."""

    schemes: dict[str, str] = field(default_factory=dict)  # kind -> UID | CODE | NAME
    given_schemes: dict[str, str] = field(default_factory=dict)  # as sent (idScheme, dataElementIdScheme…)
    dry_run: bool = False
    strategy: str = "CREATE_AND_UPDATE"
    is_async: bool = False
    first_row_is_header: bool = True
    data_set: str = ""

    @classmethod
    def from_args(cls, args) -> ImportOptions:
        """Read the URL parameters; a bad strategy or scheme raises ValueError (the route answers 409)."""
        strategy = str(args.get("importStrategy") or "CREATE_AND_UPDATE").strip().upper()
        if strategy not in STRATEGIES:
            raise ValueError(f"importStrategy `{args.get('importStrategy')}` is not one of "
                             "CREATE_AND_UPDATE, CREATE, UPDATE, DELETE")
        given = {}
        base = read_scheme(args.get("idScheme"))
        if base:
            given["idScheme"] = base
        schemes = {}
        for param, kind in SCHEME_PARAMS.items():
            scheme = read_scheme(args.get(param))
            if scheme:
                given[param] = scheme
            schemes[kind] = scheme or base or "UID"
        for param, scheme in given.items():
            if scheme not in ("UID", "CODE", "NAME"):
                raise ValueError(f"{param} `{scheme}` is not supported here: use UID, CODE or NAME")
        return cls(schemes, given, read_flag(args, "dryRun"), STRATEGY_ALIASES.get(strategy, strategy),
                   read_flag(args, "async"), read_flag(args, "firstRowIsHeader", True), str(args.get("dataSet") or ""))

    def as_json(self) -> dict:
        """ImportOptions as DHIS2 2.41 writes it in the summary."""
        return {
            "idSchemes": {param: {"type": scheme} for param, scheme in self.given_schemes.items()},
            "dryRun": self.dry_run, "async": self.is_async, "importStrategy": self.strategy,
            "mergeMode": "REPLACE", "reportMode": "FULL", "skipExistingCheck": False, "sharing": False,
            "skipNotifications": False, "skipAudit": False, "datasetAllowsPeriods": False,
            "strictPeriods": False, "strictDataElements": False, "strictCategoryOptionCombos": False,
            "strictAttributeOptionCombos": False, "strictOrganisationUnits": False,
            "strictDataSetApproval": False, "strictDataSetLocking": False, "strictDataSetInputPeriods": False,
            "requireCategoryOptionCombo": False, "requireAttributeOptionCombo": False,
            "skipPatternValidation": False, "ignoreEmptyCollection": False, "force": False,
            "firstRowIsHeader": self.first_row_is_header, "skipLastUpdated": False, "mergeDataValues": False,
            "skipCache": False, **({"dataSet": self.data_set} if self.data_set else {}),
        }

    def as_record(self) -> dict:
        """The options as plain JSON, kept on a queued import job (ImportJob.options)."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict) -> ImportOptions:
        return cls(**record)


@dataclass
class Payload:
    """A data value set: set-level ids and one row per value (strings; '' when absent), in order."""

    values: pd.DataFrame
    data_set: str = ""
    period: str = ""
    org_unit: str = ""
    attribute_option_combo: str = ""
    complete_date: str = ""


def clean_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value).strip()


def read_json(data: bytes) -> Payload:
    """A JSON data value set ({dataSet, period, orgUnit, attributeOptionCombo, completeDate, dataValues})."""
    try:
        document = json.loads(data.decode("utf-8-sig") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PayloadError(f"the body is not valid JSON: {exc}") from exc
    if not isinstance(document, dict):
        raise PayloadError("the body must be a JSON object with a `dataValues` array")
    values = document.get("dataValues") or []
    if not isinstance(values, list) or not all(isinstance(v, dict) for v in values):
        raise PayloadError("`dataValues` must be an array of objects")
    columns = {name: [clean_text(v.get(name)) for v in values] for name in CSV_COLUMNS}
    columns["deleted"] = [clean_text(v.get("deleted")) for v in values]
    columns["followup"] = [clean_text(v.get("followup", v.get("followUp"))) for v in values]
    return Payload(pd.DataFrame(columns, columns=list(CSV_COLUMNS), dtype=object),
                   clean_text(document.get("dataSet")), clean_text(document.get("period")), clean_text(document.get("orgUnit")),
                   clean_text(document.get("attributeOptionCombo")), clean_text(document.get("completeDate")))


def read_payload(data: bytes, options: ImportOptions, *, is_csv: bool) -> Payload:
    """The payload of a POST, JSON or CSV; PayloadError when it cannot be read at all."""
    if is_csv:
        return read_csv(data, first_row_is_header=options.first_row_is_header, data_set=options.data_set)
    return read_json(data)


def read_csv(data: bytes, *, first_row_is_header: bool = True, data_set: str = "") -> Payload:
    """A DHIS2 CSV data value set: positional columns, the first row a header unless told otherwise."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise PayloadError(f"the CSV is not UTF-8 text: {exc}") from exc
    try:
        frame = pd.read_csv(io.StringIO(text), header=None, dtype=str, keep_default_na=False, na_filter=False,
                            skiprows=1 if first_row_is_header else 0, skip_blank_lines=True, engine="c",
                            quoting=csv.QUOTE_MINIMAL)
    except pd.errors.EmptyDataError:
        frame = pd.DataFrame(columns=list(CSV_COLUMNS))
    except (pd.errors.ParserError, ValueError) as exc:
        frame = _read_csv_slowly(text, first_row_is_header, exc)
    frame = frame.iloc[:, :len(CSV_COLUMNS)]
    frame.columns = list(CSV_COLUMNS[:frame.shape[1]])
    for name in CSV_COLUMNS[frame.shape[1]:]:
        frame[name] = ""
    for name in ("dataElement", "period", "orgUnit", "categoryOptionCombo", "attributeOptionCombo", "value"):
        frame[name] = frame[name].astype(object).str.strip()
    return Payload(frame.astype(object), data_set=data_set)


def _read_csv_slowly(text: str, first_row_is_header: bool, first: Exception) -> pd.DataFrame:
    """Rows of uneven length (KHIS exports with fewer columns): the csv module, padding each row."""
    try:
        rows = list(csv.reader(io.StringIO(text)))
    except csv.Error as exc:
        raise PayloadError(f"the CSV cannot be read: {exc}") from first
    if first_row_is_header and rows:
        rows = rows[1:]
    width = len(CSV_COLUMNS)
    rows = [(row + [""] * width)[:width] for row in rows if any(cell.strip() for cell in row)]
    return pd.DataFrame(rows, columns=list(CSV_COLUMNS), dtype=object)


# --------------------------------------------------------------------------- the import summary


@dataclass
class Conflict:
    object: str | None
    objects: dict[str, str]
    value: str
    error_code: str | None
    property: str | None
    indexes: list[int] = field(default_factory=list)

    def as_json(self) -> dict:
        out: dict = {"object": self.object, "objects": self.objects, "value": self.value,
                     "errorCode": self.error_code, "property": self.property,
                     "indexes": sorted(self.indexes) if self.indexes else None}
        return {k: v for k, v in out.items() if v is not None}


@dataclass
class Summary:
    """DHIS2's ImportSummary of a data value set import."""

    options: ImportOptions
    status: str = "SUCCESS"
    description: str = "Import process completed successfully"
    imported: int = 0
    updated: int = 0
    ignored: int = 0
    deleted: int = 0
    conflicts: dict[tuple, Conflict] = field(default_factory=dict)
    rejected: set[int] = field(default_factory=set)
    data_set_complete: str = "false"

    def conflict(self, code: str | None, message: str, objects: dict[str, str], prop: str | None,
                 indexes=()) -> None:
        """Add a conflict; DHIS2 groups them by error code and objects, merging their indexes."""
        key = (code, tuple(objects.items())) if code else (message, tuple(objects.items()))
        found = self.conflicts.get(key)
        if found is None:
            first = next(iter(objects.values()), None)
            found = self.conflicts[key] = Conflict(first, dict(objects), message, code, prop)
        found.indexes.extend(int(i) for i in indexes)

    def abort(self, code: str, message: str, objects: dict[str, str], prop: str) -> Summary:
        self.conflict(code, message, objects, prop)
        self.status, self.description = "ERROR", "Import process was aborted"
        return self

    def as_json(self) -> dict:
        if self.status != "ERROR":
            self.status = "WARNING" if self.conflicts else "SUCCESS"
        return {
            "responseType": "ImportSummary", "status": self.status, "importOptions": self.options.as_json(),
            "description": self.description,
            "importCount": {"imported": self.imported, "updated": self.updated, "ignored": self.ignored,
                            "deleted": self.deleted},
            "conflicts": [c.as_json() for c in self.conflicts.values()],
            "rejectedIndexes": sorted(self.rejected), "dataSetComplete": self.data_set_complete,
        }


def web_message_parts(summary: dict) -> tuple[int, str, str]:
    """(HTTP status, WebMessage status, message) for an ImportSummary, as WebMessageUtils.importSummary."""
    if summary["status"] == "ERROR":
        return 409, "ERROR", "An error occurred, please check import summary."
    if summary["status"] == "WARNING":
        return 409, "WARNING", "One more conflicts encountered, please check import summary."
    return 200, "OK", "Import was successful."


# --------------------------------------------------------------------------- the import


def _fmt(template: str, *args) -> str:
    for i, arg in enumerate(args):
        template = template.replace("{" + str(i) + "}", str(arg))
    return template


E = {  # ErrorCode.java (2.41), the data import codes this import gives
    "E7600": "Data set not found or not accessible: `{0}`",
    "E7601": "User does not have write access for DataSet: `{0}`",
    "E7603": "Org unit not found or not accessible: `{0}`",
    "E7604": "Attribute option combo not found or not accessible: `{0}`",
    "E7610": "Data element not found or not accessible: `{0}`",
    "E7611": "Period not valid: `{0}`",
    "E7612": "Organisation unit not found or not accessible: `{0}`",
    "E7613": "Category option combo not found or not accessible for writing data: `{0}`",
    "E7615": "Attribute option combo not found or not accessible for writing data: `{0}`",
    "E7616": "Attribute option combo: `{0}` option not accessible: `{1}`",
    "E7617": "Organisation unit: `{0}` not in hierarchy of current user: `{1}`",
    "E7618": "Data value or comment not specified for data element: `{0}`",
    "E7619": "Value must match value type of data element `{0}`: `{1}`",
    "E7620": "Invalid comment: {0}",
    "E7631": "Attribute option combo is required but is not specified",
    "E7632": "Period type of period: `{0}` not valid for data element: `{1}`",
    "E7633": "Data element: `{0}` is not part of dataset(s): `{1}`",
    "E7634": "Category option combo: `{0}` must be part of category combo of data element: `{1}`",
    "E7639": "Organisation unit: `{0}` is not valid for attribute option combo: `{1}`",
    "E7640": "Current date is past expiry days for period: `{0}`  and data set: `{1}`",
    "E7642": "Data already approved for data set: `{3}` period: `{1}` org unit: `{0}` attribute option combo: `{2}`",
    "E7643": "Period: `{0}` is not open for this data set at this time: `{1}`",
}
VALUE_TYPE_KEYS = {  # our value problems -> DHIS2's i18n keys of ValidationUtils.valueIsValid
    "not_a_number": "value_not_numeric", "thousands_separator": "value_not_numeric",
    "percent_sign": "value_not_numeric", "negative": "value_not_zero_or_positive_integer",
    "not_whole": "value_not_zero_or_positive_integer", "too_many_decimals": "value_not_numeric",
    "too_large": "value_not_numeric",
}


@dataclass
class _Refs:
    """Payload strings resolved once per distinct spelling (1M values carry a few hundred ids)."""

    ids: object
    options: ImportOptions

    def __post_init__(self) -> None:
        self.cache: dict[tuple[str, str], object] = {}

    def get(self, kind: str, raw: str):
        key = (kind, raw)
        if key not in self.cache:
            scheme = self.options.schemes.get(kind, "UID")
            found = self.ids.resolve(kind, raw, scheme) if raw else None
            if found is None and raw and scheme == "UID":
                # KHIS scripts often send codes with the default scheme; a code never looks like
                # another object's UID, so falling back to the code is safe.
                found = self.ids.resolve(kind, raw, "CODE")
            self.cache[key] = found
        return self.cache[key]

    def column(self, kind: str, series: pd.Series) -> pd.Series:
        uniques = series.unique()
        mapping = {raw: self.get(kind, raw) for raw in uniques}
        return series.map(mapping)


class Importer:
    """One data value set import for one user; `run` gives the ImportSummary."""

    def __init__(self, session: Session, user: User, ids, catalogue: Catalogue, options: ImportOptions,
                 settings: IngestSettings, *, filename: str = "dataValueSets", content: bytes | None = None,
                 now: datetime | None = None) -> None:
        self.session, self.user, self.ids, self.catalogue = session, user, ids, catalogue
        self.options, self.settings, self.filename, self.content, self.now = options, settings, filename, content, now
        self.refs = _Refs(ids, options)
        self.summary = Summary(options)
        self.results: list[IngestResult] = []
        self.units_by_code = {u.our_code: u for u in ids.org_units.values()}

    # ---- set level

    def run(self, payload: Payload) -> Summary:
        summary = self.summary
        data_set_raw = payload.data_set or self.options.data_set
        data_set = None
        if data_set_raw:
            data_set = self.refs.get("dataSet", data_set_raw)
            if data_set is None:
                return summary.abort("E7600", _fmt(E["E7600"], data_set_raw), {"dataSet": data_set_raw}, "dataSet")
            programme = self.catalogue.programmes.get(data_set.programme)
            if self.user.role == "officer" and programme is not None and \
                    programme.id not in {p.id for p in self.user.programmes}:
                return summary.abort("E7601", _fmt(E["E7601"], data_set_raw), {"dataSet": data_set_raw}, "dataSet")
        if payload.org_unit and self.refs.get("orgUnit", payload.org_unit) is None:
            return summary.abort("E7603", _fmt(E["E7603"], payload.org_unit),
                                 {"organisationUnit": payload.org_unit, "dataSet": data_set_raw}, "orgUnit")
        if payload.attribute_option_combo and not self._is_default(payload.attribute_option_combo) and \
                self.refs.get("attributeOptionCombo", payload.attribute_option_combo) is None:
            return summary.abort("E7604", _fmt(E["E7604"], payload.attribute_option_combo),
                                 {"categoryOptionCombo": payload.attribute_option_combo, "dataSet": data_set_raw},
                                 "attributeOptionCombo")
        frame = payload.values
        if frame.empty:
            return summary
        frame = frame.copy()
        frame.index = pd.RangeIndex(len(frame))
        for column, default in (("period", payload.period), ("orgUnit", payload.org_unit),
                                ("attributeOptionCombo", payload.attribute_option_combo)):
            if default:
                frame[column] = frame[column].where(frame[column] != "", default)
        rows = self._resolve(frame, data_set)
        self._store(rows)
        if payload.complete_date and payload.complete_date.lower() != "false" and not self.options.dry_run:
            self._complete(payload.complete_date)
        return summary

    def _is_default(self, raw: str) -> bool:
        found = self.refs.get("attributeOptionCombo", raw) or self.refs.get("categoryOptionCombo", raw)
        return bool(found is not None and getattr(found, "is_default", False)) or raw.lower() == "default"

    # ---- value level: DHIS2's validations in its order, each value's first problem only

    def _reject(self, frame: pd.DataFrame, mask: pd.Series, code: str, message, objects, prop: str | None) -> None:
        """Conflicts for the rows where `mask` holds (not yet rejected), grouped as DHIS2 groups them."""
        mask = mask & frame["ok"]
        if not mask.any():
            return
        rows = frame[mask]
        groups = rows.groupby(list(objects.values()), sort=False, dropna=False) if objects else [(None, rows)]
        for _, group in groups:
            first = group.iloc[0]
            names = {name: str(first[column]) for name, column in objects.items()}
            self.summary.conflict(code, message(first), names, prop, group.index)
        frame.loc[mask, "ok"] = False

    def _resolve(self, frame: pd.DataFrame, data_set) -> pd.DataFrame:
        """Resolve ids, refuse what DHIS2 refuses before storing; add the canonical row columns."""
        refs, user = self.refs, self.user
        frame["ok"] = True
        frame["de"] = refs.column("dataElement", frame["dataElement"])
        self._reject(frame, frame["de"].isna(), "E7610", lambda r: _fmt(E["E7610"], r["dataElement"]),
                     {"dataElement": "dataElement"}, "dataElement")
        periods = {raw: _period(raw) for raw in frame["period"].unique()}
        frame["pe"] = frame["period"].map(periods)
        self._reject(frame, frame["pe"].isna(), "E7611", lambda r: _fmt(E["E7611"], r["period"]),
                     {"period": "period"}, "period")
        # A quarter, or a month (a monthly form's): which of the two the programme's form asks is checked with
        # the rest of the return (mel.periods.period_problem, refused as E7632 too).
        not_quarter = frame["pe"].map(lambda p: p is not None and p == p and not p.startswith(("Q:", "M:")))
        self._reject(frame, not_quarter, "E7632", lambda r: _fmt(E["E7632"], r["period"], r["dataElement"]),
                     {"period": "period", "dataElement": "dataElement"}, None)
        frame["pe"] = frame["pe"].map(lambda p: p[2:] if isinstance(p, str) else None)
        frame["ou"] = refs.column("orgUnit", frame["orgUnit"])
        self._reject(frame, frame["ou"].isna(), "E7612", lambda r: _fmt(E["E7612"], r["orgUnit"]),
                     {"organisationUnit": "orgUnit"}, "orgUnit")
        given_coc = frame["categoryOptionCombo"] != ""
        frame["coc"] = refs.column("categoryOptionCombo", frame["categoryOptionCombo"])
        self._reject(frame, given_coc & frame["coc"].isna(), "E7613",
                     lambda r: _fmt(E["E7613"], r["categoryOptionCombo"]),
                     {"categoryOptionCombo": "categoryOptionCombo"}, "categoryOptionCombo")
        aoc_raw = frame["attributeOptionCombo"]
        defaults = {raw: self._is_default(raw) for raw in aoc_raw.unique() if raw}
        given_aoc = (aoc_raw != "") & ~aoc_raw.map(lambda raw: defaults.get(raw, False))
        frame["aoc"] = refs.column("attributeOptionCombo", aoc_raw).where(given_aoc, None)
        self._reject(frame, given_aoc & frame["aoc"].isna(), "E7615",
                     lambda r: _fmt(E["E7615"], r["attributeOptionCombo"]),
                     {"categoryOptionCombo": "attributeOptionCombo"}, "attributeOptionCombo")
        frame["programme"] = [self._programme_of(aoc, de, data_set) for aoc, de in zip(frame["aoc"], frame["de"],
                                                                                        strict=True)]
        self._reject(frame, frame["programme"].isna(), "E7631", lambda r: E["E7631"], {}, "attributeOptionCombo")
        if user.role == "officer":
            mine = {p.code for p in user.programmes}
            self._reject(frame, frame["ok"] & ~frame["programme"].isin(list(mine)), "E7616",
                         lambda r: _fmt(E["E7616"], r["attributeOptionCombo"] or r["programme"], r["programme"]),
                         {"categoryOptionCombo": "attributeOptionCombo"}, "attributeOptionCombo")
            pairs = {(p, ou.our_code) for p, ou in zip(frame["programme"], frame["ou"], strict=True)
                     if isinstance(p, str) and ou is not None and ou == ou}
            allowed = {pair: can_access(user, self.catalogue.programmes[pair[0]].id,
                                        self.catalogue.org_units[pair[1]])
                       for pair in pairs if pair[0] in self.catalogue.programmes and pair[1] in self.catalogue.org_units}
            outside = pd.Series([not allowed.get((p, ou.our_code if ou is not None and ou == ou else None), True)
                                 for p, ou in zip(frame["programme"], frame["ou"], strict=True)], index=frame.index)
            self._reject(frame, outside, "E7617", lambda r: _fmt(E["E7617"], r["orgUnit"], user.uid if hasattr(
                user, "uid") else user.email), {"organisationUnit": "orgUnit"}, "orgUnit")
        deleted = frame["deleted"].astype(str).str.lower().isin(TRUE)
        empty = (frame["value"] == "") & (frame["comment"].astype(str).str.strip() == "")
        if self.options.strategy != "DELETE":
            self._reject(frame, empty & ~deleted, "E7618", lambda r: _fmt(E["E7618"], r["dataElement"]),
                         {"dataElement": "dataElement"}, "value")
        too_long = frame["comment"].astype(str).str.len() > 50000
        self._reject(frame, too_long, "E7620", lambda r: _fmt(E["E7620"], "comment_length_greater_than_max_length"),
                     {}, "comment")
        # The canonical row of the ingest service.
        frame["indicator"] = [de.indicator + SUFFIX[de.component] if de is not None and de == de else ""
                              for de in frame["de"]]
        default = next((c for c in self.ids.option_combos.values() if c.is_default), None)
        fallback = default.option_code if default is not None else ""
        frame["option"] = [fallback if coc is None or coc != coc else coc.option_code for coc in frame["coc"]]
        frame["org_unit"] = [ou.our_code if ou is not None and ou == ou else "" for ou in frame["ou"]]
        frame["delete"] = deleted | (self.options.strategy == "DELETE")
        frame["value"] = frame["value"].where(~frame["delete"], "")
        return frame

    def _programme_of(self, aoc, de, data_set) -> str | None:
        if aoc is not None and aoc == aoc:
            return aoc.programme
        if data_set is not None:
            return data_set.programme
        if de is not None and de == de:
            sets = [self.ids.data_sets[uid] for uid in de.data_sets if uid in self.ids.data_sets]
            mine = [ds for ds in sets if self.user.role != "officer"
                    or ds.programme in {p.code for p in self.user.programmes}]
            if len(mine) == 1:
                return mine[0].programme
            if len(sets) == 1:
                return sets[0].programme
        return None

    # ---- storing, one programme at a time

    def _store(self, frame: pd.DataFrame) -> None:
        summary = self.summary
        keyed = frame["ok"] | (frame["programme"].notna() & (frame["org_unit"] != "") & frame["pe"].notna())
        frame["key"] = [(p, o, pe) if k else None for p, o, pe, k in
                        zip(frame["programme"], frame["org_unit"], frame["pe"], keyed, strict=True)]
        refused = {k for k in frame.loc[~frame["ok"], "key"] if k is not None}
        self._dedupe(frame)
        self._apply_strategy(frame)
        for programme, rows in self._batches(frame[frame["ok"]], refused):
            for _ in range(4):
                if rows.empty:
                    break
                result = self._ingest(programme, rows)
                if not result.errors:
                    self._count(result, rows)
                    break
                failed = self._conflicts_of(result, rows)
                refused |= failed
                rows = rows[~rows["key"].isin(failed)]
        # A return with any rejected value stores nothing: its other values are rejected too.
        collateral = frame["ok"] & frame["key"].isin(refused)
        for key, group in frame[collateral].groupby("key", sort=True):
            first = group.iloc[0]
            summary.conflict(None, f"Not stored: other values of the {key[0]} return for {first['orgUnit']} "
                                   f"{key[2]} were rejected, and a return is stored whole or not at all.",
                             {"organisationUnit": first["orgUnit"], "period": first["period"],
                              "attributeOptionCombo": first["attributeOptionCombo"] or key[0]},
                             None, group.index)
        frame.loc[collateral, "ok"] = False
        bad = frame.index[~frame["ok"] & ~frame["ignored"]]
        summary.rejected.update(int(i) for i in bad)
        summary.ignored += len(bad)

    def _batches(self, live: pd.DataFrame, refused: set):
        """(programme, rows): one ingest per programme, cut at whole returns past BATCH_ROWS rows so
        a bulk push (a million values) keeps the server's memory bounded."""
        for programme, rows in live.groupby("programme", sort=True):
            rows = rows[~rows["key"].isin(refused)]
            if len(rows) <= BATCH_ROWS:
                yield programme, rows
                continue
            order = rows["key"].map({key: n for n, key in enumerate(dict.fromkeys(rows["key"]))})
            cut = (order.map(order.value_counts().sort_index().cumsum()) - 1) // BATCH_ROWS
            for _, part in rows.groupby(cut, sort=True):
                yield programme, part

    def _dedupe(self, frame: pd.DataFrame) -> None:
        """The same value twice in a payload: DHIS2 writes both, the last wins."""
        frame["ignored"] = False
        live = frame[frame["ok"]]
        keys = list(zip(live["programme"], live["org_unit"], live["pe"], live["indicator"], live["option"],
                        strict=True))
        if len(set(keys)) == len(keys):
            return
        dup = pd.Series(keys, index=live.index).duplicated(keep="last")
        earlier = dup[dup].index
        frame.loc[earlier, "ok"] = False
        frame.loc[earlier, "ignored"] = True
        self.summary.updated += len(earlier)

    def _apply_strategy(self, frame: pd.DataFrame) -> None:
        """CREATE ignores values already stored, UPDATE and DELETE those not stored (DHIS2 rejects
        their indexes, with no conflict)."""
        strategy = self.options.strategy
        if strategy == "CREATE_AND_UPDATE" and not frame.loc[frame["ok"], "delete"].any():
            return
        live = frame[frame["ok"]]
        stored = self._stored_keys(live)
        exists = pd.Series([(p, o, pe, i, opt) in stored for p, o, pe, i, opt in zip(
            live["programme"], live["org_unit"], live["pe"], live["indicator"], live["option"], strict=True)],
            index=live.index, dtype=bool)
        if strategy == "CREATE":
            skip = exists
        elif strategy in ("UPDATE", "DELETE"):
            skip = ~exists
        else:
            skip = live["delete"] & ~exists
        skipped = skip[skip].index
        frame.loc[skipped, "ok"] = False
        self.summary.rejected.update(int(i) for i in skipped)
        self.summary.ignored += len(skipped)
        frame.loc[skipped, "ignored"] = True

    def _stored_keys(self, live: pd.DataFrame) -> set[tuple]:
        catalogue = self.catalogue
        keys = {(catalogue.programmes[p].id, catalogue.org_units[o].id, pe)
                for p, o, pe in set(zip(live["programme"], live["org_unit"], live["pe"], strict=True))
                if p in catalogue.programmes and o in catalogue.org_units}
        found: set[tuple] = set()
        for chunk in _chunks(sorted(keys), 500):
            returns = dict(self.session.execute(select(Return.id, Return.programme_id).where(
                Return.programme_id.in_({k[0] for k in chunk}), Return.org_unit_id.in_({k[1] for k in chunk}),
                Return.period.in_({k[2] for k in chunk}))).all())
            if not returns:
                continue
            for programme_id, unit_id, period, indicator_id, component, combo_id in self.session.execute(
                    select(DataValue.programme_id, DataValue.org_unit_id, DataValue.period, DataValue.indicator_id,
                           DataValue.component, DataValue.option_combo_id)
                    .where(DataValue.return_id.in_(list(returns)))):
                indicator = catalogue.indicator_codes[indicator_id]
                option = catalogue.combo_codes[combo_id]
                found.add((catalogue.programme_codes[programme_id], catalogue.org_unit_codes[unit_id], period,
                           indicator + SUFFIX[component], option))
        return found

    def _ingest(self, programme: str, rows: pd.DataFrame) -> IngestResult:
        canonical = pd.DataFrame({
            "indicator": rows["indicator"], "option": rows["option"], "org_unit": rows["org_unit"],
            "period": rows["pe"], "value": rows["value"], "comment": rows["comment"].astype(str),
            "explanation": "", "file": "", "sheet": "", "row": rows.index + 1, "column": None,
        }, columns=list(ROW_COLUMNS))
        canonical.index = rows.index
        return ingest(self.session, self.user, Incoming(canonical, "dhis2", self.filename, self.content),
                      programme=programme, dry_run=self.options.dry_run, delete_empty=True,
                      settings=self.settings, now=self.now)

    def _count(self, result: IngestResult, rows: pd.DataFrame) -> None:
        summary = self.summary
        self.results.append(result)
        created, updated = result.total("created"), result.total("updated")
        deleted, unchanged = result.total("deleted"), result.total("unchanged")
        summary.imported += created
        summary.updated += updated
        summary.deleted += deleted
        summary.ignored += unchanged + max(0, len(rows) - created - updated - deleted - unchanged)

    def _conflicts_of(self, result: IngestResult, rows: pd.DataFrame) -> set[tuple]:
        """Turn ingest's located issues into DHIS2 conflicts; the returns they refuse."""
        failed: set[tuple] = set()
        by_key = {key: group for key, group in rows.groupby("key", sort=False)}
        for issue in result.errors:
            where = issue.location
            key = (where.get("programme"), where.get("org_unit"), where.get("period"))
            if where.get("row"):
                index = int(where["row"]) - 1
                hit = rows.loc[[index]] if index in rows.index else rows.iloc[0:0]
            else:
                hit = by_key.get(key, rows.iloc[0:0])
                if where.get("indicator"):
                    hit = hit[hit["indicator"] == where["indicator"]]
                    if where.get("option"):
                        hit = hit[hit["option"] == where["option"]]
            if hit.empty:
                hit = by_key.get(key, rows.iloc[0:0])
            if hit.empty:  # not placed: refuse the whole programme's rows rather than guess
                hit = rows
            failed.update(k for k in hit["key"] if k is not None)
            first = hit.iloc[0]
            code, message, objects, prop = self._code_for(issue, first)
            self.summary.conflict(code, message, objects, prop, hit.index)
        return failed

    def _code_for(self, issue, row) -> tuple[str | None, str, dict, str | None]:
        de, pe, ou = row["dataElement"], row["period"], row["orgUnit"]
        aoc = row["attributeOptionCombo"] or row["programme"]
        data_set = self.ids.data_set_for(row["programme"])
        ds = data_set.uid if data_set is not None else row["programme"]
        code = issue.code
        if code == "window":
            if "opens on" in issue.message:
                return "E7643", _fmt(E["E7643"], pe, ds) + f" ({issue.message})", {"period": pe, "dataSet": ds}, \
                    "period"
            return "E7640", _fmt(E["E7640"], pe, ds) + f" ({issue.message})", {"period": pe, "dataSet": ds}, "period"
        if code == "locked":
            objects = {"organisationUnit": ou, "period": pe, "categoryOptionCombo": aoc, "dataSet": ds}
            if "approved" in issue.message:
                return "E7642", _fmt(E["E7642"], ou, pe, aoc, ds), objects, None
            return "E7642", (f"Data already submitted for review for data set: `{ds}` period: `{pe}` org unit: "
                             f"`{ou}` attribute option combo: `{aoc}` ({issue.message})"), objects, None
        if code in VALUE_TYPE_KEYS:
            key = VALUE_TYPE_KEYS[code]
            return "E7619", _fmt(E["E7619"], de, key) + f" ({issue.message})", {"dataElement": de, "value": key}, \
                "value"
        if code in ("unknown_indicator", "ratio_needs_parts", "not_a_ratio"):
            return "E7610", _fmt(E["E7610"], de), {"dataElement": de}, "dataElement"
        if code == "not_on_form":
            return "E7633", _fmt(E["E7633"], de, ds), {"dataElement": de, "dataSet": ds}, "dataElement"
        if code == "unknown_option":
            coc = row["categoryOptionCombo"] or "default"
            return "E7634", _fmt(E["E7634"], coc, de), {"categoryOptionCombo": coc, "dataElement": de}, \
                "categoryOptionCombo"
        if code == "unknown_org_unit":
            return "E7612", _fmt(E["E7612"], ou), {"organisationUnit": ou}, "orgUnit"
        if code == "outside_form":
            return "E7639", _fmt(E["E7639"], ou, aoc), {"organisationUnit": ou, "categoryOptionCombo": aoc}, "orgUnit"
        if code == "bad_period":
            return "E7632", _fmt(E["E7632"], pe, de), {"period": pe, "dataElement": de}, None
        # Our own consistency rules (ratio parts, totals, validation rules): no DHIS2 code says it.
        return None, issue.message, {"dataElement": de, "organisationUnit": ou, "period": pe}, None

    # ---- completeDate: submit the returns

    def _complete(self, complete_date: str) -> None:
        from mel.returns import operations

        stored = [r for result in self.results for r in result.returns]
        if not stored:
            return
        result = IngestResult("stored", returns=stored)
        _, problems = operations.submit_imported(self.session, self.user, result, channel="dhis2")
        for problem in problems[:50]:
            self.summary.conflict(None, problem.message, {"completeDate": complete_date}, "completeDate")
        if not problems:
            text = complete_date.strip().lower()
            self.summary.data_set_complete = date.today().isoformat() if text == "true" else complete_date[:10]


def _period(raw: str) -> str | None:
    """'Q:2025Q3' for a quarter, 'M:202509' for a month, 'X:...' for another type, None when it is no period."""
    try:
        parsed = parse_period(raw)
    except (PeriodError, ValueError, TypeError):
        return None
    kind = {PeriodType.QUARTER: "Q:", PeriodType.MONTH: "M:"}.get(parsed.type, "X:")
    return kind + parsed.id


def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --------------------------------------------------------------------------- one import, inline or queued


def import_value_set(session: Session, user: User, options: ImportOptions, payload: Payload,
                     settings: IngestSettings, *, content: bytes | None = None) -> tuple[dict, int]:
    """Run one import: (the ImportSummary JSON, returns written). Flushes what it stores and rolls back
    a dry run or an aborted import; the caller commits (a 409 WARNING still stores what passed)."""
    from mel.catalogue.lookup import load_catalogue
    from mel.dhis2.ids import load_ids

    importer = Importer(session, user, load_ids(session), load_catalogue(session), options, settings,
                        content=content)
    summary = importer.run(payload).as_json()
    if options.dry_run or summary["status"] == "ERROR":
        session.rollback()
        return summary, 0
    return summary, sum(1 for result in importer.results for r in result.returns if r.changed)


def run_job(session: Session, config, user: User, job):
    """The "dhis2" importer of mel/jobs.py: the kept payload, imported as `import_value_set` does
    inline. A payload that cannot be read is an ERROR summary, as DHIS2's import job gives."""
    from mel.errors import MelError
    from mel.jobs import ImportOutcome

    record = json.loads(job.options or "{}")
    options = ImportOptions.from_record(record.get("options") or {})
    try:
        payload = read_payload(job.content or b"", options, is_csv=record.get("format") == "csv")
    except PayloadError as exc:
        summary = Summary(options, status="ERROR", description=f"The import process failed: {exc}").as_json()
        return ImportOutcome(web_message_parts(summary)[0], summary)
    job.rows_read, job.stage = len(payload.values), IMPORTING
    session.commit()  # the task shows the import under way
    try:
        summary, written = import_value_set(session, user, options, payload, IngestSettings.from_config(config),
                                            content=job.content)
    except MelError as exc:  # inline, the blueprint answers it as a WebMessage; a job keeps a summary
        session.rollback()
        summary, written = Summary(options, status="ERROR", description=f"The import process failed: "
                                                                         f"{exc.message}").as_json(), 0
    return ImportOutcome(web_message_parts(summary)[0], summary, returns_written=written)
