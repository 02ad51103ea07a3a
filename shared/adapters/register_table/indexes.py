"""The sparse indexes read instead of the whole table: ClosedByDay (cases past their
retention) and TriageQueue (what waits for a person). Both eventually consistent."""

from __future__ import annotations

from datetime import date

from shared.adapters.register_table.keys import (
    CLOSED_INDEX,
    CLOSED_QUEUE,
    TRIAGE_INDEX,
    case_id_of,
    event_key,
    text,
    triage_item_id,
)
from shared.adapters.register_table.table import TableAccess


class IndexReads(TableAccess):
    def closed_cases(self, closed_by: date, limit: int) -> list[str]:
        """Ids of cases that left the register on or before `closed_by` (the ClosedByDay
        index, eventually consistent), oldest first, at most `limit`."""
        found: list[str] = []
        for item in self._query_index(
            CLOSED_INDEX,
            "retention_queue = :queue AND closed_on <= :by",
            {":queue": text(CLOSED_QUEUE), ":by": text(closed_by.isoformat())},
            page_size=limit,
        ):
            found.append(case_id_of(item))
            if len(found) >= limit:
                break
        return found

    def triage_marks(self, queue: str, until: str | None = None) -> list[tuple[str, str, str]]:
        """(item id, why it waits, since) of one triage queue's items (the TriageQueue index,
        eventually consistent), oldest first, `triage_since` up to `until` inclusive. Item
        ids as shared.console.waiting's, and `case:<case id>`."""
        condition = "triage_queue = :queue" + (" AND triage_since <= :until" if until else "")
        values = {":queue": text(queue), **({":until": text(until)} if until else {})}
        return [
            (triage_item_id(item), item["triage_kind"]["S"], item["triage_since"]["S"])
            for item in self._query_index(TRIAGE_INDEX, condition, values)
        ]

    def waiting_report_label(self, event_id: str) -> str | None:
        item = self._get(event_key(event_id))
        return item["label"]["S"] if item and "label" in item else None
