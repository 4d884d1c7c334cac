// The run status while the page waits out a busy server (429/503): a countdown and a Cancel button.
// Kept apart from run-status.js, which the standalone bundle includes (the offline file never waits on a server).

/** "Busy — retrying in 2 s [Cancel]" in #run-status; the button stays put while the seconds change. */
export function showWaiting(doc, seconds, onCancel) {
  const el = doc.getElementById("run-status");
  let text = el.querySelector(".wait-text");
  if (!text) {
    text = doc.createElement("span");
    text.className = "wait-text";
    el.replaceChildren(text);
    if (onCancel) {
      const cancel = doc.createElement("button");
      cancel.type = "button";
      cancel.className = "btn retry-cancel";
      cancel.textContent = "Cancel";
      cancel.addEventListener("click", onCancel, { once: true });
      el.append(" ", cancel);
    }
  }
  el.className = "run-status busy waiting";
  text.textContent = `Busy — retrying in ${seconds} s`;
}
