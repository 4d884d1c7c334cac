// One human line for autograd's internal node names (AddmmBackward0 → "nn.Linear: x @ Wᵀ + b"), for details and hover.

const HELP = {
  AccumulateGrad: "stores the gradient that reaches a leaf in its .grad (adding to what is already there)",
  CopySlices: "an in-place write into a view (x[0] *= 2): routes the gradient of the written slice through the in-place op and the rest straight through",
  AddBackward0: "a + b: the gradient passes through unchanged to both inputs",
  AddBackward1: "a + scalar: the gradient passes through unchanged",
  SubBackward0: "a − b: the gradient goes to a as is and to b negated",
  RsubBackward0: "b − a written as rsub: a gets the negated gradient",
  RsubBackward1: "scalar − a (e.g. 1 − x): a gets the negated gradient",
  MulBackward0: "a * b: each input gets the gradient times the other input",
  MulBackward1: "a * scalar: the gradient times that scalar",
  DivBackward0: "a / b: a gets g / b, b gets −g·a / b²",
  DivBackward1: "a / scalar: the gradient divided by that scalar",
  NegBackward0: "−a: the negated gradient",
  PowBackward0: "a ** n (n a number): n·a^(n−1) times the gradient",
  PowBackward1: "a ** b (both tensors): both base and exponent get a gradient",
  ExpBackward0: "exp(a): the gradient times exp(a), the saved result",
  LogBackward0: "ln(a): the gradient divided by a",
  SinBackward0: "sin(a): the gradient times cos(a)",
  CosBackward0: "cos(a): the gradient times −sin(a)",
  TanhBackward0: "tanh(a): the gradient times 1 − tanh²(a)",
  SigmoidBackward0: "sigmoid(a): the gradient times σ(a)(1 − σ(a))",
  ReluBackward0: "relu(a): the gradient where a > 0, zero elsewhere",
  SqrtBackward0: "sqrt(a): the gradient divided by 2·sqrt(a)",
  AbsBackward0: "|a|: the gradient times sign(a)",
  SumBackward0: "sum of all elements: every element gets the same gradient",
  SumBackward1: "sum over a dim: the gradient is copied back along that dim",
  MeanBackward0: "mean of all elements: every element gets the gradient / N",
  MeanBackward1: "mean over a dim: the gradient / size, copied back along that dim",
  MaxBackward0: "max over a dim: only the arg-max elements get the gradient",
  MaxBackward1: "max of all elements: only the maximum gets the gradient",
  MmBackward0: "matrix product a @ b: a gets g @ bᵀ, b gets aᵀ @ g",
  MvBackward0: "matrix × vector: the matrix gets g ⊗ v, the vector Mᵀ @ g",
  DotBackward0: "dot product: each vector gets the gradient times the other",
  BmmBackward0: "batched matrix product: per batch, a gets g @ bᵀ and b gets aᵀ @ g",
  AddmmBackward0: "nn.Linear: x @ Wᵀ + b in one op (bias + mat1 @ mat2)",
  TBackward0: "transpose (.T, or Wᵀ inside nn.Linear): the gradient is transposed back",
  PermuteBackward0: "permute / .T of a tensor: the gradient is permuted back",
  TransposeBackward0: "transpose(i, j): the gradient's dims are swapped back",
  ViewBackward0: "view: same numbers in a new shape; the gradient is reshaped back",
  ReshapeAliasBackward0: "reshape: the gradient is reshaped back",
  UnsafeViewBackward0: "reshape (a copy): the gradient is reshaped back",
  SqueezeBackward0: "squeeze: the removed size-1 dims are put back on the gradient",
  SqueezeBackward1: "squeeze(dim): the removed size-1 dim is put back on the gradient",
  SqueezeBackward4: "squeeze(dim): the removed size-1 dim is put back on the gradient",
  UnsqueezeBackward0: "unsqueeze: the added dim is removed from the gradient",
  ExpandBackward0: "expand / broadcast: the copies' gradients are summed back",
  SelectBackward0: "indexing one position (x[i]): the gradient lands there, zeros elsewhere",
  SliceBackward0: "slicing (x[i:j]): the gradient lands in the slice, zeros elsewhere",
  IndexBackward0: "advanced indexing (x[idx]): the gradient is scattered back; repeated indices add",
  AsStridedBackward0: "a strided view (made by an in-place write into a view): the gradient goes back into the base's layout",
  CatBackward0: "torch.cat: each input gets its own block of the gradient",
  StackBackward0: "torch.stack: each input gets its own slice of the gradient",
  SplitBackward0: "split / chunk: the pieces' gradients are joined back (zeros for unused pieces)",
  SplitWithSizesBackward0: "split with sizes: the pieces' gradients are joined back",
  UnbindBackward0: "unbind: the pieces' gradients are stacked back",
  CloneBackward0: "clone: the gradient passes through unchanged",
  ToCopyBackward0: ".to(dtype/device): the gradient is cast back",
  MseLossBackward0: "MSE loss mean((ŷ − y)²): ŷ gets 2(ŷ − y)/N times the gradient",
  L1LossBackward0: "L1 loss mean|ŷ − y|: ŷ gets sign(ŷ − y)/N",
  BinaryCrossEntropyBackward0: "binary cross-entropy on probabilities p: p gets (p − t)/(p(1 − p))/N",
  BinaryCrossEntropyWithLogitsBackward0: "BCE with logits z: z gets (σ(z) − t)/N — the sigmoid folded in",
  SoftmaxBackward0: "softmax: the gradient times the softmax Jacobian, y ⊙ (g − Σ g⊙y)",
  LogSoftmaxBackward0: "log_softmax: g − softmax · Σg (cross_entropy's first half)",
  NllLossBackward0: "negative log-likelihood (cross_entropy's second half): −1/N at each target class",
  EmbeddingBackward0: "embedding lookup: each used row gets the gradient of its lookups, summed",
  GeluBackward0: "gelu: the gradient times gelu'(a)",
  LeakyReluBackward0: "leaky relu: the gradient where a > 0, slope × gradient elsewhere",
  WhereBackward0: "torch.where: each branch gets the gradient where it was chosen",
  ClampBackward1: "clamp: the gradient inside the range, zero where clamped",
  NormBackward1: "a norm: the gradient times a / ‖a‖",
  LinalgVectorNormBackward0: "vector norm: the gradient times a / ‖a‖",
};

