"""The delivery's satisfaction survey through its signed link, on real Kafka and
PostgreSQL (the whole notifier, see conftest): VehicleDelivered plans the survey and its
message carrying the link; the page answers once and publishes SurveyResponded; a forged,
unknown or expired link gets its page.

The browser tests: Playwright drives Debian's chromium (``chromium_path`` in conftest)
against the notifier served over HTTP by uvicorn; the customer opens the link of the
survey message, taps 5, types a comment and sends; the thank-you page, SurveyResponded
on Kafka and the row follow. An expired link shows its page."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright

from dealerflow.contracts.events.sales import VehicleDelivered
from dealerflow.contracts.examples import example_for
from dealerflow.notifier.domain_surveys import survey_token

pytestmark = pytest.mark.integration

START = datetime(2025, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
DEALER = "D001"
SECRET = "survey-test-secret"
BASE = "https://cx.example.com"


def delivered(delivery_id: str, customer_id: uuid.UUID) -> VehicleDelivered:
    return example_for(VehicleDelivered).model_copy(
        update={
            "dealer_id": DEALER,
            "customer_id": customer_id,
            "delivery_id": delivery_id,
            "occurred_at": START,
            "delivered_at": START,
        }
    )


async def survey_reminder(notifier: Any, delivery_id: str) -> dict[str, Any]:
    async def probe() -> dict[str, Any] | None:
        response = await notifier.client.get("/v1/reminders", params={"dealer_id": DEALER})
        assert response.status_code == 200, response.text
        for item in response.json()["items"]:
            if item["business_key"] == f"delivery:{delivery_id}:survey":
                return dict(item)
        return None

    found: dict[str, Any] = await notifier.eventually(probe, "the survey reminder")
    return found


async def callbacks(notifier: Any, delivery_id: str, count: int) -> list[dict[str, Any]]:
    """The delivery's callbacks (not their overdue escalations) once there are ``count``."""

    async def probe() -> list[dict[str, Any]] | None:
        found = [
            t
            for t in await notifier.tasks()
            if t["related"]["id"] == delivery_id and t["kind"].endswith("_callback")
        ]
        return found if len(found) == count else None

    found: list[dict[str, Any]] = await notifier.eventually(probe, f"{count} callbacks")
    return found


async def expiry_timer(notifier: Any, survey_id: uuid.UUID, status: str) -> bool | None:
    found = await notifier.pool.fetchval(
        "SELECT status FROM timers WHERE key = $1", f"{DEALER}:survey:{survey_id}:expiry"
    )
    return True if found == status else None


async def surveyed(notifier: Any, delivery_id: str) -> tuple[str, str]:
    """Deliver a car; the survey link of its survey message (URL, path)."""
    await notifier.produce(delivered(delivery_id, uuid.uuid4()))
    reminder = await survey_reminder(notifier, delivery_id)
    assert reminder["kind"] == "satisfaction_survey"
    url: str = reminder["params"]["survey_url"]
    assert url.startswith(f"{BASE}/s/{DEALER}.")
    return url, url.removeprefix(BASE)


async def test_the_link_answers_once_and_publishes_survey_responded(start_notifier) -> None:
    async with start_notifier(survey_link_secret=SECRET, public_base_url=BASE) as notifier:
        url, path = await surveyed(notifier, "DL-S1")
        row = await notifier.pool.fetchrow("SELECT * FROM surveys WHERE related_id = $1", "DL-S1")
        assert row["dealer_id"] == DEALER
        assert row["answered_at"] is None
        assert row["expires_at"] - row["sent_at"] == timedelta(days=14)
        # with surveys on, the satisfaction callback is not planned up front
        assert {t["kind"] for t in await callbacks(notifier, "DL-S1", 1)} == {"delivery_callback"}

        # the message goes out with the satisfaction callback, carrying the link
        notifier.clock.advance(timedelta(days=7, hours=1))

        async def sent() -> list[dict[str, Any]] | None:
            found = [
                n for n in await notifier.notifications() if n["kind"] == "satisfaction_survey"
            ]
            return found if found and found[0]["status"] != "queued" else None

        [message] = await notifier.eventually(sent, "the survey message")
        assert message["status"] == "sent", message
        assert url in message["body"]

        page = await notifier.client.get(path)
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert "form-action 'self'" in page.headers["content-security-policy"]
        assert "script-src" not in page.headers["content-security-policy"]
        assert 'name="score" value="10"' in page.text
        assert "满意度调查" in page.text
        english = await notifier.client.get(path, params={"lang": "en"})
        assert "How did we do?" in english.text
        assert 'lang="en"' in english.text

        form = {"content-type": "application/x-www-form-urlencoded"}
        no_score = await notifier.client.post(path, content="comment=hi", headers=form)
        assert no_score.status_code == 422
        assert 'name="score"' in no_score.text
        out_of_range = await notifier.client.post(path, content="score=11", headers=form)
        assert out_of_range.status_code == 422

        answer = await notifier.client.post(
            path, data={"score": "4", "comment": "  Waited an hour <b>for</b> the keys "}
        )
        assert answer.status_code == 200, answer.text
        assert "感谢您的反馈" in answer.text

        [event] = [
            e["event"]
            for e in await notifier.published("SurveyResponded")
            if e["event"].related.id == "DL-S1"
        ]
        assert event.score == 4
        assert event.comment == "Waited an hour <b>for</b> the keys"
        assert event.kind == "delivery_satisfaction"
        assert event.related.kind == "delivery"
        assert event.survey_id == str(row["id"])
        assert event.customer_id == row["customer_id"]

        again = await notifier.client.post(path, data={"score": "10"})
        assert again.status_code == 409
        assert "已提交" in again.text
        assert (await notifier.client.get(path)).status_code == 409
        stored = await notifier.pool.fetchrow("SELECT * FROM surveys WHERE id = $1", row["id"])
        assert (stored["score"], stored["comment"]) == (4, "Waited an hour <b>for</b> the keys")
        assert stored["answered_at"] == notifier.clock.now()
        assert len(await notifier.published("SurveyResponded", within_s=1)) == 1

        # answered: the link's expiry brings no satisfaction callback
        notifier.clock.advance(timedelta(days=14, hours=1))
        await notifier.eventually(
            lambda: expiry_timer(notifier, row["id"], "fired"), "the survey's expiry timer"
        )
        assert {t["kind"] for t in await callbacks(notifier, "DL-S1", 1)} == {"delivery_callback"}


