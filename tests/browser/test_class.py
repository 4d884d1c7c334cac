"""A live class in headless Chromium: a lecturer and three students in separate browser contexts (two phones on
/c/<code>, one /embed?class=<code>): follow, step away, rejoin, a re-run of an edited program, a question answered
on the phones with a live histogram and a reveal, a student who tries to drive (403), the end. And the reveal.js
plugin driving an embed from slide fragments."""
import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from .conftest import ARTIFACTS
from .test_screens import AXE, inside_viewport, no_sideways_scroll
from .test_share import _Host, fresh_page

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def graph(pg):
    return pg.locator("#graph")


def wait_step(pg, k, timeout=10_000):
    expect(graph(pg)).to_have_attribute("data-step", str(k), timeout=timeout)


def lecturer_step(pg, n):
    for _ in range(n):
        k = int(graph(pg).get_attribute("data-step"))
        pg.get_by_role("button", name="Step forward", exact=True).click()
        wait_step(pg, k + 1)


def start_session(pg) -> str:
    """Start a class from the Share dialog; return the join code shown on the join screen."""
    pg.get_by_role("button", name="Share", exact=True).click()
    pg.locator("#share-dialog").get_by_role("button", name="Start class session").click()
    expect(pg.locator("#class-dialog")).to_be_visible()
    expect(pg.locator("#class-code")).to_have_text(re.compile(r"^[A-Z0-9]{6}$"), timeout=10_000)
    return pg.inner_text("#class-code")


def axe_serious(pg) -> list:
    """axe-core's serious and critical violations (loaded by the debugger protocol: the page's CSP stays on)."""
    pg.evaluate(AXE.read_text() + "\n;0")
    found = pg.evaluate("""async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
        .map(v => ({ id: v.id, impact: v.impact, nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')) }))""")
    return [v for v in found if v["impact"] in ("serious", "critical")]


def api_status(pg, method, path, body=None, token=None) -> int:
    return pg.evaluate("""async ([method, path, body, token]) => {
        const headers = {"Content-Type": "application/json"};
        if (token) headers.Authorization = `Bearer ${token}`;
        const r = await fetch(path, {method, headers, body: body ? JSON.stringify(body) : undefined});
        return r.status;
    }""", [method, path, body, token])


