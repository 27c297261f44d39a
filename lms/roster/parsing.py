"""Reading a roster CSV into rows, or into the reasons it cannot be read (no Flask, no database).

What a file must look like is in README.md (*CSV roster import*) and in `TEMPLATE`. Problems with the
file as a whole (encoding, columns, size) are a `FileProblem`; problems with one cell travel with the
row, so that the preview can show every one of them with its line and column.

Messages and column headings are English with %(name)s placeholders, marked with `N_` for the staff
catalogue: the pages translate them where they are shown (`text` and `values`), and `message` and
str() give the English (CSV reports, logs, a job's stored error).
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime

from email_validator import EmailNotValidError, validate_email


def N_(text: str) -> str:
    """Marks `text` for the translators; it is translated where it is shown (this module has no Flask)."""
    return text


# Columns in the order of the template, with their heading as people read it. These are also the
# template's own headings: the file's format does not change with the reader's language.
COLUMNS: dict[str, str] = {"employee_id": N_("Employee id"), "name": N_("Name"), "email": N_("E-mail"),
                           "organisation": N_("Organisation"), "role": N_("Role"), "team": N_("Team"),
                           "start_date": N_("Start date")}
REQUIRED = ("employee_id", "name", "email", "organisation")

# Header spellings HR systems and Excel users write, compared lower case without spaces or punctuation.
_ALIASES: dict[str, str] = {
    **{alias: "employee_id" for alias in ("employeeid", "employeeno", "employeenumber", "empid", "empno",
                                           "staffid", "staffnumber", "personnelnumber", "hrid", "badgeid")},
    **{alias: "name" for alias in ("name", "fullname", "displayname", "employeename", "agent", "agentname")},
    **{alias: "email" for alias in ("email", "emailaddress", "mail", "workemail", "username")},
    **{alias: "organisation" for alias in ("organisation", "organization", "org", "company", "employer",
                                            "partner")},
    **{alias: "role" for alias in ("role", "jobrole", "accessrole")},
    **{alias: "team" for alias in ("team", "teamname", "group", "squad")},
    **{alias: "start_date" for alias in ("startdate", "start", "hiredate", "datestarted", "joiningdate",
                                          "joined")},
}
ROLE_NAMES = {"agent": "agent", "trainer": "trainer", "auditor": "auditor", "admin": "admin",
              "partneradmin": "partner_admin"}

# The target is 10,000 agents per file; a file ten times larger is refused outright, before any
# database work, rather than holding a web worker for minutes.
MAX_ROWS = 20_000
# Spreadsheet programs run a cell starting with one of these as a formula (CSV injection): such cells
# are refused, not silently altered, so that what is stored is exactly what the file said.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_LIMITS = {"employee_id": 50, "name": 200, "email": 254, "organisation": 200, "team": 100}

TEMPLATE = ("\ufeffEmployee id,Name,E-mail,Organisation,Role,Team,Start date\r\n"
            "A-1001,Amina Haddad,amina.haddad@atlascare.example,Atlas Customer Care,agent,Casablanca Team 1,"
            "2026-09-01\r\n")


class FileProblem(ValueError):
    """The file as a whole cannot be imported; the message says where and why, for people.

    `text` is the message with %(name)s placeholders (marked N_), `values` fill them; str() is the English."""

    def __init__(self, text: str, **values: object) -> None:
        super().__init__(text % values)
        self.text, self.values = text, values


@dataclass
class CellError:
    column: str  # a key of COLUMNS, or "" for the row as a whole
    text: str  # the message with %(name)s placeholders (marked N_), translated where it is shown
    values: dict[str, object] = field(default_factory=dict)

    @property
    def message(self) -> str:
        """The message in English."""
        return self.text % self.values

    @property
    def heading(self) -> str:
        return COLUMNS.get(self.column, N_("row"))


@dataclass
class RosterRow:
    """One data line of the file, its values cleaned, and what is wrong with it."""

    line: int
    employee_id: str
    name: str
    email: str
    organisation: str
    role: str
    team: str
    start_date: date | None
    errors: list[CellError] = field(default_factory=list)


def decode(data: bytes) -> str:
    """UTF-8, with or without the BOM Excel writes; anything else is a FileProblem naming the byte."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[:exc.start].count(b"\n") + 1
        raise FileProblem(
            N_("The file is not UTF-8: byte %(byte)s at offset %(offset)s (line %(line)s) cannot be read. In Excel "
               "choose Save As → “CSV UTF-8 (Comma delimited)”."),
            byte=f"0x{data[exc.start]:02X}", offset=exc.start, line=line) from None


def delimiter(header_line: str) -> str:
    """Comma or semicolon (Excel writes semicolons where the decimal mark is a comma)."""
    return ";" if header_line.count(";") > header_line.count(",") else ","


def _key(heading: str) -> str:
    return re.sub(r"[^a-z0-9]", "", heading.lower())


