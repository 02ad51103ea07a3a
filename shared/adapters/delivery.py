"""The outbox delivery wired to AWS: shared by the EffectsFunction, the sweeper and `ops`."""

from __future__ import annotations

from shared.adapters import client, client_without_retries
from shared.adapters.mail_store import RawMailStore
from shared.adapters.mailer import SesMailer
from shared.adapters.register_table import RegisterTable
from shared.adapters.review_schedule import ReviewScheduler
from shared.clock import CLOCK
from shared.effects import EffectDelivery, Mailer
from shared.notices import Notices
from shared.panel_pack import PanelPackService
from shared.schedules import ScheduleSync
from shared.settings import Settings


def review_scheduler(settings: Settings) -> ReviewScheduler:
    return ReviewScheduler(
        client("scheduler"),
        settings.schedule_group,
        settings.reminder_function_arn,
        settings.scheduler_role_arn,
        settings.reminder_dlq_arn,
    )


def schedule_sync(settings: Settings, register: RegisterTable) -> ScheduleSync:
    return ScheduleSync(register, review_scheduler(settings), settings, CLOCK.now)


def mailer(settings: Settings) -> Mailer:
    """The outbound route's mailer: SES, or the shared mailbox through Graph."""
    if settings.outbound_route == "graph":
        from shared.adapters.graph import graph_client
        from shared.adapters.graph_mailer import GraphMailer

        return GraphMailer(graph_client(settings), settings.graph_mailbox)
    # Never retried by the SDK: a send whose answer was lost may have gone out.
    return SesMailer(
        client_without_retries("sesv2"), settings.inbox_address, settings.configuration_set
    )


def effect_delivery(settings: Settings, register: RegisterTable) -> EffectDelivery:
    return EffectDelivery(
        register,
        mailer(settings),
        schedule_sync(settings, register),
        RawMailStore(client("s3"), settings.raw_mail_bucket),
        Notices(settings),
        CLOCK.now,
        PanelPackService(settings, register),
    )