def test_a_lecturer_and_three_students(browser, base_url):
    lctx, lec = fresh_page(browser, (1024, 768))
    contexts = [lctx]
    try:
        lec.goto(base_url + "/")
        expect(graph(lec)).to_have_attribute("data-loads", "1", timeout=30_000)
        lec.get_by_role("button", name="Presenter mode").click()
        lecturer_step(lec, 2)
        code = start_session(lec)
        link = lec.inner_text("#class-link")
        assert link.endswith(f"/c/{code}")
        qr = lec.locator("#class-qr svg")
        expect(qr).to_have_attribute("aria-label", f"QR code of {link}")
        box = qr.bounding_box()
        assert box["width"] >= 300, box  # readable from the back of the room
        lec.screenshot(path=str(ARTIFACTS / "class-join-projector-1024x768.png"))
        token = lec.evaluate("JSON.parse(sessionStorage.getItem('gradtrace.class.host')).token")
        assert token and token not in lec.url
        lec.get_by_role("button", name="Start teaching").click()
        expect(graph(lec)).to_have_attribute("data-class", code)
        no_sideways_scroll(lec)  # the projector's top bar still holds everything, with the session's controls
        for name in ("Run", "Share", "Show join code", "Ask the class", "End class session", "Toggle dark theme", "Keyboard help"):
            inside_viewport(lec, lec.locator("header").get_by_role("button", name=name))

        students = []
        for url, size in [(f"/c/{code}", (390, 844)), (f"/c/{code.lower()}", (390, 844)), (f"/embed?class={code}", (800, 560))]:
            ctx, pg = fresh_page(browser, size)
            contexts.append(ctx)
            pg.goto(base_url + url)
            students.append(pg)
        s1, s2, s3 = students
        for s in students:  # joined at the lecturer's step, following
            expect(graph(s)).to_have_attribute("data-class", code, timeout=30_000)
            wait_step(s, 2, timeout=30_000)
            expect(graph(s)).to_have_attribute("data-following", "true")
        lecturer_step(lec, 2)  # the lecturer steps: everyone follows
        for s in students:
            wait_step(s, 4)
        expect(lec.locator("#class-host-count")).to_have_text("3 following", timeout=20_000)
        expect(s1.locator("#class-follow")).to_contain_text("Following the lecturer live")
        s1.screenshot(path=str(ARTIFACTS / "class-phone-following-390x844.png"))

        # A student steps away, the lecturer moves on, the student rejoins.
        s1.get_by_role("button", name="Step back", exact=True).click()
        wait_step(s1, 3)
        expect(graph(s1)).to_have_attribute("data-following", "false")
        expect(s1.locator("#class-follow")).to_contain_text("You are 1 step behind")
        lecturer_step(lec, 2)
        for s in (s2, s3):
            wait_step(s, 6)
        wait_step(s1, 3)
        expect(s1.locator("#class-follow")).to_contain_text("You are 3 steps behind")
        s1.get_by_role("button", name="Rejoin live").click()
        wait_step(s1, 6)
        expect(graph(s1)).to_have_attribute("data-following", "true")

        # Live edit: the graph is out of date at once; the re-run keeps the step (same line, same op) for everyone.
        lec.locator(".cm-content").click()
        lec.keyboard.press("Control+Home")
        lec.keyboard.type("# a note for the class\n")
        expect(graph(lec)).to_have_attribute("data-stale", "true")
        expect(lec.locator("#stale-note")).to_be_visible()
        loads = {id(s): int(graph(s).get_attribute("data-loads") or 0) for s in students}
        lec.get_by_role("button", name="Run", exact=True).click()
        expect(graph(lec)).to_have_attribute("data-loads", "2", timeout=30_000)
        expect(graph(lec)).to_have_attribute("data-stale", "false")
        wait_step(lec, 6)
        for s in students:
            expect(graph(s)).to_have_attribute("data-loads", str(loads[id(s)] + 1), timeout=30_000)
            wait_step(s, 6)
        expect(s1.locator(".cm-content")).to_contain_text("# a note for the class")

        # Predict together: at a backward node the lecturer asks; the phones answer; the histogram counts.
        ask = lec.get_by_role("button", name="Ask the class")
        for _ in range(20):
            if ask.is_enabled():
                break
            lecturer_step(lec, 1)
        expect(ask).to_be_enabled()
        at = int(graph(lec).get_attribute("data-step"))
        ask.click()
        answers = lec.locator("#class-answers")
        expect(answers).to_be_visible()
        expect(answers).to_have_attribute("data-count", "0")
        for s in students:
            wait_step(s, at)
            expect(s.locator("#class-question")).to_be_visible(timeout=10_000)
        prompt = lec.inner_text(".class-answers-prompt")
        assert s1.inner_text(".class-prompt") == prompt
        s1.get_by_role("button", name=re.compile(r"^Answer A:")).click()
        s2.get_by_role("button", name=re.compile(r"^Answer B:")).click()
        s3.get_by_role("button", name=re.compile(r"^Answer A:")).click()
        expect(s1.locator("#class-question .class-note")).to_contain_text("Answer sent")
        expect(answers).to_have_attribute("data-count", "3", timeout=10_000)
        expect(answers.locator('.class-bar[data-choice="0"]')).to_have_attribute("data-count", "2")
        expect(answers.locator('.class-bar[data-choice="1"]')).to_have_attribute("data-count", "1")
        qid = s1.get_attribute("#class-question", "data-id")
        again = api_status(s1, "POST", f"/api/v1/classes/{code}/questions/{qid}/answers",
                           {"choice": 1, "follower": s1.evaluate("localStorage.getItem('gradtrace.follower')")})
        assert again == 409  # one answer per follower
        expect(answers).to_have_attribute("data-count", "3")
        lec.screenshot(path=str(ARTIFACTS / "class-histogram.png"))
        for pg in (lec, s1):  # the histogram and the phone's question card: no serious accessibility faults
            assert not axe_serious(pg)

        # A student cannot drive, ask, reveal or end (no token, or a guessed one).
        assert api_status(s2, "PUT", f"/api/v1/classes/{code}/state", {"state": {"step": 0, "view": {}}}) == 403
        assert api_status(s2, "PUT", f"/api/v1/classes/{code}/state", {"state": {"step": 0, "view": {}}}, token="guess") == 403
        assert api_status(s2, "POST", f"/api/v1/classes/{code}/questions/{qid}/reveal") == 403
        assert api_status(s2, "DELETE", f"/api/v1/classes/{code}") == 403
        wait_step(s3, at)

        lec.reload()  # a reload of the lecturer's tab keeps the session and brings the open question's histogram back
        expect(lec.locator("#class-host-code")).to_have_text(code, timeout=30_000)
        expect(answers).to_have_attribute("data-count", "3", timeout=10_000)
        expect(answers).to_have_attribute("data-revealed", "false")
        lec.get_by_role("button", name="Reveal answer").click()
        expect(answers).to_have_attribute("data-revealed", "true")
        right = int(answers.locator(".class-bar.right").get_attribute("data-choice"))
        assert answers.get_attribute("data-right") == str([2, 1, 0, 0][right])
        for s in students:
            expect(s.locator("#class-question")).to_have_attribute("data-revealed", "true", timeout=10_000)
            expect(s.locator(".class-choice.right")).to_have_count(1)
        expect(s2.locator("#class-question .class-note")).to_contain_text("Right!" if right == 1 else "Not quite")
        s1.screenshot(path=str(ARTIFACTS / "class-phone-answered-390x844.png"))

        # The end: every follower is told, and stops following.
        lec.locator("#class-host").get_by_role("button", name="End class session").click()
        expect(lec.locator("#class-host")).to_be_hidden()
        for s in students:
            expect(graph(s)).to_have_attribute("data-following", "false", timeout=10_000)
            expect(s.locator("#class-follow")).to_contain_text("ended")
        assert lec.evaluate("sessionStorage.getItem('gradtrace.class.host')") is None
        for pg in [lec, *students]:  # the refusals this test provoked on purpose are logged by the browser
            left = [p for p in pg.problems if not re.search(r"status of (403|409) ", p)]
            assert not left, left
    finally:
        for ctx in contexts:
            ctx.close()


