// Predict, then reveal: one multiple-choice question per backward step, built from its chain-rule card. Pure.
import { fmtValues } from "../model/format.js";
import { flat, makeValues } from "../model/values.js";

const NUM = (v) => fmtValues(v, { maxItems: 16 });
const scale = (v, k) => { const f = flat(v); return f ? makeValues(v.shape, f.map((x) => x * k)) : null; };
const shift = (v, d) => { const f = flat(v); return f ? makeValues(v.shape, f.map((x) => x + d)) : null; };

/**
 * The question for a card, or null (nothing to predict). { key, prompt, choices: [{text, correct}], answer, why }.
 * Distractors are the usual slips: forgetting the local derivative, the sign, a factor of 2, or accumulation.
 */
export function question(card) {
  if (!card) return null;
  const key = `${card.pass}:${card.index}`;
  if (card.accumulate) {
    const a = card.accumulate;
    if (!a.after || !a.stored) return null;
    const answer = NUM(a.after);
    const cands = [a.before ? card.incoming.values : null, a.before, scale(a.after, 2), scale(a.after, -1), shift(a.after, 1)];
    const why = a.before ? `.grad accumulates: the old ${NUM(a.before)} plus the arriving ${NUM(card.incoming.values)}.` : `.grad was empty, so it takes the arriving gradient as is.`;
    return build(key, `What is ${a.name}.grad after ${card.name} runs?`, answer, cands, why);
  }
  const row = card.rows.find((r) => r.sent && flat(r.sent));
  if (!row) return null;
  const answer = NUM(row.sent);
  const g = card.incoming.values;
  const cands = [g && sameShape(g, row.sent) ? g : null, scale(row.sent, -1), scale(row.sent, 2), scale(row.sent, 0.5), shift(row.sent, 1)];
  const why = card.custom
    ? `your backward() computes it: line ${card.custom.line}: ${card.custom.text}`
    : explain(row, answer);
  return build(key, `${card.name} receives ${card.incoming.label} = ${NUM(g)}. What does it send as ${row.target}?`, answer, cands, why);
}

// The checked formula (printed from its tree, brackets and all); only the engine's numbers where none was checked.
function explain(row, answer) {
  if (row.status !== "checked") return `${row.target} = ${answer} (the numbers autograd sent)`;
  return `${row.local ? `${row.local}, so ` : ""}${row.target} = ${row.send} = ${answer}${row.defs?.length ? `, where ${row.defs.join(", ")}` : ""}`;
}

function sameShape(a, b) {
  return JSON.stringify(a.shape) === JSON.stringify(b.shape);
}

function build(key, prompt, answer, cands, why) {
  const texts = [];
  for (const c of cands) {
    const t = c ? NUM(c) : null;
    if (t && t !== answer && !texts.includes(t)) texts.push(t);
  }
  const wrong = texts.slice(0, 3);
  const choices = wrong.map((text) => ({ text, correct: false }));
  const at = hash(key) % (choices.length + 1); // where the answer sits: fixed per step, not always first
  choices.splice(at, 0, { text: answer, correct: true });
  return { key, prompt, choices, answer, why };
}

function hash(s) {
  let h = 7;
  for (const c of s) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
}

/**
 * What the graph may show while a question waits: `state` with the step's answer withheld — the gradients this node
 * sent and a .grad it wrote read as they were at `before` (the previous step), and the travelling values unlabelled.
 * Getters are copied, not run. Pure.
 */
export function withholdAnswer(state, before) {
  const out = Object.defineProperties({}, Object.getOwnPropertyDescriptors(state));
  const flow = state.flow;
  out.grad = before.grad;
  out.data = before.data;
  if (flow) {
    const tensorFlow = new Map(flow.tensorFlow), edgeGrad = new Map(flow.edgeGrad);
    for (const s of flow.sent) {
      const via = s.route?.via;
      if (via) {
        const b = before.flow?.tensorFlow.get(via);
        if (b) tensorFlow.set(via, b); else tensorFlow.delete(via);
      }
      for (const ek of s.route?.edges || []) {
        const b = before.flow?.edgeGrad.get(ek);
        if (b) edgeGrad.set(ek, b); else edgeGrad.delete(ek);
      }
    }
    const sent = flow.sent.map((s) => ({ ...s, values: null }));
    out.flow = { ...flow, tensorFlow, edgeGrad, sent };
    Object.defineProperty(out, "edges", { get: () => new Map(edgeGrad), enumerable: true });
  }
  Object.defineProperty(out, "tensors", { enumerable: true, get: () => new Map([...state.tensors].map(([tid, t]) => {
    const tf = out.flow?.tensorFlow.get(tid);
    return [tid, { ...t, data: before.data(tid), grad: before.grad(tid), flow: tf?.sum ?? null, fan: tf?.parts.length ?? 0 }];
  })) });
  return out;
}

/** Score bookkeeping: answers by question key (first answer counts). */
export function createScore() {
  const answers = new Map();
  return {
    answer(key, correct) { if (!answers.has(key)) answers.set(key, correct); return answers.get(key); },
    answered: (key) => answers.has(key),
    result: (key) => answers.get(key),
    get right() { return [...answers.values()].filter(Boolean).length; },
    get total() { return answers.size; },
    reset() { answers.clear(); },
  };
}
