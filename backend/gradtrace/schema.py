"""Pydantic models of Trace API v1 (../shared/spec/trace-api-v1.md); fields past the spec are marked 'extension'."""
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Number = float | Literal["nan", "inf", "-inf"]
NestedValues = Number | list[Any]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Values(_Model):
    shape: list[int]
    values: NestedValues | None = Field(
        description='Full contents (nested lists) when the tensor is small, else null. NaN/±inf as "nan"/"inf"/"-inf".')
    min: Number | None
    max: Number | None
    mean: Number | None
    sum: Number | None
    imag: "Values | None" = Field(None, description="Extension: a complex tensor's imaginary part (then `values` and "
                                  "the statistics are its real part; the value is values + i·imag, elementwise).")
    vmap: int | None = Field(None, description="Extension: inside torch.func.vmap, the values of all this many samples "
                             "stacked on a first dimension (`shape` is then [vmap, *the tensor's per-sample shape]).")


# Extension (compact format): where a full trace holds a Values, a compact one holds an index into `value_table`.
ValuesOrRef = Values | int
class Cause(_Model):
    """Extension (issue 8): why a backward call failed, as ids the page can mark on the graph."""
    kind: str = Field(description='"inplace" (a saved tensor was changed in place), "freed" (saved tensors freed by an '
                                  'earlier backward without retain_graph), "no_grad_fn" (the root is not part of any graph); on an error of the '
                                  'program itself: "shape" (a shape mismatch on the failing line), "leaf_inplace" (a leaf that '
                                  'requires grad changed in place)')
    node: str | None = Field(description="The node that raised (inplace, freed).")
    saved: str | None = Field(description="Name of the saved tensor to blame (e.g. `result`), as in Node.saved[].name.")
    saved_version: int | None = Field(description="That tensor's `_version` when the node saved it.")
    current_version: int | None = Field(description="Its `_version` when backward needed it.")
    tensor: str | None = Field(description="Tensor id: the saved tensor (inplace, freed) or the root (no_grad_fn).")
    step: int | None = Field(description="Forward index of the step to blame: the in-place write, or the detach/no_grad cut.")
    line: int | None = Field(description="Line to blame: that step's, or (freed) the earlier backward call's.")
    output: int | None = Field(None, description="inplace: which output of the saving node the tensor is.")
    freed_by: int | None = Field(None, description="freed: index of the backward pass that freed the saved tensors.")
    why: str | None = Field(None, description='no_grad_fn: "detach", "no_grad" or "no_input" (nothing required grad).')
    tensors: list[str | None] | None = Field(None, description="shape: the tensors the failing line combined, in the line's order (null: a tensor no recorded step used).")
    shapes: list[list[int]] | None = Field(None, description="shape: their shapes, in the same order.")
    names: list[str] | None = Field(None, description="shape, leaf_inplace: how the line spells the tensors (`W`, `model.fc.weight`).")
    op: str | None = Field(None, description='shape: "matmul" (inner sizes must agree) or "broadcast" (sizes equal or 1).')


class Error(_Model):
    kind: Literal["syntax", "runtime", "refused", "timeout", "memory", "limit"]
    type: str = Field(description='Python exception class name, e.g. "RuntimeError".')
    message: str
    line: int | None = Field(description="1-based line in `code`.")
    cause: Cause | None = Field(None, description="Extension: what to mark on the graph for a backward error.")


class Tensor(_Model):
    id: str
    name: str | None = Field(description='Variable name the program gave it (e.g. "c" for `c = a * b`).')
    shape: list[int]
    dtype: str
    requires_grad: bool
    is_leaf: bool
    retains_grad: bool
    grad_fn: str | None = Field(description="Node id.")
    data: ValuesOrRef
    grad: ValuesOrRef | None
    grad_of: str | None = Field(None, description="Extension: id of the tensor whose `.grad` this tensor is.")
    line: int | None = Field(None, description="Extension: line where the trace first saw it.")
    tied: list[str] | None = Field(None, description="Extension: other module paths of this same parameter or "
                                   "buffer (weight tying, a module used twice); `name` is the first path.")


class Saved(_Model):
    name: str
    values: ValuesOrRef | None
    tensor: str | None = Field(None, description="Extension: id of the traced tensor this saved value is.")
    repr: str | None = Field(None, description="Extension: text of a saved non-tensor value (sizes, dtypes).")
    version: int | None = Field(None, description="Extension: the saved tensor's `_version` when the node saved it.")


