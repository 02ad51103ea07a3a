"""The console's actions carried out: read what the action needs, decide it (the pure
functions of shared.console), record it in one transaction with its outbox - against the
register as read, decided again when it changed meanwhile - and audit who did it.

Pure orchestration over plain interfaces, like shared.intake_service; the console's handler
wires the AWS adapters in (shared.adapters.console_register). By what the console does:
what it shows (.reads), a case's changes (.case_changes), what waits in Triage dealt with
(.triage_decisions) and held withdrawals confirmed or declined (.held_withdrawals), all
recorded like an email's decision (.recording)."""

from __future__ import annotations

from shared.console.service.case_changes import CaseChanges
from shared.console.service.held_withdrawals import HeldWithdrawals
from shared.console.service.reads import ConsoleReads
from shared.console.service.triage_decisions import TriageDecisions


class ConsoleService(ConsoleReads, CaseChanges, TriageDecisions, HeldWithdrawals):
    """Every action of the console, each checked against the actor's role."""
