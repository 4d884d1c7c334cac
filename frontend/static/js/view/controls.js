// Timeline controls: the buttons (found by their aria-labels), scrubber, speed and keyboard.

const TYPING = ".cm-editor, input[type=number], input[type=text], select, textarea, dialog";

// The keys a slide deck's clicker sends: an embed passes them on to the deck unless told to keep them.
const CLICKER = new Set(["ArrowRight", "ArrowLeft", "PageDown", "PageUp"]);

/**
 * `passKey(key)` → true when the key belongs to someone else (an embed in slides); Escape is offered too.
 * `byBlock(dir)`: Shift+→ / Shift+← (and the "Step over block" button) step a closed block's steps at once.
 */
export function bindControls(doc, player, { onFit = () => {}, passKey = () => false, byBlock = null } = {}) {
  const btn = (label) => doc.querySelector(`.controls button[aria-label="${label}"]`);
  const scrub = doc.getElementById("scrubber");
  const count = doc.getElementById("step-count");
  const speed = doc.getElementById("speed");
  btn("Play").addEventListener("click", () => player.play());
  btn("Pause").addEventListener("click", () => player.pause());
  btn("Step forward").addEventListener("click", () => { player.pause(); player.forward(); });
  btn("Step back").addEventListener("click", () => player.back());
  btn("Reset").addEventListener("click", () => player.reset());
  scrub.addEventListener("input", () => { player.pause(); player.seek(Number(scrub.value), "scrub"); });
  speed.addEventListener("change", () => player.setSpeed(Number(speed.value)));
  doc.getElementById("step-block")?.addEventListener("click", () => byBlock?.(1));

  doc.addEventListener("keydown", (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || ev.target.closest?.(TYPING)) return;
    if ((CLICKER.has(ev.key) || ev.key === "Escape") && passKey(ev.key)) { ev.preventDefault(); return; }
    if (ev.shiftKey && byBlock && (ev.key === "ArrowRight" || ev.key === "ArrowLeft")) {
      ev.preventDefault();
      byBlock(ev.key === "ArrowRight" ? 1 : -1);
      return;
    }
    const act = {
      ArrowRight: () => { player.pause(); player.forward(); },
      PageDown: () => { player.pause(); player.forward(); },
      ArrowLeft: () => player.back(),
      PageUp: () => player.back(),
      " ": () => player.toggle(),
      Home: () => player.reset(),
      End: () => player.end(),
      f: onFit,
    }[ev.key];
    if (!act) return;
    ev.preventDefault(); // no page scroll, no double action from a focused button or slider
    act();
  });

  return function sync() {
    scrub.max = String(player.total);
    scrub.value = String(player.step);
    count.textContent = `${player.step} / ${player.total}`;
    btn("Play").setAttribute("aria-pressed", String(player.playing));
    btn("Pause").setAttribute("aria-pressed", String(!player.playing && player.step > 0 && player.step < player.total));
    btn("Step back").disabled = false;
  };
}

/** Marks under the scrubber where each backward pass runs. */
export function drawPassMarks(el, tl) {
  el.replaceChildren();
  if (!tl.total) return;
  for (const r of tl.passRange) {
    if (r.start === null) continue;
    const s = el.ownerDocument.createElement("span");
    s.style.left = `${((r.start - 1) / tl.total) * 100}%`;
    s.style.width = `${Math.max(0.6, ((r.end - r.start + 1) / tl.total) * 100)}%`;
    el.appendChild(s);
  }
}
