"""Names of the torch calls a program makes, as a student would write them."""
import torch

_REVERSED = {"radd": "add", "rmul": "mul", "rtruediv": "div", "rdiv": "div", "rpow": "pow", "rmatmul": "matmul",
             "rfloordiv": "floor_divide", "rsub": "rsub", "rand": "bitwise_and", "ror": "bitwise_or", "rxor": "bitwise_xor"}
_DUNDER = {"truediv": "div", "floordiv": "floor_divide", "and": "bitwise_and", "or": "bitwise_or",
           "xor": "bitwise_xor", "invert": "bitwise_not", "getitem": "index", "setitem": "index_put_",
           "array_wrap": "numpy", "abs": "abs"}

# Calls that read state or format text: never a step of their own.
QUIET = {"__repr__", "__str__", "__format__", "__len__", "__bool__", "__iter__", "__hash__", "__array__",
         "__contains__", "__reduce_ex__", "__deepcopy__", "__dir__", "tolist", "item", "size", "dim",
         "numel", "stride", "data_ptr", "storage_offset", "is_contiguous", "element_size", "untyped_storage",
         "__index__", "__int__", "__float__", "__complex__", "__eq__hash", "get_device", "is_floating_point",
         "is_complex", "nelement", "ndimension", "type", "__getstate__", "__setstate__", "__reversed__"}


def op_name(func) -> str:
    """`Tensor.__rmul__` → "mul", `Tensor.grad.__set__` → "grad.set", `torch.add` → "add"."""
    name = getattr(func, "__name__", None) or type(func).__name__
    if name in ("__get__", "__set__", "__delete__"):
        owner = getattr(func, "__self__", None)
        attr = getattr(owner, "__name__", None) or "attr"
        return f"{attr}.{name.strip('_')}"
    if name.startswith("__") and name.endswith("__"):
        core = name[2:-2]
        if core in _REVERSED:
            return _REVERSED[core]
        if core.startswith("i") and core[1:] in ("add", "sub", "mul", "truediv", "pow", "matmul", "and", "or"):
            return _DUNDER.get(core[1:], core[1:]) + "_"
        return _DUNDER.get(core, core)
    return name


def is_inplace(name: str) -> bool:
    return name.endswith("_") and not name.startswith("_")


def tensors_in(obj, out: list | None = None, depth: int = 0) -> list:
    """Tensors in an argument or result, looking into lists, tuples and dicts (not into user objects)."""
    if out is None:
        out = []
    if isinstance(obj, torch.Tensor):
        out.append(obj)
    elif depth < 3 and isinstance(obj, (list, tuple)):
        for v in obj[:1000]:
            tensors_in(v, out, depth + 1)
    elif depth < 3 and isinstance(obj, dict):
        for v in list(obj.values())[:1000]:
            tensors_in(v, out, depth + 1)
    return out