/** A one-line description of an autograd node, custom Functions included; "" when unknown. */
export function nodeHelp(name, kind) {
  const short = String(name || "").replace(/^torch::autograd::/, "");
  if (HELP[short]) return HELP[short];
  if (kind === "custom" || (/Backward$/.test(short) && !/Backward\d$/.test(short))) {
    return `the backward() of your custom autograd.Function ${customClass(short)}: autograd runs your code`;
  }
  const base = short.replace(/Backward\d*$/, "");
  return base && base !== short ? `the backward of ${base}` : "";
}

/** "Mm2Backward" → "Mm2" (custom Function classes get "<Class>Backward"). */
export function customClass(name) {
  return String(name || "").replace(/^torch::autograd::/, "").replace(/Backward$/, "");
}

/**
 * Where the user's backward for custom Function `cls` is: { line, text } of its `return` (or its def),
 * found in the program text; null when the class is not written there.
 */
export function customBackwardSource(source, cls) {
  const lines = String(source || "").split("\n");
  const start = lines.findIndex((l) => new RegExp(`^\\s*class\\s+${escape(cls)}\\b`).test(l));
  let def = -1;
  if (start >= 0) {
    const indent = lines[start].search(/\S/);
    for (let i = start + 1; i < lines.length; i++) {
      const l = lines[i];
      if (l.trim() && l.search(/\S/) <= indent) break;
      if (/^\s*def\s+backward\s*\(/.test(l)) { def = i; break; }
    }
  } else {
    def = lines.findIndex((l) => /^\s*def\s+(backward|bwd)\w*\s*\(/.test(l)); // e.g. type('Name', …, {'backward': bwd})
  }
  if (def < 0) return null;
  const indent = lines[def].search(/\S/);
  for (let i = def + 1; i < lines.length; i++) {
    const l = lines[i];
    if (l.trim() && l.search(/\S/) <= indent) break;
    if (/^\s*return\b/.test(l)) return { line: i + 1, text: l.trim(), def: def + 1 };
  }
  return { line: def + 1, text: lines[def].trim(), def: def + 1 };
}

function escape(s) {
  return String(s).replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
