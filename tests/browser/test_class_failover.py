"""Real class pages over two replicas behind the shipped nginx, with Redis: the lecturer's page on replica B,
students' pages (headless Chromium, phone-sized) through nginx on both replicas; replica A is SIGKILLed and the
students' pages resume on B and show the lecturer's next step (the issue's 5 s is a timeout, not a measure)."""
import json
import re
import signal

import pytest
from playwright.sync_api import expect

from services.test_class_replicas import RESUME_S, cluster  # noqa: F401 (the fixture: Redis, 2 replicas, nginx)
from services.test_replicas import http

pytestmark = [pytest.mark.browser, pytest.mark.services]


def followers_on(replica) -> int:
    return json.loads(http("GET", replica.base + "/api/v1/health")[2])["classes"]["followers"]


def test_student_pages_resume_on_the_other_replica(cluster, browser):  # noqa: F811
    a, b, nginx = cluster["a"], cluster["b"], cluster["nginx"]
    contexts = []

    def new_page(w, h):
        ctx = browser.new_context(viewport={"width": w, "height": h})
        contexts.append(ctx)
        return ctx.new_page()

    try:
        lec = new_page(1280, 800)
        lec.goto(b.base + "/")
        expect(lec.locator("#graph")).to_have_attribute("data-loads", "1", timeout=60_000)
        lec.get_by_role("button", name="Share", exact=True).click()
        lec.locator("#share-dialog").get_by_role("button", name="Start class session").click()
        expect(lec.locator("#class-code")).to_have_text(re.compile(r"^[A-Z0-9]{6}$"), timeout=10_000)
        code = lec.inner_text("#class-code")
        lec.get_by_role("button", name="Start teaching").click()
        before_a = followers_on(a)
        students = []
        while len(students) < 3 or followers_on(a) == before_a:  # nginx spreads them; some must be on A
            assert len(students) < 10, "nginx never sent a student's stream to replica A"
            pg = new_page(390, 844)
            pg.problems = []
            pg.on("pageerror", lambda e, pg=pg: pg.problems.append(str(e)))
            pg.goto(f"{nginx.base}/c/{code}")
            expect(pg.locator("#graph")).to_have_attribute("data-loads", "1", timeout=60_000)
            expect(pg.locator("#graph")).to_have_attribute("data-following", "true")
            students.append(pg)
        step = lec.get_by_role("button", name="Step forward", exact=True)
        for k in (1, 2):
            step.click()
            for s in students:
                expect(s.locator("#graph")).to_have_attribute("data-step", str(k), timeout=10_000)
        a.close(signal.SIGKILL)
        step.click()
        for s in students:  # every page, including those whose stream was on A, shows step 3
            expect(s.locator("#graph")).to_have_attribute("data-step", "3", timeout=RESUME_S * 1000)
            expect(s.locator("#graph")).to_have_attribute("data-following", "true")
        assert followers_on(b) >= len(students)
        for s in students:
            assert not s.problems, s.problems
    finally:
        for ctx in contexts:
            ctx.close()
