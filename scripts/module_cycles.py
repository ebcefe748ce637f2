#!/usr/bin/env python3
"""Prints the import circles between the modules of each crate's `src/`.

A module is a file (`a/b.rs` or `a/b/mod.rs` is `a::b`; `lib.rs`/`main.rs` is the
root). Module `m` depends on module `t` when `m`'s code (comments and
`#[cfg(test)]` modules left out) names `crate::t...`, `super::...`, `self::...`
or a child `c::...` of `m`, resolved to the longest module prefix and then
through `pub use` re-exports to the module that defines the item. An edge to
one of `m`'s own ancestors is not counted: a parent that declares and
re-exports its children is their facade, not their peer. Each strongly
connected component of two or more modules is printed as one circle.

Usage: scripts/module_cycles.py [crates-dir]   (exit status 1 if any circle)
"""

import os
import re
import sys


def module_name(rel):
    parts = rel[:-3].split(os.sep)
    if parts[-1] in ("lib", "main") and len(parts) == 1:
        return ()
    if parts[-1] == "mod":
        parts = parts[:-1]
    return tuple(parts)


def strip(text):
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)
    text = re.sub(r'"(?:\\.|[^"\\])*"', '""', text)
    cut = re.search(r"#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{", text)
    return text[: cut.start()] if cut else text


def expand(tree):
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e]."""
    tree = tree.strip()
    m = re.match(r"^([\w:]*?)\{(.*)\}$", tree, re.S)
    if not m:
        return [re.sub(r"\s+as\s+\w+$", "", tree)]
    prefix, inner = m.group(1), m.group(2)
    items, depth, start = [], 0, 0
    for i, ch in enumerate(inner):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(inner[start:i])
            start = i + 1
    items.append(inner[start:])
    out = []
    for item in items:
        if item.strip():
            out += [prefix + p for p in expand(item)]
    return out


def paths_in(text):
    """Every `use` tree's paths, and every other `x::y::z` path."""
    out = []
    for m in re.finditer(r"\buse\s+([^;]+);", text):
        out += expand(m.group(1))
    rest = re.sub(r"\buse\s+[^;]+;", "", text)
    out += re.findall(r"\b(?:crate|super|self|[a-z_][a-z0-9_]*)(?:::\w+)+", rest)
    return [re.sub(r"\s+", "", p) for p in out]


def crate_graph(src):
    texts = {}
    for root, _, files in os.walk(src):
        for f in files:
            if f.endswith(".rs"):
                path = os.path.join(root, f)
                rel = os.path.relpath(path, src)
                if rel.split(os.sep)[0] == "bin":
                    continue
                with open(path, encoding="utf-8") as fh:
                    texts[module_name(rel)] = strip(fh.read())
    modules = set(texts)
    reexports = {}  # (module, name) -> absolute path
    for m, text in texts.items():
        for u in re.finditer(r"\bpub(?:\([^)]*\))?\s+use\s+([^;]+);", text):
            for p in expand(u.group(1)):
                absolute = absolutise(m, p, modules)
                if absolute:
                    reexports[(m, p.split("::")[-1])] = absolute

    def resolve(absolute, seen=0):
        """The module that defines `absolute` (a tuple path)."""
        for n in range(len(absolute), -1, -1):
            if tuple(absolute[:n]) in modules:
                mod, rest = tuple(absolute[:n]), absolute[n:]
                if rest and (mod, rest[0]) in reexports and seen < 8:
                    return resolve(reexports[(mod, rest[0])] + rest[1:], seen + 1)
                return mod
        return None

    edges = {m: set() for m in modules}
    for m, text in texts.items():
        for p in paths_in(text):
            absolute = absolutise(m, p, modules)
            if absolute is None:
                continue
            t = resolve(absolute)
            if t is None or t == m or m[: len(t)] == t:
                continue
            edges[m].add(t)
    return edges


def absolutise(m, p, modules):
    parts = [x for x in p.split("::") if x]
    if not parts:
        return None
    if parts[0] == "crate":
        return tuple(parts[1:])
    if parts[0] in ("self", "super"):
        base = list(m)
        while parts and parts[0] in ("self", "super"):
            if parts.pop(0) == "super":
                if not base:
                    return None
                base.pop()
        return tuple(base + parts)
    if m + (parts[0],) in modules:
        return m + tuple(parts)
    if m == () and (parts[0],) in modules:
        return tuple(parts)
    return None


def cycles(edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
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
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def main():
    crates = sys.argv[1] if len(sys.argv) > 1 else "crates"
    found = 0
    for crate in sorted(os.listdir(crates)):
        src = os.path.join(crates, crate, "src")
        if not os.path.isdir(src):
            continue
        edges = crate_graph(src)
        for comp in cycles(edges):
            found += 1
            names = ["::".join(c) or "(root)" for c in comp]
            inside = {c: sorted("::".join(t) for t in edges[c] if t in comp) for c in comp}
            print(f"{crate}: " + " <-> ".join(names))
            for c in comp:
                print(f"    {'::'.join(c)} -> {', '.join(inside[c])}")
    print(f"{found} circle(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
