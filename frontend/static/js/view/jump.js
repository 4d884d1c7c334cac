// "Jump to backward": one control (button and the B key) that skips the forward steps to where the next
// backward pass starts (after the last one, back to the first).
const TYPING = ".cm-editor, input[type=number], input[type=text], select, textarea, dialog";

/** Step where the next backward pass after step k starts (wrapping to the first), or null without passes. */
export function nextBackwardStart(tl, k) {
  const starts = (tl?.passRange || []).map((r) => r.start).filter((s) => s !== null);
  if (!starts.length) return null;
  return starts.find((s) => s > k) ?? starts[0];
}

export function bindJump(doc, player, timeline) {
  const button = doc.getElementById("jump-backward");
  const go = () => {
    const k = nextBackwardStart(timeline(), player.step);
    if (k === null) return;
    player.pause();
    player.seek(k, "jump");
  };
  button?.addEventListener("click", go);
  doc.addEventListener("keydown", (ev) => {
    if (ev.key !== "b" || ev.ctrlKey || ev.metaKey || ev.altKey || ev.target.closest?.(TYPING)) return;
    ev.preventDefault();
    go();
  });
  /** Enable the control when the trace has a backward pass. */
  return () => { if (button) button.disabled = nextBackwardStart(timeline(), 0) === null; };
}
