/* reveal.js plugin: slide fragments drive a gradtrace embed's steps (docs/embed-api.md).
 *
 *   <section>
 *     <iframe data-gradtrace src="https://your-gradtrace/embed#v1.…" width="900" height="560"></iframe>
 *     <span class="fragment" data-gradtrace-step="4"></span>   <!-- next click: the embed shows step 4 -->
 *     <span class="fragment" data-gradtrace-step="9"></span>
 *   </section>
 *   <script src="https://your-gradtrace/static/js/reveal-gradtrace.js"></script>
 *   <script>Reveal.initialize({ plugins: [ RevealGradtrace ] });</script>
 *
 * Showing a fragment sends its step to the embed on its slide; hiding it goes back to the step of the last
 * fragment still shown (or the frame's data-gradtrace-start, default 0). A frame with the focus passes the
 * clicker's keys (→ ← PageDown PageUp) back to the deck, and Escape gives the focus back to the deck.
 * A plain script (no module, no dependency): it defines window.RevealGradtrace.
 */
(function (root) {
  "use strict";
  const FRAME = "iframe[data-gradtrace]";

  function plugin() {
    let deck = null;

    function framesIn(el) { return el ? Array.prototype.slice.call(el.querySelectorAll(FRAME)) : []; }
    function slideOf(el) { return el && el.closest ? el.closest("section") : null; }
    function post(frame, msg) {
      msg.gradtrace = msg.gradtrace || "step";
      if (frame && frame.contentWindow) frame.contentWindow.postMessage(msg, "*");
    }

    /** The step a slide's frame should show: its last visible fragment's, else the frame's start. */
    function stepOf(slide, frame) {
      const shown = Array.prototype.filter.call(slide.querySelectorAll(".fragment[data-gradtrace-step]"), function (f) {
        return f.classList.contains("visible");
      });
      const last = shown.length ? shown[shown.length - 1] : null;
      const n = parseInt(last ? last.getAttribute("data-gradtrace-step") : frame.getAttribute("data-gradtrace-start") || "0", 10);
      return isFinite(n) && n >= 0 ? n : 0;
    }

    function sync(slide) {
      framesIn(slide).forEach(function (frame) { post(frame, { gradtrace: "step", step: stepOf(slide, frame) }); });
    }

    function onFragment(ev) {
      const frags = ev.fragments && ev.fragments.length ? ev.fragments : [ev.fragment];
      const slides = [];
      frags.forEach(function (f) {
        const s = slideOf(f);
        if (s && f && f.hasAttribute && f.hasAttribute("data-gradtrace-step") && slides.indexOf(s) < 0) slides.push(s);
      });
      slides.forEach(sync);
    }

    function onMessage(ev) {
      const m = ev.data;
      if (!m || typeof m !== "object" || typeof m.gradtrace !== "string") return;
      const frame = framesIn(deck.getRevealElement()).filter(function (f) { return f.contentWindow === ev.source; })[0];
      if (!frame) return;
      if (m.gradtrace === "ready") { const s = slideOf(frame); if (s) sync(s); }
      else if (m.gradtrace === "key") {
        if (m.key === "ArrowRight" || m.key === "PageDown") deck.next();
        else if (m.key === "ArrowLeft" || m.key === "PageUp") deck.prev();
      } else if (m.gradtrace === "escape") {
        frame.blur();
        const el = deck.getRevealElement();
        if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
        el.focus({ preventScroll: true });
      }
    }

    return {
      id: "gradtrace",
      init: function (d) {
        deck = d;
        deck.on("fragmentshown", onFragment);
        deck.on("fragmenthidden", onFragment);
        deck.on("slidechanged", function (ev) { if (ev.currentSlide) sync(ev.currentSlide); });
        deck.on("ready", function (ev) { if (ev.currentSlide) sync(ev.currentSlide); });
        root.addEventListener("message", onMessage);
      },
      destroy: function () { root.removeEventListener("message", onMessage); },
    };
  }

  root.RevealGradtrace = plugin;
})(typeof window !== "undefined" ? window : globalThis);
