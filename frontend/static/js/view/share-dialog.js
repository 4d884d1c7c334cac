// The Share dialog: copy the exact link, make a short link, copy an <iframe> embed code, download the view.
// Every action reports in the dialog's status line; copying falls back to a selected field (then Ctrl+C).
import { embedCode } from "../wire/url-state.js";

/**
 * Hooks: `link()` / `embedSrc()` → absolute URLs ("" = nothing to share yet); `shorten()` → the short
 * link's absolute URL; `download(kind)` with kind "svg" | "png" | "html" saves a file.
 */
export function bindShareDialog(doc, { link, embedSrc, shorten, download }) {
  const $ = (id) => doc.getElementById(id);
  const dlg = $("share-dialog");
  const btn = (label) => dlg.querySelector(`button[aria-label="${label}"]`);
  let src = "";

  const say = (text, kind = "") => { $("share-status").textContent = text; $("share-status").className = `share-status ${kind}`; };
  const busy = async (button, text, work) => {
    button.disabled = true;
    say(text, "busy");
    try { await work(); } catch (err) { say(err.message || String(err), "error"); } finally { button.disabled = false; }
  };

  async function copy(text, field) {
    try { await doc.defaultView.navigator.clipboard.writeText(text); return true; } catch { /* not allowed here */ }
    field.focus();
    field.select();
    try { return doc.execCommand("copy"); } catch { return false; }
  }

  function showEmbed() {
    const w = Number($("embed-width").value), h = Number($("embed-height").value);
    $("embed-code").value = src ? embedCode(src, { width: w, height: h }) : "";
  }

  $("share").addEventListener("click", async () => {
    const url = await link();
    if (!dlg.open) dlg.showModal();
    if (!url) { say("Run a program first: a link reproduces what is on screen.", "error"); return; }
    $("share-link").value = url;
    src = await embedSrc();
    showEmbed();
    say(await copy(url, $("share-link")) ? "Link copied: it opens this program at this step, on any gradtrace server."
      : "Copy the selected link with Ctrl+C (the browser did not allow copying).");
  });

  btn("Copy link").addEventListener("click", async () => {
    say(await copy($("share-link").value, $("share-link")) ? "Link copied." : "Press Ctrl+C to copy the selected link.");
  });

  btn("Short link").addEventListener("click", (ev) => busy(ev.currentTarget, "Storing the program…", async () => {
    const url = await shorten();
    $("short-link-url").value = url;
    $("short-link-url").hidden = false;
    say(await copy(url, $("short-link-url")) ? "Short link copied (it keeps the program and seed; the long link also keeps the step)."
      : "Press Ctrl+C to copy the selected short link.");
  }));

  $("embed-width").addEventListener("input", showEmbed);
  $("embed-height").addEventListener("input", showEmbed);
  btn("Copy embed code").addEventListener("click", async () => {
    say(await copy($("embed-code").value, $("embed-code")) ? "Embed code copied: paste it into a course page, an LMS or slides."
      : "Press Ctrl+C to copy the selected embed code.");
  });

  for (const [label, kind, text] of [["Download SVG", "svg", "Drawing the SVG…"], ["Download PNG", "png", "Drawing the PNG…"],
    ["Download standalone HTML", "html", "Building the standalone file on the server…"]]) {
    btn(label).addEventListener("click", (ev) => busy(ev.currentTarget, text, async () => {
      await download(kind);
      say(`Saved the ${kind === "html" ? "standalone HTML file (plays offline, from file://)" : kind.toUpperCase()}.`);
    }));
  }
}
