"""Starting and stopping the scheduler with the bot: the outbox sender task, the sweep job and the
broadcast progress job.

`bot.app.running` calls `start` after the Application has started (so the JobQueue runs) and `stop`
before it stops. Each job has a fixed name, so starting twice replaces it instead of doubling it.
The sender renders live rows (digests) with the renderers `actions.digests` registers on import, so
it is imported here, whatever the sweep imports: rows queued before a restart need them too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import actions.digests  # noqa: F401 - registers the digests' live renderers for the sender
from channels.delivery import Transport
from channels.telegram.media import stored_photo_bytes
from channels.telegram.transport import TelegramTransport
from channels.wechat.transport import WeChatTransport
from channels.wecom.transport import WeComTransport
from scheduler import broadcasts
from scheduler.sender import OutboxSender
from scheduler.sweep import INTERVAL, JOB_NAME, sweep_job

if TYPE_CHECKING:
    from channels.telegram.context import TongxinApp

_senders: dict[int, OutboxSender] = {}


def sender_of(application: TongxinApp) -> OutboxSender | None:
    """The running sender of an application (for tests and the benchmark)."""
    return _senders.get(id(application))


async def start(application: TongxinApp) -> None:
    """Start delivering the outbox and sweeping every minute."""
    services = application.bot_data
    transports: list[Transport] = [
        TelegramTransport(application.bot, services.catalogues, db=services.db, media_dir=services.settings.media_dir)
    ]
    bot = application.bot

    async def photo_bytes(media_id: int) -> bytes | None:
        # A notice's photo for WeChat or WeCom: the saved file, or Telegram's copy (a volunteer's proof photo).
        return await stored_photo_bytes(bot, services.db, services.settings.media_dir, media_id)

    if services.wecom is not None:
        # Staff on WeCom (no Telegram account) hear there, at any hour; before WeChat: a member who also follows the
        # service account works in the application.
        wecom = services.wecom
        transports.append(
            WeComTransport(wecom.api, services.catalogues, services.db, services.clock.now, photo_bytes=photo_bytes)
        )
    if services.wechat is not None:
        # People with a Telegram account hear there; WeChat-only people (residents) on WeChat.

        transports.append(
            WeChatTransport(
                services.wechat.api,
                services.catalogues,
                services.db,
                services.settings,
                services.clock.now,
                photo_bytes=photo_bytes,
                role_menus=services.wechat.role_menus,
                turns=services.wechat.turns,
            )
        )
    sender = OutboxSender(services, transports)
    await sender.start()
    _senders[id(application)] = sender
    job_queue = application.job_queue
    if job_queue is None:
        raise RuntimeError("the scheduler needs PTB's JobQueue (python-telegram-bot[job-queue])")
    for name in (JOB_NAME, broadcasts.JOB_NAME):
        for job in job_queue.get_jobs_by_name(name):
            job.schedule_removal()
    # The first sweep a minute after start, like every other: a restart catches up then, and a
    # test that never moves the clock sees no sweep it did not ask for.
    job_queue.run_repeating(
        sweep_job,
        interval=INTERVAL,
        first=INTERVAL,
        name=JOB_NAME,
        job_kwargs={"misfire_grace_time": None, "coalesce": True},
    )
    # Soon after start too: a broadcast interrupted by a restart resumes its progress message at once.
    job_queue.run_repeating(
        broadcasts.progress_job,
        interval=broadcasts.INTERVAL,
        first=broadcasts.INTERVAL,
        name=broadcasts.JOB_NAME,
        job_kwargs={"misfire_grace_time": None, "coalesce": True},
    )


async def stop(application: TongxinApp) -> None:
    """Stop the sweep and let the sender finish what is on the wire."""
    if application.job_queue is not None:
        for name in (JOB_NAME, broadcasts.JOB_NAME):
            for job in application.job_queue.get_jobs_by_name(name):
                job.schedule_removal()
    sender = _senders.pop(id(application), None)
    if sender is not None:
        await sender.stop()