async def test_forged_unknown_and_expired_links(start_notifier) -> None:
    async with start_notifier(survey_link_secret=SECRET, public_base_url=BASE) as notifier:
        _, path = await surveyed(notifier, "DL-S2")
        forged = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
        for bad in (forged, "/s/nonsense", "/s/D001.x.y.z"):
            response = await notifier.client.get(bad)
            assert response.status_code == 404, bad
            assert "链接无效" in response.text
            assert (await notifier.client.post(bad, data={"score": "9"})).status_code == 404
        unknown = survey_token(SECRET, DEALER, uuid.uuid4(), START + timedelta(days=30))
        assert (await notifier.client.get(f"/s/{unknown}")).status_code == 404
        other_dealer = survey_token(SECRET, "D999", uuid.uuid4(), START + timedelta(days=30))
        assert (await notifier.client.get(f"/s/{other_dealer}")).status_code == 404

        notifier.clock.advance(timedelta(days=7 + 14, hours=1))
        expired = await notifier.client.get(path, params={"lang": "en"})
        assert expired.status_code == 410
        assert "expired" in expired.text
        late = await notifier.client.post(path, data={"score": "9"})
        assert late.status_code == 410
        row = await notifier.pool.fetchrow("SELECT * FROM surveys WHERE related_id = 'DL-S2'")
        assert row["answered_at"] is None

        # unanswered at its expiry: customer relations get the satisfaction callback
        tasks = await callbacks(notifier, "DL-S2", 2)
        [callback] = [t for t in tasks if t["kind"] == "satisfaction_callback"]
        assert datetime.fromisoformat(callback["due_at"]) == row["expires_at"]
        assert callback["assignee"] == f"customer-relations:{DEALER}"
        assert "survey went unanswered" in callback["script"]


async def test_no_survey_without_a_secret(notifier) -> None:
    await notifier.produce(delivered("DL-S3", uuid.uuid4()))
    tasks = await callbacks(notifier, "DL-S3", 2)
    assert {t["kind"] for t in tasks} == {"delivery_callback", "satisfaction_callback"}
    assert await notifier.pool.fetchval("SELECT count(*) FROM surveys") == 0


# -- in the browser ----------------------------------------------------------------------


@asynccontextmanager
async def http_server(app: Any, sock: socket.socket) -> AsyncIterator[None]:
    """Serve the running notifier's app (its lifespan already runs) on ``sock``."""
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def surveyed_notifier(start_notifier: Any) -> AsyncIterator[tuple[Any, str]]:
    """The notifier served on a local port, its public base URL that port's."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    async with (
        start_notifier(survey_link_secret=SECRET, public_base_url=base) as notifier,
        http_server(notifier.app, sock),
    ):
        yield notifier, base


@pytest.fixture
async def browser(chromium_path: str) -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=chromium_path, args=["--no-sandbox"]
        )
        try:
            yield launched
        finally:
            await launched.close()


async def test_a_customer_answers_the_survey_in_the_browser(
    start_notifier: Any, browser: Browser
) -> None:
    async with surveyed_notifier(start_notifier) as (notifier, base):
        await notifier.produce(delivered("DL-B1", uuid.uuid4()))
        url = (await survey_reminder(notifier, "DL-B1"))["params"]["survey_url"]
        assert url.startswith(f"{base}/s/")

        page = await browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        response = await page.goto(f"{url}?lang=en")
        assert response is not None
        assert response.status == 200
        assert await page.title() == "How did we do?"
        await page.get_by_text("5", exact=True).click()
        assert await page.locator("input[name=score][value='5']").is_checked()
        await page.fill("#comment", "Friendly staff, slow paperwork")
        async with page.expect_navigation():
            await page.get_by_role("button", name="Send").click()
        assert await page.locator("h1").inner_text() == "Thank you for your feedback"

        [event] = [
            e["event"]
            for e in await notifier.published("SurveyResponded")
            if e["event"].related.id == "DL-B1"
        ]
        assert (event.score, event.comment) == (5, "Friendly staff, slow paperwork")
        row = await notifier.pool.fetchrow("SELECT * FROM surveys WHERE related_id = 'DL-B1'")
        assert (row["score"], row["comment"]) == (5, "Friendly staff, slow paperwork")
        assert str(row["id"]) == event.survey_id
        assert row["answered_at"] is not None


async def test_an_expired_link_shows_its_page(start_notifier: Any, browser: Browser) -> None:
    async with surveyed_notifier(start_notifier) as (notifier, _):
        await notifier.produce(delivered("DL-B2", uuid.uuid4()))
        url = (await survey_reminder(notifier, "DL-B2"))["params"]["survey_url"]
        notifier.clock.advance(timedelta(days=7 + 14, hours=1))

        page = await browser.new_page()
        response = await page.goto(url)
        assert response is not None
        assert response.status == 410
        assert await page.locator("h1").inner_text() == "链接已过期"
        assert await page.locator("form").count() == 0
