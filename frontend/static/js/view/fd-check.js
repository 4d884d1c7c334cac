// "Check numerically" on a leaf in the details panel: the server's (f(x+h) − f(x−h)) / 2h next to autograd's gradient.
import { fmtNum } from "../model/format.js";
import { flat } from "../model/values.js";

/** `check(name)` → Promise of Trace.finite_difference; results are kept per tensor for the loaded trace. */
export function createFdCheck(check) {
  let results = new Map();
  return {
    reset() { results = new Map(); },
    /** Add the action (and any result) under the panel of drawable node `key`. */
    decorate(body, key, graph) {
      if (!check) return;
      const d = graph?.nodes.get(key);
      const t = d?.type === "tensor" ? d.tensor : null;
      if (!t || !t.is_leaf || !t.requires_grad || !t.name) return;
      const doc = body.ownerDocument;
      const box = doc.createElement("section");
      box.className = "fd-check";
      const h = doc.createElement("h4");
      h.textContent = "Check it numerically";
      const b = doc.createElement("button");
      b.type = "button";
      b.className = "btn";
      b.id = "fd-check";
      b.textContent = `Finite differences on ${t.name}`;
      b.title = "The server re-runs the program with each element of this leaf nudged by ±h";
      const out = doc.createElement("div");
      out.className = "fd-result";
      out.setAttribute("aria-live", "polite");
      box.append(h, b, out);
      body.appendChild(box);
      const show = (r) => draw(out, r, t.name);
      if (results.has(t.id)) show(results.get(t.id));
      b.addEventListener("click", async () => {
        b.disabled = true;
        out.textContent = "Re-running the program with nudged values…";
        try {
          const r = await check(t.name);
          results.set(t.id, r);
          show(r);
          box.scrollIntoView?.({ block: "nearest" });
        } catch (err) {
          out.textContent = err.message;
        } finally {
          b.disabled = false;
        }
      });
    },
  };
}

function draw(out, r, name) {
  const doc = out.ownerDocument;
  if (!r || r.error) { out.textContent = `No check: ${r?.error ?? "no answer"}`; return; }
  const fd = flat(r.values) ?? [], g = flat(r.grad) ?? [];
  const table = doc.createElement("table");
  table.className = "fd-table";
  const head = table.createTHead().insertRow();
  for (const c of ["element", `(f(x+h) − f(x−h)) / 2h`, "autograd", "difference"]) {
    const th = doc.createElement("th"); th.scope = "col"; th.textContent = c; head.appendChild(th);
  }
  const body = table.createTBody();
  let worst = 0;
  fd.forEach((x, i) => {
    const row = body.insertRow();
    const diff = g[i] === undefined ? NaN : Math.abs(x - g[i]);
    worst = Math.max(worst, diff / Math.max(1, Math.abs(g[i] ?? 0)));
    for (const c of [`${name}[${i}]`, fmtNum(x, 6), g[i] === undefined ? "?" : fmtNum(g[i], 6), fmtNum(diff, 2)]) row.insertCell().textContent = c;
  });
  const verdict = doc.createElement("p");
  verdict.className = `fd-verdict ${worst <= 2e-2 ? "ok" : "bad"}`;
  verdict.dataset.worst = String(worst);
  verdict.textContent = worst <= 2e-2
    ? `✓ They agree (largest relative difference ${fmtNum(worst, 2)}, h = ${r.h}): the chain rule gave the true slope.`
    : `✗ They differ (largest relative difference ${fmtNum(worst, 2)}): a backward is wrong, or f is not smooth here.`;
  out.replaceChildren(table, verdict);
}
