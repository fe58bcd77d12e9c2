"""Checking the data rows of an imported table: what every importer's row checker shares.

An importer subclasses :class:`RowChecker` with its own rules (which people or recipients
came before, what a category word means) and hands its ``check`` to :func:`check_rows`.
The checker names every problem by the row the spreadsheet shows, the column's header
as written in the file and the field it holds.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from conference.tables import Row, RowProblem, SiteLookup, Table, TableReport, table_report

M = TypeVar("M", bound=BaseModel)


@dataclass
class RowChecker:
    """The problems of the row being checked, in the order of fields once sorted."""

    table: Table
    sites: SiteLookup
    fields: tuple[str, ...]
    problems: list[RowProblem] = field(default_factory=list)
    row: Row = field(default_factory=lambda: Row(0, ()))

    def start(self, row: Row) -> None:
        """Begin checking row, with no problems yet."""
        self.row, self.problems = row, []

    def problem(self, name: str, message: str) -> None:
        """Report a problem with field name in the current row."""
        column = self.table.headers[name]
        self.problems.append(
            RowProblem(row=self.row.number, column=column, field=name, message=message)
        )

    def listed_once(self, name: str, key: Hashable, seen: dict[Any, int], twice: str) -> None:
        """Note that key was listed in this row; a problem (twice, and where) if it was before."""
        if key in seen:
            self.problem(name, f"{twice} (also row {seen[key]})")
        else:
            seen[key] = self.row.number

    def site(self, text: str, *, missing: str | None) -> str | None:
        """The code of the site text names; None, with a problem, if it names none.

        An empty text is a problem only when missing gives its message.
        """
        if not text:
            if missing is not None:
                self.problem("site", missing)
            return None
        code, why = self.sites.find(text)
        if code is None:
            self.problem("site", why)
        return code

    def validate(
        self, model: type[M], data: Mapping[str, Any], columns: Mapping[str, str] | None = None
    ) -> M | None:
        """data as a model; None, with a problem for each field not yet reported, if invalid.

        columns names the field of a model's field where the two differ.
        """
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            reported = {p.field for p in self.problems}
            for error in exc.errors(include_url=False, include_input=False):
                loc = str(error["loc"][0]) if error["loc"] else "name"
                column = (columns or {}).get(loc, loc)
                if column not in reported:
                    reported.add(column)
                    self.problem(column, error["msg"].removeprefix("Value error, "))
        return None

    def outcome(self, found: M | None) -> M | list[RowProblem]:
        """found if the row has no problem, else its problems in field order."""
        if self.problems or found is None:
            return sorted(self.problems, key=lambda p: self.fields.index(p.field))
        return found


def check_rows(
    table: Table, check: Callable[[Row], M | list[RowProblem]]
) -> tuple[TableReport, list[M]]:
    """The report on every row of table, and what the valid rows hold in file order."""
    problems: list[RowProblem] = []
    valid: list[M] = []
    for row in table.rows:
        found = check(row)
        if isinstance(found, list):
            problems.extend(found)
        else:
            valid.append(found)
    return table_report(table, problems, len(valid)), valid
