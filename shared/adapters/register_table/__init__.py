"""The register's DynamoDB table, by what the register does with it: its keys (.keys, the
one place that knows them), reading cases and emails' outcomes (.reads), recording an event
in one transaction (.recording) with its case's items (.case_items), the outbox (.outbox),
erasing a case's events (.erasure) and the sparse indexes (.indexes). RegisterTable is all
of them."""

from __future__ import annotations

from shared.adapters.register_table.erasure import CaseErasure
from shared.adapters.register_table.indexes import IndexReads
from shared.adapters.register_table.recording import Recording


class RegisterTable(Recording, CaseErasure, IndexReads):
    """The register as the handlers, the console and the operations tools use it."""
