"""Scan a pickle's opcodes for the globals it would import, without ever unpickling it.

A small symbolic machine replays the stack, the memo and marks so that ``STACK_GLOBAL`` (whose
module and name come from earlier pushes or memo lookups) is resolved exactly; objects are
placeholders, so nothing is imported, called or built. joblib writes numpy arrays' raw bytes
inside the stream right after each ``NumpyArrayWrapper``; the machine reads the wrapper's
shape and dtype from its state and steps over those bytes as joblib's reader would.
"""

import io
import math
import pickletools
import re
from dataclasses import dataclass, field
from typing import Any

from governance.artifacts.record import MAX_PICKLE_OPCODES, InspectionError

# Loading any of these runs code the pickle's author chose (or reads and writes files, or opens
# sockets). Whole modules, or (module, name) pairs.
DANGEROUS_MODULES = {
    "os", "posix", "nt", "subprocess", "sys", "socket", "shutil", "pty", "commands", "runpy",
    "importlib", "webbrowser", "ctypes", "marshal", "pickle", "_pickle", "dill", "code",
    "codeop", "multiprocessing", "asyncio", "http", "httplib", "urllib", "urllib2", "requests",
    "ftplib", "smtplib", "telnetlib", "signal", "tempfile", "pip", "setuptools", "timeit",
    "pdb", "bdb", "profile", "cProfile", "trace", "torch.hub", "torch._dynamo",
    "torch._inductor", "numpy.testing", "joblib._parallel_backends",
}  # fmt: skip
DANGEROUS_NAMES = {
    ("builtins", n) for n in (
        "eval", "exec", "compile", "open", "__import__", "getattr", "setattr", "delattr",
        "globals", "locals", "vars", "input", "breakpoint", "execfile", "apply", "help",
    )
} | {
    ("__builtin__", n) for n in ("eval", "exec", "compile", "open", "__import__", "getattr",
                                 "setattr", "execfile", "apply", "file", "input")
} | {
    ("operator", "attrgetter"), ("operator", "methodcaller"), ("_operator", "attrgetter"),
    ("_operator", "methodcaller"), ("functools", "partial"), ("types", "CodeType"),
    ("types", "FunctionType"), ("types", "MethodType"), ("numpy", "load"),
    ("numpy.lib.npyio", "load"), ("torch", "load"), ("torch.serialization", "load"),
    ("builtins", "type"),
}  # fmt: skip


def is_dangerous(module: str, name: str) -> bool:
    root = module.split(".")[0]
    return (
        (module, name) in DANGEROUS_NAMES
        or module in DANGEROUS_MODULES
        or root in DANGEROUS_MODULES
        or any(module.startswith(m + ".") for m in DANGEROUS_MODULES)
    )


@dataclass(frozen=True)
class Global:
    module: str
    name: str

    @property
    def dotted(self) -> str:
        return f"{self.module}.{self.name}"


@dataclass
class Obj:
    """A placeholder for whatever the unpickler would have built."""

    callable: Any
    args: Any = None
    state: Any = None


@dataclass
class PickleScan:
    globals: list[str] = field(default_factory=list)
    dangerous: list[str] = field(default_factory=list)
    opcodes: int = 0
    protocol: int | None = None
    persistent_ids: int = 0
    arrays_skipped: int = 0
    end: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "globals": self.globals,
            "dangerous_globals": self.dangerous,
            "opcodes": self.opcodes,
            "protocol": self.protocol,
            "persistent_ids": self.persistent_ids,
            "joblib_arrays": self.arrays_skipped,
        }


_LITERAL_OPS = {
    "INT", "BININT", "BININT1", "BININT2", "LONG", "LONG1", "LONG4", "STRING", "BINSTRING",
    "SHORT_BINSTRING", "BINBYTES", "SHORT_BINBYTES", "BINBYTES8", "BYTEARRAY8", "UNICODE",
    "SHORT_BINUNICODE", "BINUNICODE", "BINUNICODE8", "FLOAT", "BINFLOAT",
}  # fmt: skip
_DTYPE = re.compile(r"^[<>|=]?([a-zA-Z])(\d*)$")
_ITEMSIZE = {"b": 1, "B": 1, "?": 1, "h": 2, "H": 2, "e": 2, "f": 4, "d": 8, "g": 16}


def _key(value: Any) -> Any:
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


