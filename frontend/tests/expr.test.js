// model/expr.js on its own: the sub-expressions of a line in the order Python evaluates them, which recorded op
// each can be, and the names it gives unnamed intermediates of a trace.
import { test } from "node:test";
import assert from "node:assert/strict";
import { subexpressions, matches, sourceNames } from "../static/js/model/expr.js";

const texts = (line) => subexpressions(line).map((n) => n.text);

test("sub-expressions come innermost first, as Python evaluates them", () => {
  assert.deepEqual(texts("c = a * b + b"), ["a * b", "a * b + b"]);
  assert.deepEqual(texts("y = np.exp(-x)"), ["-x", "np.exp(-x)"]);
  assert.deepEqual(texts("loss = ((pred - y) ** 2).mean()  # mse"), ["pred - y", "(pred - y) ** 2", "((pred - y) ** 2).mean()"]);
  assert.deepEqual(texts("z = w[0] @ x.T"), ["w[0]", "x.T", "w[0] @ x.T"]);
  assert.deepEqual(texts("out = self.fc1(x).relu()"), ["self.fc1(x)", "self.fc1(x).relu()"]);
});

test("operator precedence and associativity follow Python", () => {
  assert.deepEqual(texts("r = a + b * c"), ["b * c", "a + b * c"]);
  assert.deepEqual(texts("r = a - b - c"), ["a - b", "a - b - c"]);
  assert.deepEqual(texts("r = a ** b ** c"), ["b ** c", "a ** b ** c"]);
  assert.deepEqual(texts("r = -x ** 2"), ["x ** 2", "-x ** 2"]);
});

test("slices, keywords, strings, comments and augmented assignment", () => {
  assert.deepEqual(texts("q = f(x, y=2)[1:]"), ["f(x, y=2)", "f(x, y=2)[1:]"]);
  // A subscript's contents are the index, not sub-expressions of the line (model/expr.js's subscript(), since e11a98b):
  // `i + 1` on plain ints records no op, so only the indexing is a candidate.
  assert.deepEqual(texts("h = x[:, i + 1]"), ["x[:, i + 1]"]);
  assert.deepEqual(texts('s = "a*b # not a comment" + t'), ['"a*b # not a comment" + t']);
  assert.deepEqual(texts("w -= lr * w.grad"), ["w.grad", "lr * w.grad"]);
  assert.deepEqual(texts("return x * 2"), ["x * 2"]);
});

test("statements that hold no expression of their own give none", () => {
  for (const line of ["for i in range(3):", "def f(x):", "import torch", "class M(nn.Module):", "", null]) {
    assert.deepEqual(subexpressions(line), [], String(line));
  }
});

test("each sub-expression matches the ops that can compute it", () => {
  const [mul, add] = subexpressions("c = a * b + b");
  assert.ok(matches("mul", mul) && !matches("add", mul));
  assert.ok(matches("add", add) && matches("add_", add));
  const [neg, exp] = subexpressions("y = torch.exp(-x)");
  assert.ok(matches("neg", neg) && matches("exp", exp) && !matches("log", exp));
  const [, , mm] = subexpressions("z = w[0] @ x.T");
  assert.ok(["matmul", "mm", "mv", "dot"].every((op) => matches(op, mm)));
  const [lin] = subexpressions("h = nn.Linear(3, 2)(x)");
  assert.ok(matches("linear", lin));
});

test("sourceNames names unnamed outputs by their text, and a line run again starts afresh", () => {
  const trace = {
    forward: [
      { op: "mul", line: 2, inputs: ["t1", "t2"], outputs: ["t3"] },
      { op: "add", line: 2, inputs: ["t3", "t2"], outputs: ["t4"] },
      { op: "mul", line: 2, inputs: ["t1", "t2"], outputs: ["t5"] },  // the same line again (a loop)
      { op: "add_", line: 3, inputs: ["t4", "t1"], outputs: ["t4"] },  // in place: no new name
    ],
  };
  const names = sourceNames(trace, "import torch\nc = a * b + b\nc += a\n");
  assert.deepEqual([...names], [["t3", "a * b"], ["t4", "a * b + b"], ["t5", "a * b"]]);
});