def map_headers(headings: list[str]) -> dict[str, int]:
    """Column key -> index; a FileProblem names missing, unknown-duplicate or repeated columns."""
    found: dict[str, int] = {}
    for index, heading in enumerate(headings):
        key = _ALIASES.get(_key(heading))
        if key is None:
            continue  # extra columns (cost centre, manager...) are allowed and ignored
        if key in found:
            raise FileProblem(N_("Line 1: the columns “%(first)s” and “%(second)s” both mean %(column)s; keep one."),
                              first=headings[found[key]], second=heading, column=COLUMNS[key])
        found[key] = index
    missing = [COLUMNS[key] for key in REQUIRED if key not in found]
    if missing:
        raise FileProblem(N_("Line 1: the file has no %(missing)s column. The columns are: %(columns)s (Role, Team "
                             "and Start date may be left out). Download the template to see the format.")
                          if len(missing) == 1 else
                          N_("Line 1: the file has no %(missing)s columns. The columns are: %(columns)s (Role, Team "
                             "and Start date may be left out). Download the template to see the format."),
                          missing=", ".join(missing), columns=", ".join(COLUMNS.values()))
    return found


def _parse_date(text: str) -> date:
    for pattern in ("%Y-%m-%d", "%d/%m/%Y", "%d.%m.%Y"):
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    raise ValueError(text)


def _check_row(row: RosterRow, raw: dict[str, str]) -> None:
    for column, value in raw.items():
        if value.startswith(FORMULA_START):
            if value[0].strip():
                row.errors.append(CellError(column, N_("starts with \"%(character)s\", which spreadsheet programs run as "
                                                       "a formula; remove that character"), {"character": value[0]}))
            else:
                row.errors.append(CellError(column, N_("starts with a tab, which spreadsheet programs run as a "
                                                       "formula; remove that character")))
        elif column in _LIMITS and len(value) > _LIMITS[column]:
            row.errors.append(CellError(column, N_("is longer than %(limit)s characters"), {"limit": _LIMITS[column]}))
    for column in REQUIRED:
        if not raw.get(column):
            row.errors.append(CellError(column, N_("is empty")))
    if row.email and not any(e.column == "email" for e in row.errors):
        try:
            row.email = validate_email(row.email, check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            row.errors.append(CellError("email", N_("\"%(value)s\" is not an e-mail address"), {"value": row.email}))
    if raw.get("role") and not any(e.column == "role" for e in row.errors):
        role = ROLE_NAMES.get(_key(raw["role"]))
        if role is None:
            row.errors.append(CellError("role", N_("\"%(value)s\" is not a role: use agent, trainer, auditor, admin "
                                                   "or partner admin"), {"value": raw["role"]}))
        row.role = role or ""
    if raw.get("start_date") and not any(e.column == "start_date" for e in row.errors):
        try:
            row.start_date = _parse_date(raw["start_date"])
        except ValueError:
            row.errors.append(CellError("start_date", N_("\"%(value)s\" is not a date: write YYYY-MM-DD or "
                                                         "DD/MM/YYYY"), {"value": raw["start_date"]}))


def read_rows(data: bytes, max_rows: int | None = None) -> Iterator[RosterRow]:
    """The file's data rows, one at a time, each checked on its own (see `find_duplicates` for the file).

    Raises FileProblem for what makes the whole file unreadable, before yielding anything if it is
    the encoding or the header, and as soon as the row limit is passed.
    """
    max_rows = max_rows or MAX_ROWS
    text = decode(data)
    if not text.strip():
        raise FileProblem(N_("The file is empty."))
    header_line = text.split("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter(header_line))
    try:
        columns = map_headers([h.strip() for h in next(reader)])
        count = 0
        for cells in reader:
            if not any(cell.strip() for cell in cells):
                continue  # Excel leaves blank lines (";;;;;;") at the end
            count += 1
            if count > max_rows:
                raise FileProblem(N_("The file has more than %(limit)s rows (line %(line)s); import at most "
                                     "%(limit)s at a time: split it into several files."),
                                  limit=f"{max_rows:,}", line=reader.line_num)
            raw = {key: (cells[index].strip() if index < len(cells) else "") for key, index in columns.items()}
            row = RosterRow(line=reader.line_num, employee_id=raw.get("employee_id", ""), name=raw.get("name", ""),
                            email=raw.get("email", ""), organisation=raw.get("organisation", ""),
                            role=raw.get("role", ""), team=raw.get("team", ""), start_date=None)
            _check_row(row, raw)
            yield row
    except csv.Error as exc:
        raise FileProblem(N_("Line %(line)s: the file is not valid CSV (%(error)s)."), line=reader.line_num,
                          error=str(exc)) from None


def find_duplicates(rows: list[RosterRow]) -> None:
    """Mark rows repeating an employee id (within one organisation) or an e-mail, naming both lines."""
    seen_ids: dict[tuple[str, str], int] = {}
    seen_emails: dict[str, int] = {}
    for row in rows:
        if row.employee_id:
            key = (row.organisation.casefold(), row.employee_id)
            if key in seen_ids:
                row.errors.append(CellError("employee_id", N_("%(value)s is also on line %(line)s"),
                                            {"value": row.employee_id, "line": seen_ids[key]}))
            else:
                seen_ids[key] = row.line
        if row.email:
            if row.email in seen_emails:
                row.errors.append(CellError("email", N_("%(value)s is also on line %(line)s"),
                                            {"value": row.email, "line": seen_emails[row.email]}))
            else:
                seen_emails[row.email] = row.line
