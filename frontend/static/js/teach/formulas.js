// Local derivative rules for common autograd nodes, so narration can say *why* a gradient is what it is.
// Each rule maps (x, y, g, extra) to one text per next_functions slot; x, y name the op's inputs.

const RULES = {
  MulBackward0: (x, y, g) => [`${y} * ${g}`, `${x} * ${g}`],
  MulBackward1: (x, y, g) => [`${y} * ${g}`],
  AddBackward1: (x, y, g) => [g],
  SubBackward1: (x, y, g) => [g],
  DivBackward1: (x, y, g) => [`${g} / ${y}`],
  AddBackward0: (x, y, g) => [g, g],
  SubBackward0: (x, y, g) => [g, `-${g}`],
  DivBackward0: (x, y, g) => [`${g} / ${y}`, `-${g} * ${x} / ${y}²`],
  PowBackward0: (x, y, g, ex) => [`${ex.exponent ?? "n"} * ${x}${powerText(ex.exponent)} * ${g}`],
  PowBackward1: (x, y, g) => [`${y} * ${x}^(${y}-1) * ${g}`, `${x}^${y} * ln(${x}) * ${g}`],
  SumBackward0: (x, y, g) => [`${g} copied to every element of ${x}`],
  SumBackward1: (x, y, g) => [`${g} copied along the summed dimension`],
  MeanBackward0: (x, y, g, ex) => [`${g} / ${ex.numel ?? "N"}`],
  ExpBackward0: (x, y, g) => [`exp(${x}) * ${g}`],
  LogBackward0: (x, y, g) => [`${g} / ${x}`],
  SinBackward0: (x, y, g) => [`cos(${x}) * ${g}`],
  CosBackward0: (x, y, g) => [`-sin(${x}) * ${g}`],
  TanhBackward0: (x, y, g) => [`(1 - tanh(${x})²) * ${g}`],
  SigmoidBackward0: (x, y, g) => [`σ(${x}) * (1 - σ(${x})) * ${g}`],
  ReluBackward0: (x, y, g) => [`${g} where ${x} > 0, else 0`],
  NegBackward0: (x, y, g) => [`-${g}`],
  SqrtBackward0: (x, y, g) => [`${g} / (2 * sqrt(${x}))`],
  MmBackward0: (x, y, g) => [`${g} @ ${y}ᵀ`, `${x}ᵀ @ ${g}`],
  DotBackward0: (x, y, g) => [`${y} * ${g}`, `${x} * ${g}`],
  MaximumBackward0: (x, y, g) => [`${g} where ${x} ≥ ${y}`, `${g} where ${y} > ${x}`],
};

function powerText(n) {
  if (n === undefined) return "^(n-1)";
  const e = n - 1;
  if (e === 1) return "";
  return `^${Number.isInteger(e) ? e : Number(e.toPrecision(3))}`;
}

/** Text formulas for each slot of a node, or null where no rule is known. */
export function localRule(nodeName, x, y, g, extra = {}) {
  const rule = RULES[nodeName];
  return rule ? rule(x ?? "x", y ?? "other", g, extra) : null;
}