def _itemsize(dtype: Any) -> int | None:
    """Bytes per element of a numpy dtype as joblib pickles it (``numpy.dtype('f8', ...)``)."""
    if isinstance(dtype, Obj) and isinstance(dtype.args, tuple) and dtype.args:
        dtype = dtype.args[0]
    if not isinstance(dtype, str):
        return None
    match = _DTYPE.match(dtype)
    if not match:
        return None
    kind, size = match.group(1), match.group(2)
    if kind == "O":
        return 0
    if not size:
        return _ITEMSIZE.get(kind)
    return int(size) * (4 if kind == "U" else 1)


class _Machine:
    def __init__(self, stream: io.BytesIO, scan: PickleScan, location: str):
        self.stream = stream
        self.scan = scan
        self.location = location
        self.stack: list[Any] = []
        self.marks: list[list[Any]] = []
        self.memo: dict[Any, Any] = {}

    def fail(self, message: str, offset: int) -> InspectionError:
        return InspectionError("pickle", message, offset=offset, path=self.location)

    def pop(self, offset: int) -> Any:
        if not self.stack:
            raise self.fail("stack underflow", offset)
        return self.stack.pop()

    def pop_mark(self, offset: int) -> list[Any]:
        if not self.marks:
            raise self.fail("no MARK to pop to", offset)
        items, self.stack = self.stack, self.marks.pop()
        return items

    def record_global(self, module: Any, name: Any, offset: int) -> Global:
        if not isinstance(module, str) or not isinstance(name, str):
            raise self.fail("a global whose module or name is not a string", offset)
        glob = Global(module, name)
        if glob.dotted not in self.scan.globals:
            self.scan.globals.append(glob.dotted)
            if is_dangerous(module, name):
                self.scan.dangerous.append(glob.dotted)
        return glob

    def run(self) -> None:
        read = self.stream
        while True:
            offset = read.tell()
            code = read.read(1)
            if not code:
                raise self.fail("truncated: the stream ends before STOP", offset)
            op = pickletools.code2op.get(code.decode("latin-1"))
            if op is None:
                raise self.fail(f"unknown opcode {code!r}", offset)
            self.scan.opcodes += 1
            if self.scan.opcodes > MAX_PICKLE_OPCODES:
                raise self.fail("more opcodes than the inspector reads", offset)
            try:
                arg = op.arg.reader(read) if op.arg is not None else None
            except ValueError as exc:
                message = f"truncated or invalid {op.name} argument ({exc})"
                raise self.fail(message, offset) from None
            if op.name == "STOP":
                self.scan.end = read.tell()
                return
            self.step(op.name, arg, offset)

    def step(self, name: str, arg: Any, offset: int) -> None:
        stack = self.stack
        if name in _LITERAL_OPS:
            stack.append(arg)
        elif name == "PROTO":
            self.scan.protocol = arg
        elif name == "FRAME":
            pass
        elif name in ("NONE", "NEWTRUE", "NEWFALSE"):
            stack.append({"NONE": None, "NEWTRUE": True, "NEWFALSE": False}[name])
        elif name == "MARK":
            self.marks.append(stack)
            self.stack = []
        elif name == "POP":
            if stack:
                stack.pop()
            else:
                self.pop_mark(offset)
        elif name == "POP_MARK":
            self.pop_mark(offset)
        elif name == "DUP":
            stack.append(stack[-1] if stack else None)
        elif name in ("EMPTY_TUPLE", "EMPTY_LIST", "EMPTY_DICT", "EMPTY_SET"):
            stack.append({"EMPTY_TUPLE": (), "EMPTY_LIST": [], "EMPTY_DICT": {}}.get(name, set()))
        elif name in ("TUPLE1", "TUPLE2", "TUPLE3"):
            n = int(name[-1])
            if len(stack) < n:
                raise self.fail("stack underflow", offset)
            items = tuple(stack[-n:])
            del stack[-n:]
            stack.append(items)
        elif name in ("TUPLE", "LIST", "FROZENSET"):
            items = self.pop_mark(offset)
            self.stack.append(list(items) if name == "LIST" else tuple(items))
        elif name == "DICT":
            items = self.pop_mark(offset)
            self.stack.append({_key(k): v for k, v in zip(items[::2], items[1::2], strict=False)})
        elif name == "APPEND":
            value = self.pop(offset)
            target = self.stack[-1] if self.stack else None
            if isinstance(target, list):
                target.append(value)
        elif name in ("APPENDS", "ADDITEMS"):
            items = self.pop_mark(offset)
            target = self.stack[-1] if self.stack else None
            if isinstance(target, list):
                target.extend(items)
        elif name == "SETITEM":
            value, key = self.pop(offset), self.pop(offset)
            target = self.stack[-1] if self.stack else None
            if isinstance(target, dict):
                target[_key(key)] = value
        elif name == "SETITEMS":
            items = self.pop_mark(offset)
            target = self.stack[-1] if self.stack else None
            if isinstance(target, dict):
                for k, v in zip(items[::2], items[1::2], strict=False):
                    target[_key(k)] = v
        elif name in ("PUT", "BINPUT", "LONG_BINPUT"):
            self.memo[arg] = stack[-1] if stack else None
        elif name == "MEMOIZE":
            self.memo[len(self.memo)] = stack[-1] if stack else None
        elif name in ("GET", "BINGET", "LONG_BINGET"):
            if arg not in self.memo:
                raise self.fail(f"memo key {arg} read before it was written", offset)
            stack.append(self.memo[arg])
        elif name == "GLOBAL":
            module, _, attr = str(arg).partition(" ")
            stack.append(self.record_global(module, attr, offset))
        elif name == "STACK_GLOBAL":
            attr, module = self.pop(offset), self.pop(offset)
            self.stack.append(self.record_global(module, attr, offset))
        elif name == "INST":
            module, _, attr = str(arg).partition(" ")
            args = self.pop_mark(offset)
            self.stack.append(Obj(self.record_global(module, attr, offset), tuple(args)))
        elif name == "OBJ":
            items = self.pop_mark(offset)
            if not items:
                raise self.fail("OBJ without a class", offset)
            self.stack.append(Obj(items[0], tuple(items[1:])))
        elif name in ("REDUCE", "NEWOBJ"):
            args, func = self.pop(offset), self.pop(offset)
            self.stack.append(Obj(func, args))
        elif name == "NEWOBJ_EX":
            kwargs, args, cls = self.pop(offset), self.pop(offset), self.pop(offset)
            self.stack.append(Obj(cls, (args, kwargs)))
        elif name == "BUILD":
            state = self.pop(offset)
            target = self.stack[-1] if self.stack else None
            if isinstance(target, Obj):
                target.state = state
                self.after_build(target, offset)
        elif name in ("PERSID", "BINPERSID"):
            pid = arg if name == "PERSID" else self.pop(offset)
            self.scan.persistent_ids += 1
            self.stack.append(Obj(Global("<persistent>", "id"), pid))
        elif name in ("EXT1", "EXT2", "EXT4"):
            # The extension registry maps codes to globals at load time: unknowable here.
            self.scan.dangerous.append(f"<extension code {arg}>")
            self.stack.append(Obj(Global("<extension>", str(arg))))
        elif name in ("NEXT_BUFFER", "READONLY_BUFFER"):
            if name == "NEXT_BUFFER":
                stack.append(b"")
        else:
            raise self.fail(f"opcode {name} is not supported", offset)

    def after_build(self, obj: Obj, offset: int) -> None:
        """joblib's NumpyArrayWrapper: its array's bytes follow in the stream."""
        func = obj.callable
        if not (isinstance(func, Global) and func.name == "NumpyArrayWrapper"):
            return
        if not func.module.startswith("joblib") and not func.module.startswith("sklearn"):
            return
        state = obj.state if isinstance(obj.state, dict) else {}
        shape = state.get("shape")
        if not isinstance(shape, tuple) or not all(isinstance(n, int) and n >= 0 for n in shape):
            raise self.fail("a joblib array without a readable shape", offset)
        itemsize = _itemsize(state.get("dtype"))
        if itemsize is None:
            raise self.fail("a joblib array whose dtype the inspector cannot size", offset)
        if state.get("numpy_array_alignment_bytes"):
            pad = self.stream.read(1)
            if len(pad) != 1:
                raise self.fail("truncated joblib array padding", self.stream.tell())
            self.stream.seek(pad[0], io.SEEK_CUR)
        if itemsize == 0:
            # Object arrays are pickled in full after the wrapper: scan that pickle as well.
            nested = _Machine(self.stream, self.scan, self.location)
            nested.run()
        else:
            size = math.prod(shape) * itemsize
            start = self.stream.tell()
            self.stream.seek(size, io.SEEK_CUR)
            if self.stream.tell() > len(self.stream.getbuffer()):
                raise self.fail("truncated joblib array data", start)
        self.scan.arrays_skipped += 1


def pickle_scan(data: bytes, *, location: str = "") -> PickleScan:
    """Every global the pickle names, and those that are dangerous; raises InspectionError on
    a malformed stream. Stops at the first STOP, as ``pickle.load`` does."""
    scan = PickleScan()
    stream = io.BytesIO(data)
    if not data:
        raise InspectionError("pickle", "empty file", offset=0, path=location)
    _Machine(stream, scan, location).run()
    return scan