class Node(_Model):
    id: str
    name: str = Field(description='`grad_fn.name()`, e.g. "MulBackward0", "torch::autograd::AccumulateGrad".')
    tensor: str | None
    next: list[tuple[str | None, int]] = Field(description="`next_functions` in order: [node id | null, input nr].")
    saved: list[Saved]
    line: int | None
    kind: Literal["op", "accumulate", "custom"] | None = Field(None, description="Extension: what sort of node.")


class Iteration(_Model):
    loop: str = Field(description='Id of the loop ("L1").')
    index: int = Field(description="0-based iteration number.")


class OptimUpdate(_Model):
    optimizer: str = Field(description='Class name, e.g. "SGD", "Adam".')
    hyper: dict[str, float | bool] = Field(description="The parameter group's numeric settings (lr, momentum, …).")
    param: str = Field(description="Tensor id of the parameter updated.")
    grad: ValuesOrRef | None
    before: ValuesOrRef | None
    after: ValuesOrRef | None
    terms: dict[str, ValuesOrRef | None] = Field(description="Optimizer state after the step (momentum_buffer, exp_avg, …).")
    group: int | None = Field(None, description="Index of the parameter group (`optimizer.param_groups`) it belongs to.")


class ForwardStep(_Model):
    op: str
    inputs: list[str]
    outputs: list[str]
    node: str | None
    grad_enabled: bool
    line: int | None
    values: list[ValuesOrRef | None]
    kind: str | None = Field(None, description="Extension: op | inplace | custom | source | alias | hook | annotate | grad.")
    module: str | None = Field(None, description="Extension: dotted path of the nn.Module the call ran in.")
    grad_changes: dict[str, ValuesOrRef | None] | None = Field(
        None, description="Extension: tensor id → its `.grad` after this step, where the step changed a `.grad`.")
    iteration: Iteration | None = Field(None, description="Extension: the recorded loop iteration this step ran in.")
    data_changes: dict[str, ValuesOrRef | None] | None = Field(
        None, description="Extension: tensor id → its value as this step read it, for inputs whose value the trace did "
        "not show yet: a parameter or buffer first seen here, or one changed where no step was recorded (optimizer "
        "kernels, init functions, `.data` writes, folded loop iterations, BatchNorm running statistics). The value "
        "holds from this step on, until the tensor's next write.")
    bookkeeping: Literal["clip_grad_norm", "clip_grad_value", "zero_grad", "scheduler"] | None = Field(
        None, description="Extension: the step ran inside gradient clipping, zero_grad() or an LR scheduler's step() "
                          "(training bookkeeping the page keeps off the graph by default); absent otherwise.")
    optim: OptimUpdate | None = Field(None, description="Extension: on the step of `optimizer.step()` that wrote a parameter.")
    bumps: list[str] | None = Field(None, description="Extension: tensor ids whose `_version` this in-place step raised.")
    result: str | None = Field(None, description="Extension: repr of a non-tensor result (e.g. gradcheck's True/False).")
    transform: str | None = Field(None, description='Extension: the torch.func transforms this step ran inside, '
                                  'outermost first (e.g. "vmap(grad)").')
    check: dict[str, float | int | bool] | None = Field(
        None, description="Extension: on a gradcheck/gradgradcheck step, `backward_calls` (the autograd.grad calls it "
                          "made on its own, none of them shown as passes) and the eps/atol/rtol/fast_mode it used.")


class HookCall(_Model):
    tensor: str
    grad_in: ValuesOrRef | None
    grad_out: ValuesOrRef | None = Field(description="What the hook returned (null: it returned None, grad unchanged).")


class BackwardStep(_Model):
    node: str
    grad_outputs: list[ValuesOrRef | None] | None
    grad_inputs: list[ValuesOrRef | None] | None
    hooks: list[HookCall] | None = Field(None, description="Extension: user tensor hooks that ran just before.")
    tensor_grad: ValuesOrRef | None = Field(None, description="Extension: `.grad` of the node's tensor after it ran.")


