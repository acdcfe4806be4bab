"""The rules of the package's layout, checked from the parsed source (not from a hand-kept list).

Used by ``tests/test_structure.py`` on the real package and on small planted packages, so a rule that
stops catching its violation fails a test too. Run ``python tests/_structure.py`` for the list of
violations of the working tree.

Layers, lowest first (a module imports only from lower layers or from its own package):

====  =====================================================  ===========================================
rank  packages                                               what they do
====  =====================================================  ===========================================
0     ``core``                                               errors, settings, i18n, progress
1     ``cache``                                              the one keyed on-disk store
2     ``inputs``                                             load and validate files
3     ``need``, ``geocode``, ``siting``                      pure engines (objects in, objects out)
4     ``access``                                             walking network and times (uses ``need``)
5     ``scenario``                                           specs, context, ``evaluate``, comparison
6     ``outputs``                                            files, workbook, report, maps (render)
7     ``pipeline``                                           the only layer that both computes and writes
8     ``cli``, ``serve``                                     front ends
====  =====================================================  ===========================================
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass
from pathlib import Path

#: Rank of each top-level part of the package (see the module docstring).
LAYERS: dict[str, int] = {
    "core": 0,
    "cache": 1,
    "inputs": 2,
    "need": 3,
    "geocode": 3,
    "siting": 3,
    "access": 4,
    "scenario": 5,
    "outputs": 6,
    "pipeline": 7,
    "cli": 8,
    "serve": 8,
    "__main__": 9,
}
#: Third-party libraries that may be imported inside a function (heavy and needed by few paths),
#: each such import with a comment saying why.
HEAVY = {"folium", "branca", "matplotlib", "openpyxl", "osmnx", "networkx", "dask", "distributed", "sklearn"}
#: Parts that may write files: the staged writer, the cache store, the layer that writes, the front ends.
WRITERS = {"outputs.files", "cache", "pipeline", "cli", "serve"}
#: Parts that may read the data folder, the cache folder or the output folder by themselves.
PATH_READERS = {"core", "inputs", "cache", "pipeline", "cli", "serve"}
#: Engines read no file at all: everything comes in as arguments.
ENGINES = {"need", "geocode", "siting", "access", "scenario"}
#: Front ends may import lazily (``geoplanner --help`` and refusals of a bad option stay fast).
LAZY_OK = {"cli", "__main__"}

MAX_MODULE_LINES = 800
MAX_FUNCTION_LINES = 80

_WRITE_ATTRS = {
    "to_csv", "to_file", "to_excel", "to_parquet", "to_feather", "write_text", "write_bytes", "savefig",
    "mkdir", "touch", "unlink", "rmdir", "rmtree", "save_graphml", "savez", "savez_compressed", "copyfile",
    "copy2", "copytree", "mkstemp", "write_html",
}  # fmt: skip
_WRITE_QUALIFIED = {"os.replace", "os.rename", "os.remove", "os.makedirs", "os.mkdir", "shutil.copy",
                    "shutil.copyfile", "shutil.copy2", "shutil.move", "shutil.rmtree", "tempfile.mkstemp",
                    "np.save", "np.savez", "numpy.save", "pickle.dump"}  # fmt: skip
_READ_QUALIFIED = {"pd.read_csv", "pd.read_excel", "gpd.read_file", "pyogrio.read_dataframe", "rasterio.open",
                   "np.load", "pickle.load", "tomllib.load", "json.load"}  # fmt: skip
_READ_ATTRS = {"read_text", "read_bytes"}
_PATH_NAMES = re.compile(r"^(data_dir|cache_dir|output_dir|dataset_path|bundle_file|load_[a-z0-9_]+|read_[a-z0-9_]+)$")
_MEMORY_STREAMS = {"BytesIO", "StringIO"}


@dataclass(frozen=True)
class Violation:
    """One broken rule: which, where and what."""

    rule: str
    module: str
    line: int
    text: str

    def __str__(self) -> str:
        return f"[{self.rule}] {self.module}:{self.line}: {self.text}"


@dataclass
class Module:
    """A parsed module of the package."""

    name: str  # dotted, e.g. geoplanner.need.ranking
    path: Path
    tree: ast.Module
    lines: int
    is_package: bool

    @property
    def part(self) -> str:
        """Top-level part under the package (``need``, ``outputs``, ...)."""
        bits = self.name.split(".")
        return bits[1] if len(bits) > 1 else ""

    @property
    def sub(self) -> str:
        """The part and its first sub-name, e.g. ``outputs.files``."""
        return ".".join(self.name.split(".")[1:3])


def _parse(root: Path, package: str) -> dict[str, Module]:
    mods = {}
    base = root / package
    for path in sorted(base.rglob("*.py")):
        rel = path.relative_to(root).with_suffix("")
        parts = list(rel.parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        text = path.read_text(encoding="utf-8")
        name = ".".join(parts)
        mods[name] = Module(name, path, ast.parse(text), len(text.splitlines()), is_pkg)
    return mods


def _rank(mod_name: str, package: str) -> int | None:
    bits = mod_name.split(".")
    if bits[0] != package:
        return None
    if len(bits) == 1:
        return 0  # the package's own __init__: version only
    return LAYERS.get(bits[1])


def _resolve(mod: Module, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = mod.name.split(".") if mod.is_package else mod.name.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


@dataclass(frozen=True)
class _Import:
    target: str  # the module imported (a submodule when `from pkg import submodule`)
    names: tuple[str, ...]  # names taken from it (empty for `import x`)
    line: int
    in_function: bool
    node: ast.AST


def _imports(mod: Module, mods: dict[str, Module]) -> list[_Import]:
    found: list[_Import] = []

    def visit(node: ast.AST, in_func: bool) -> None:
        for child in ast.iter_child_nodes(node):
            inside = in_func or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            if isinstance(child, ast.ImportFrom):
                source = _resolve(mod, child)
                for alias in child.names:
                    sub = f"{source}.{alias.name}"
                    if sub in mods:
                        found.append(_Import(sub, (), child.lineno, inside, child))
                    else:
                        found.append(_Import(source, (alias.name,), child.lineno, inside, child))
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    found.append(_Import(alias.name, (), child.lineno, inside, child))
            visit(child, inside)

    visit(mod.tree, False)
    return found


def _type_checking_lines(tree: ast.Module) -> set[int]:
    """Lines inside ``if TYPE_CHECKING:`` blocks (imports for annotations only, never run)."""
    out: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            for sub in node.body:
                out.update(range(sub.lineno, (sub.end_lineno or sub.lineno) + 1))
    return out


def _has_reason(source_lines: list[str], line: int) -> bool:
    here = source_lines[line - 1]
    above = source_lines[line - 2] if line >= 2 else ""
    return "#" in here or above.strip().startswith("#")


def check_layers(mods: dict[str, Module], package: str) -> list[Violation]:
    """Rule 1: imports go downward, no cycles, no private names of another module."""
    out: list[Violation] = []
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for mod in mods.values():
        typing_only = _type_checking_lines(mod.tree)
        own = _rank(mod.name, package)
        aliases: dict[str, str] = {}
        for imp in _imports(mod, mods):
            if not imp.target.startswith(package):
                continue
            target = imp.target if imp.target in mods else imp.target.rsplit(".", 1)[0]
            if target not in mods and imp.target in mods:
                target = imp.target
            if imp.line not in typing_only:
                graph[mod.name].add(target if target in mods else imp.target)
            for alias in imp.node.names if isinstance(imp.node, ast.Import | ast.ImportFrom) else ():
                if isinstance(imp.node, ast.ImportFrom) and f"{_resolve(mod, imp.node)}.{alias.name}" in mods:
                    aliases[alias.asname or alias.name] = f"{_resolve(mod, imp.node)}.{alias.name}"
                elif isinstance(imp.node, ast.Import) and alias.asname:
                    aliases[alias.asname] = alias.name
            theirs = _rank(imp.target, package)
            same_part = imp.target.split(".")[:2] == mod.name.split(".")[:2]
            if own is not None and theirs is not None and not same_part and imp.line not in typing_only:
                if theirs > own or (theirs == own and own != 0):
                    out.append(
                        Violation("layers", mod.name, imp.line, f"imports {imp.target} (layer {theirs} ≥ {own})")
                    )
            if not same_part or imp.target != mod.name:
                for n in imp.names:
                    if n.startswith("_") and imp.target != mod.name:
                        out.append(Violation("private", mod.name, imp.line, f"takes private name {n} of {imp.target}"))
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                if node.attr.startswith("_") and not node.attr.startswith("__"):
                    out.append(
                        Violation(
                            "private", mod.name, node.lineno, f"uses private {aliases[node.value.id]}.{node.attr}"
                        )
                    )
    out += _cycles(graph)
    return out


def _cycles(graph: dict[str, set[str]]) -> list[Violation]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    comps: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(max(10000, sys.getrecursionlimit()))

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in graph:
                continue
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                comps.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return [Violation("cycle", c[0], 0, "import cycle: " + " -> ".join(c)) for c in comps]


def check_lazy_imports(mods: dict[str, Module], package: str) -> list[Violation]:
    """Rule 2: imports at module level; inside a function only heavy optional libraries, with a reason."""
    out = []
    for mod in mods.values():
        if mod.part in LAZY_OK:
            continue
        src = mod.path.read_text(encoding="utf-8").splitlines()
        for imp in _imports(mod, mods):
            if not imp.in_function:
                continue
            top = imp.target.split(".")[0]
            if top == package:
                out.append(Violation("lazy-import", mod.name, imp.line, f"imports {imp.target} inside a function"))
            elif top not in HEAVY:
                out.append(Violation("lazy-import", mod.name, imp.line, f"imports {imp.target} inside a function"))
            elif not _has_reason(src, imp.line):
                out.append(
                    Violation("lazy-import", mod.name, imp.line, f"{imp.target} imported lazily without a reason")
                )
    return out


def _qualified(node: ast.AST) -> str:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
    return ".".join(reversed(parts))


def _in_memory_names(func: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(func):
        if isinstance(node, ast.Assign | ast.With):
            pairs = []
            if isinstance(node, ast.Assign):
                pairs = [(t, node.value) for t in node.targets]
            else:
                pairs = [(it.optional_vars, it.context_expr) for it in node.items if it.optional_vars is not None]
            for target, value in pairs:
                if isinstance(value, ast.Call) and _qualified(value.func).split(".")[-1] in _MEMORY_STREAMS:
                    if isinstance(target, ast.Name):
                        names.add(target.id)
    return names


def _is_write_mode(call: ast.Call) -> bool:
    mode = None
    if len(call.args) >= 2 and isinstance(call.args[1], ast.Constant):
        mode = call.args[1].value
    for kw in call.keywords:
        if kw.arg == "mode" and isinstance(kw.value, ast.Constant):
            mode = kw.value.value
    return isinstance(mode, str) and any(c in mode for c in "wax+")


def _allowed(part_sub: str, part: str, allowed: set[str]) -> bool:
    return part in allowed or part_sub in allowed


def check_io(mods: dict[str, Module], package: str) -> list[Violation]:
    """Rule 3: only the writing layers write files; only inputs (and the writers) find data by themselves."""
    out = []
    for mod in mods.values():
        writer = _allowed(mod.sub, mod.part, WRITERS)
        reader = _allowed(mod.sub, mod.part, PATH_READERS)
        engine = mod.part in ENGINES
        from_inputs: set[str] = set()
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                (f"{package}.inputs", f"{package}.core.settings", f"{package}.cache")
            ):
                from_inputs |= {a.asname or a.name for a in node.names}
        for func in [n for n in ast.walk(mod.tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)] + [
            mod.tree
        ]:
            memory = _in_memory_names(func)
            for node in ast.walk(func):
                if not isinstance(node, ast.Call):
                    continue
                q = _qualified(node.func)
                last = q.split(".")[-1]
                first_arg = node.args[0] if node.args else None
                to_memory = isinstance(first_arg, ast.Name) and first_arg.id in memory
                if not writer and not to_memory:
                    bad = q in _WRITE_QUALIFIED or (isinstance(node.func, ast.Attribute) and last in _WRITE_ATTRS)
                    if (q in ("open", "io.open") or last == "open") and _is_write_mode(node):
                        bad = True
                    if bad:
                        out.append(Violation("writes", mod.name, node.lineno, f"writes a file ({q})"))
                if not reader:
                    name = last if q == last or q.startswith("settings.") else ""
                    if name and (name in from_inputs or q.startswith("settings.")) and _PATH_NAMES.match(name):
                        out.append(Violation("data-dir", mod.name, node.lineno, f"finds its own input ({q})"))
                if engine and not to_memory:
                    reads = q in _READ_QUALIFIED or (isinstance(node.func, ast.Attribute) and last in _READ_ATTRS)
                    if q == "open" and not _is_write_mode(node):
                        reads = True
                    if reads:
                        out.append(Violation("reads", mod.name, node.lineno, f"engine reads a file ({q})"))
    return out


def _body_lines(func: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    body = func.body
    if body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant):
        body = body[1:]  # the docstring does not count
    if not body:
        return 0
    return (body[-1].end_lineno or body[-1].lineno) - body[0].lineno + 1


def check_sizes(mods: dict[str, Module], package: str) -> list[Violation]:
    """Rule 4: modules under ~800 lines, functions under ~80 (docstrings not counted)."""
    out = []
    for mod in mods.values():
        if mod.lines > MAX_MODULE_LINES:
            out.append(Violation("size", mod.name, 1, f"{mod.lines} lines (max {MAX_MODULE_LINES})"))
        for node in ast.walk(mod.tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                n = _body_lines(node)
                if n > MAX_FUNCTION_LINES:
                    out.append(
                        Violation("size", mod.name, node.lineno, f"{node.name}: {n} lines (max {MAX_FUNCTION_LINES})")
                    )
    return out


def violations(root: Path, package: str = "geoplanner") -> list[Violation]:
    """Every broken rule of ``root/package``."""
    mods = _parse(root, package)
    found = (
        check_layers(mods, package)
        + check_lazy_imports(mods, package)
        + check_io(mods, package)
        + check_sizes(mods, package)
    )
    return sorted(set(found), key=lambda v: (v.rule, v.module, v.line, v.text))


if __name__ == "__main__":  # pragma: no cover
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1]
    found = violations(root)
    for v in found:
        print(v)
    print(f"{len(found)} violations", file=sys.stderr)
    sys.exit(1 if found else 0)