def test_reveal_plugin_drives_an_embed_from_slide_fragments(browser, base_url):
    ctx, pg = fresh_page(browser)
    pg.goto(base_url + "/")
    expect(graph(pg)).to_have_attribute("data-loads", "1", timeout=30_000)
    pg.get_by_role("button", name="Step forward", exact=True).click()
    wait_step(pg, 1)
    expect(pg).to_have_url(re.compile(r"#v1\."))
    embed = base_url + "/embed" + pg.evaluate("location.hash")
    ctx.close()
    deck = (FIXTURES / "reveal-deck.html").read_text()
    host = _Host(deck.replace("__EMBED__", embed).replace("__PLUGIN__", base_url + "/static/js/reveal-gradtrace.js"))
    ctx, pg = fresh_page(browser, (1000, 700))
    try:
        pg.goto(host.url)
        pg.evaluate("Reveal.next()")  # to the slide with the embed
        frame = pg.frame_locator("#gt")
        fgraph = frame.locator("#graph")
        expect(fgraph).to_have_attribute("data-loads", "1", timeout=30_000)
        expect(fgraph).to_have_attribute("data-step", "1")  # data-gradtrace-start
        pg.evaluate("Reveal.next()")
        expect(fgraph).to_have_attribute("data-step", "3")
        pg.evaluate("Reveal.next()")
        expect(fgraph).to_have_attribute("data-step", "6")
        pg.evaluate("Reveal.prev()")
        expect(fgraph).to_have_attribute("data-step", "3")
        # Focused, the embed does not keep the clicker: → goes to the deck, which shows the next fragment.
        frame.locator("#graph svg").first.click()
        pg.keyboard.press("ArrowRight")
        expect(fgraph).to_have_attribute("data-step", "6")
        assert pg.evaluate("document.querySelectorAll('#s2 .fragment.visible').length") == 2
        pg.keyboard.press("PageDown")
        expect(fgraph).to_have_attribute("data-step", "8")
        # Escape gives the focus back to the deck: the next key is the deck's own.
        pg.keyboard.press("Escape")
        pg.wait_for_function("document.activeElement && document.activeElement.id === 'deck'")
        pg.keyboard.press("ArrowLeft")
        expect(fgraph).to_have_attribute("data-step", "6")
        log = pg.evaluate("window.deckLog")
        kinds = {m["gradtrace"] for m in log}
        assert {"ready", "state", "key", "escape"} <= kinds, kinds
        ready = next(m for m in log if m["gradtrace"] == "ready")
        assert ready["steps"] > 8 and ready["protocol"] == 1
        # The API without the plugin: a host page asks for the state and steps by message.
        pg.evaluate("document.getElementById('gt').contentWindow.postMessage({gradtrace: 'next'}, '*')")
        expect(fgraph).to_have_attribute("data-step", "7")
        pg.screenshot(path=str(ARTIFACTS / "class-reveal-deck.png"))
        assert not pg.problems, pg.problems
    finally:
        ctx.close()
        host.close()