class BackwardPass(_Model):
    call: Literal["backward", "grad"]
    line: int | None
    root: str | None
    gradient: ValuesOrRef | None
    retain_graph: bool
    create_graph: bool
    steps: list[BackwardStep]
    error: Error | None
    inputs: list[str] | None = Field(None, description="Extension: the `inputs=` argument, as tensor ids.")
    results: list[str] | None = Field(None, description="Extension: tensors `torch.autograd.grad` returned.")
    grads_after: dict[str, ValuesOrRef] | None = Field(None, description="Extension: every `.grad` after this call.")
    truncated: bool | None = Field(None, description="Extension: steps past the recording limit were not kept.")
    transform: str | None = Field(None, description='Extension: the torch.func transforms this call ran inside '
                                  '(torch.func.grad\'s own autograd.grad call: it fills no `.grad`).')
    after_forward: int | None = Field(
        None, description="Extension: forward steps recorded before this call (it ran between forward[k-1] and forward[k]).")


class FiniteDifference(_Model):
    tensor: str | None = Field(description="Id of the leaf that was nudged (null: the name matched no tensor).")
    h: float = Field(description="The step: each element was set to x ± h.")
    values: ValuesOrRef | None = Field(description="(f(x+h) − f(x−h)) / 2h per element, f the backward root (null on error; a ref in a compact trace).")
    root: str | None = Field(description="Tensor id of the backward root f (weighted by `gradient=` when one was given).")
    pass_: int | None = Field(None, alias="pass", description="Index in `backward` of the pass this checks.")
    grad: Values | None = Field(None, description="What autograd delivered to the leaf in that pass (its `.grad` contribution).")
    error: str | None = Field(None, description="Why the check could not be done (not a leaf, too many elements, …).")


