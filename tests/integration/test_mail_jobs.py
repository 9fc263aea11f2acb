"""The outbox delivered end to end: real Redis, a real arq worker in burst mode, a real SMTP sink."""

from __future__ import annotations

import dataclasses
import email
import socket

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from arq.worker import Worker

from backend import tasks
from backend.domain import jobs
from backend.mail.service import deliver, queue_email
from backend.mail.tables import OutboxEmail
from backend.tasks import ArqQueue, InlineQueue
from backend.worker import worker_settings


class Sink(Message):
    def __init__(self) -> None:
        super().__init__()
        self.received: list[email.message.Message] = []

    def handle_message(self, message: email.message.Message) -> None:
        self.received.append(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_sink():
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield controller.port, sink
    controller.stop()


async def run_worker(settings) -> Worker:
    options = worker_settings(settings)
    options["cron_jobs"] = []
    worker = Worker(**options, burst=True, poll_delay=0)
    await worker.main()
    await worker.close()
    return worker


async def test_arq_worker_delivers_through_smtp(db, settings, smtp_sink):
    port, sink = smtp_sink
    smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
    queue = await ArqQueue.connect(settings.redis_url)
    previous = tasks.install(queue)
    outbox_id = await queue_email(
        "team.leader@example.org", "Your team is registered", "Welcome to the challenge."
    )
    tasks.install(previous)
    await queue.close()

    worker = await run_worker(smtp)

    assert (worker.jobs_complete, worker.jobs_failed) == (1, 0)
    assert [m["To"] for m in sink.received] == ["team.leader@example.org"]
    assert sink.received[0]["Subject"] == "Your team is registered"
    assert "Welcome to the challenge." in sink.received[0].get_payload()
    row = (
        await OutboxEmail.select(OutboxEmail.status, OutboxEmail.attempts)
        .where(OutboxEmail.id == outbox_id)
        .first()
    )
    assert row == {"status": "sent", "attempts": 1}


async def test_a_job_delivered_twice_sends_once(db, settings, smtp_sink):
    port, sink = smtp_sink
    smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
    row = OutboxEmail(to_address="a@example.org", subject="Once", body_text="only once")
    await row.save()
    assert await deliver(smtp, row.id) == "sent"
    assert await deliver(smtp, row.id) == "skipped"
    assert len(sink.received) == 1


async def test_failed_sends_are_kept_for_retry_then_given_up(db, settings):
    closed = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=free_port(), smtp_security="none")
    row = OutboxEmail(to_address="a@example.org", subject="Retry", body_text="...")
    await row.save()
    assert await deliver(closed, row.id) == "queued"
    state = (
        await OutboxEmail.select(OutboxEmail.status, OutboxEmail.attempts, OutboxEmail.last_error)
        .where(OutboxEmail.id == row.id)
        .first()
    )
    assert (state["status"], state["attempts"]) == ("queued", 1)
    assert "ConnectionRefusedError" in state["last_error"]
    outcomes = [await deliver(closed, row.id) for _ in range(4)]
    assert outcomes == ["queued", "queued", "queued", "failed"]


async def test_embedded_mode_writes_mail_files_in_process(db, settings, tmp_path):
    embedded = dataclasses.replace(settings, redis_url=None, mail_dir=tmp_path / "mail")
    queue = InlineQueue(embedded, jobs())
    previous = tasks.install(queue)
    outbox_id = await queue_email("judge@example.org", "Scoring opens", "Your 12 entries are ready.")
    tasks.install(previous)
    await queue.drain()
    files = sorted((tmp_path / "mail").glob("*.eml"))
    assert [f.name for f in files] == [f"{outbox_id:08d}.eml"]
    message = email.message_from_bytes(files[0].read_bytes())
    assert (message["To"], message["Subject"]) == ("judge@example.org", "Scoring opens")
    assert (await OutboxEmail.select(OutboxEmail.status).where(OutboxEmail.id == outbox_id).first())[
        "status"
    ] == "sent"


async def test_flush_job_retries_what_is_left(db, settings, smtp_sink):
    port, sink = smtp_sink
    for i in range(3):
        await OutboxEmail.insert(
            OutboxEmail(to_address=f"user{i}@example.org", subject="Reminder", body_text="...")
        )
    queue = await ArqQueue.connect(settings.redis_url)
    await queue.enqueue("flush_outbox")
    await queue.close()
    smtp = dataclasses.replace(settings, smtp_host="127.0.0.1", smtp_port=port, smtp_security="none")
    worker = await run_worker(smtp)
    assert worker.jobs_complete == 1
    assert sorted(m["To"] for m in sink.received) == [
        "user0@example.org",
        "user1@example.org",
        "user2@example.org",
    ]