def test_a_short_link_keeps_the_step_and_view(browser, base_url):
    ctx, pg = fresh_page(browser)
    try:
        pg.goto(base_url + "/")
        expect(graph(pg)).to_have_attribute("data-loads", "1", timeout=30_000)
        pg.select_option("#gallery", "mlp-training-step")
        expect(graph(pg)).to_have_attribute("data-loads", "2", timeout=30_000)
        # the module overview opens with its blocks closed; the Modules button opens them all: part of the view
        expect(pg.locator("#graph .group.collapsed").first).to_be_visible()
        pg.get_by_role("button", name="Modules").click()
        expect(pg.locator("#graph .group.collapsed")).to_have_count(0)
        opened = pg.locator("#graph .group").count()
        lecturer_step(pg, 5)
        pg.get_by_role("button", name="Share", exact=True).click()
        pg.get_by_role("button", name="Short link", exact=True).click()
        expect(pg.locator("#short-link-url")).to_be_visible()
        short = pg.input_value("#short-link-url")
        assert re.match(re.escape(base_url) + r"/s/[^#]+#v1j?\.", short) and len(short) < 160, short
    finally:
        ctx.close()
    ctx, other = fresh_page(browser)
    try:
        other.goto(short)
        expect(graph(other)).to_have_attribute("data-loads", "1", timeout=30_000)
        wait_step(other, 5)
        assert other.locator("#graph .group.collapsed").count() == 0  # not the overview a fresh load starts at
        assert other.locator("#graph .group").count() == opened > 0
        assert not other.problems, other.problems
    finally:
        ctx.close()


def test_followers_take_the_lecturers_view_but_keep_their_theme(browser, base_url):
    lctx, lec = fresh_page(browser, (1280, 800))
    sctx, stu = fresh_page(browser, (390, 844))
    try:
        lec.goto(base_url + "/")
        expect(graph(lec)).to_have_attribute("data-loads", "1", timeout=30_000)
        lec.select_option("#gallery", "mlp-training-step")
        expect(graph(lec)).to_have_attribute("data-loads", "2", timeout=30_000)
        lec.get_by_role("button", name="Presenter mode").click()
        lec.locator("header").get_by_role("button", name="Start class session").click()  # presenter mode's own button
        expect(lec.locator("#class-code")).to_have_text(re.compile(r"^[A-Z0-9]{6}$"), timeout=10_000)
        code = lec.inner_text("#class-code")
        lec.get_by_role("button", name="Start teaching").click()
        stu.emulate_media(color_scheme="dark")
        stu.goto(f"{base_url}/c/{code}")
        stu.get_by_role("button", name="Toggle dark theme").click()
        expect(graph(stu)).to_have_attribute("data-loads", "1", timeout=30_000)
        theme = stu.get_attribute("html", "data-theme")
        # the lecturer opens every nn.Module box (a program starts at the module overview, its blocks closed)
        expect(lec.locator("#graph .group.collapsed").first).to_be_visible()
        lec.get_by_role("button", name="Modules").click()
        expect(lec.locator("#graph .group.collapsed")).to_have_count(0)
        opened = lec.locator("#graph .group").count()
        expect(stu.locator("#graph .group.collapsed")).to_have_count(0, timeout=10_000)
        expect(stu.locator("#graph .group")).to_have_count(opened, timeout=10_000)
        lecturer_step(lec, 3)
        wait_step(stu, 3)
        assert stu.get_attribute("html", "data-theme") == theme  # the theme stays the student's own
        # A reload of the lecturer's tab resumes the session (the token is in this tab's sessionStorage).
        lec.reload()
        expect(graph(lec)).to_have_attribute("data-loads", "1", timeout=30_000)
        expect(lec.locator("#class-host-code")).to_have_text(code, timeout=10_000)
        lecturer_step(lec, 1)
        wait_step(stu, int(graph(lec).get_attribute("data-step")))
        assert not lec.problems and not stu.problems, lec.problems + stu.problems
    finally:
        sctx.close()
        lctx.close()


def test_an_unknown_code_says_so(browser, base_url):
    ctx, pg = fresh_page(browser, (390, 844))
    try:
        pg.goto(base_url + "/c/ABCDEF")
        expect(pg.locator("#class-follow")).to_contain_text("No such class session")
        expect(graph(pg)).to_have_attribute("data-following", "false")
        expect(pg.get_by_role("button", name="Rejoin live")).to_be_hidden()
        assert [p for p in pg.problems if "404" not in p] == []
    finally:
        ctx.close()