class FiniteDifferenceRequest(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")

    tensor: str = Field(min_length=1, max_length=200, description="Variable name of a leaf that requires grad, a module parameter's path (`model.0.weight`), or a tensor id.")
    h: float = Field(1e-3, gt=0, le=1, description="Step of the central difference.")


class Warning_(_Model):
    message: str = Field(description="The whole message (never cut).")
    line: int | None = Field(description="The user's line, also when torch raised it from inside a call.")
    category: str | None = Field(None, description="Extension: the warning class, e.g. UserWarning.")
    step: int | None = Field(None, description="Extension: forward index of the step that raised it.")
    pass_: int | None = Field(None, alias="pass", description="Extension: index of the backward pass that raised it.")
    after_forward: int | None = Field(None, description="Extension: forward steps recorded before it was raised.")
    after_backward: int | None = Field(None, description="Extension: backward calls made before it was raised.")
    tensor: str | None = Field(None, description="Extension: the tensor the raising call was made on (e.g. `y` in `y.grad`).")


class LoopIteration(_Model):
    index: int
    forward: tuple[int, int] = Field(description="Half-open range of forward[] indices.")
    backward: list[int] = Field(description="Indices into backward[] of the passes this iteration ran.")
    params: dict[str, ValuesOrRef] | None = Field(
        None, description="Extension: the loop's parameters (tensor id -> Values) as this iteration began; absent before "
                          "the loop has seen any (its first iteration).")


class Series(_Model):
    name: str = Field(description='"loss", a printed scalar\'s name, or a parameter norm such as "‖w‖".')
    line: int | None
    values: list[Number | None] = Field(description="One per iteration; null where the iteration gave none.")


class LoopOmitted(_Model):
    forward_steps: int
    backward_passes: int


class Loop(_Model):
    id: str
    line: int = Field(description="The for/while statement.")
    end_line: int = Field(description="Last line of its body.")
    iterations: int
    recorded: list[LoopIteration] = Field(description="Iterations recorded in full (the first few and the last), in order.")
    series: list[Series]
    omitted: LoopOmitted
    parent: str | None = Field(
        None, description="Extension: a nested loop that folded inside a recorded iteration of loop `parent`.")
    parent_index: int | None = Field(None, description="Extension: that iteration of the parent loop.")


class Module(_Model):
    path: str = Field(description="Dotted path of the nn.Module (`model.h.0.attn`), as named_modules() names it under the outermost called module.")
    class_: str = Field(alias="class", description="Its class name (`Block`, `Linear`).")
    parent: str | None = Field(description="Path of the module it was called in, null for an outermost call.")
    params: int = Field(description="Parameters it holds, its children's included (numel summed).")
    shape: list[int] | None = Field(description="Shape of the first tensor its first call returned, null when none.")
    calls: int = Field(description="How many times it was called while recording.")


class Omitted(_Model):
    forward_steps: int
    backward_passes: int
    nodes: int
    reason: str


class Trace(_Model):
    version: Literal[1]
    status: Literal["ok", "error"]
    error: Error | None
    stdout: str
    tensors: list[Tensor]
    nodes: list[Node]
    forward: list[ForwardStep]
    backward: list[BackwardPass]
    variables: dict[str, str]
    warnings: list[Warning_] = Field(default_factory=list, description="Extension: warnings the program raised.")
    stderr: str = Field("", description="Extension: what the program wrote to stderr.")
    loops: list[Loop] | None = Field(None, description="Extension: repeated iterations, folded (absent when none).")
    modules: list[Module] | None = Field(
        None, description="Extension: the nn.Module tree the program called, in first-call order (absent when none).")
    omitted: Omitted | None = Field(
        None, description="Extension: recording degraded because a trace limit was reached; the program ran on.")
    format: Literal["full", "compact"] | None = Field(None, description='Extension: "compact" when Values are refs.')
    value_table: list[Values] | None = Field(None, description="Extension: the compact format's Values, by index.")
    trace_key: str | None = Field(
        None, description="Extension: the server's cache key of this trace, for GET /api/v1/traces/{trace_key}.")
    finite_difference: FiniteDifference | None = Field(
        None, description="Extension: present when the request asked for a finite-difference check.")


class RunLength(_Model):
    rle: list[Any] = Field(description="[cell, count, cell, count, …]: each cell repeated count times.")


class ColumnTable(_Model):
    """Extension (compact version 2): a list of records written as columns (docs/trace-api-v1.md, Compact format)."""
    n: int = Field(ge=0, description="Number of records.")
    c: dict[str, list[Any] | RunLength] = Field(
        description="field → its cells, in record order, for the records that have the field (coded by field, see docs).")
    p: dict[str, list[int]] | None = Field(
        None, description="field → run lengths [present, absent, present, …] where not every record has it.")
    d: list[str] | None = Field(None, description="Fields whose integers are written as the difference to the one before.")
    raw: list[str] | None = Field(None, description="Coded fields written as they are (a value their code cannot carry).")
    sub: dict[str, "ColumnTable"] | None = Field(
        None, description="field → the table of all records' lists of that field, concatenated (the column holds counts).")


PackedValues = Number | list[Any] | Values


class CompactTraceV2(Trace):
    """Extension: the compact format, version 2 (`"format": "compact"` requests): column tables, atoms, packed values."""
    tensors: ColumnTable | list[Tensor]
    nodes: ColumnTable | list[Node]
    forward: ColumnTable | list[ForwardStep]
    backward: ColumnTable | list[BackwardPass]
    format: Literal["compact"]
    compact_version: Literal[2] = Field(description="2: record lists as column tables, `atoms`, packed `value_table`.")
    value_table: list[PackedValues] = Field(
        description="A float32 scalar's Values as its number, other float32 Values as [shape, values, min, max, mean, "
                    "sum] (numbers: shortest decimal that reads back to the float32), anything else as the Values.")
    atoms: list[str | list[int]] = Field(description="Strings and shapes the tables refer to by index.")


class TraceRequest(BaseModel):
    model_config = ConfigDict(strict=True)  # `"seed": false` or `1.5` is a malformed request, not seed 0/1

    code: str = Field(description="The Python/PyTorch program, as typed.")
    seed: int = Field(0, ge=-(2**63), le=2**64 - 1, description="`torch.manual_seed(seed)` before the program runs.")
    format: Literal["full", "compact"] = Field(
        "full", description='Extension: "compact" answers the compact format (docs/trace-api-v1.md, Compact format).')
    compact_version: Literal[1, 2] = Field(
        1, description='Extension: which compact format a "compact" request gets: 1 (a value table; what older readers '
                       'know) or 2 (CompactTraceV2: column tables, atoms, packed Values). Ignored for "full".')
    finite_difference: FiniteDifferenceRequest | None = Field(
        None, description="Extension: re-run the program with this leaf nudged element by element (≤ fd_max_elements) "
        "and return Trace.finite_difference.")


class Example(_Model):
    id: str
    title: str
    description: str
    code: str


class Health(BaseModel):
    status: Literal["ok", "starting"]
    version: str
    runner: dict[str, Any] = Field(default_factory=dict)
    cache: dict[str, Any] = Field(default_factory=dict, description="Trace cache counters (runs, hits).")
    classes: dict[str, Any] = Field(default_factory=dict, description="Live class streams this server holds.")
