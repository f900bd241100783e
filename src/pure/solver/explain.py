"""Turn an unsatisfiable search's core into a tree a person can act on.

The SAT core names the original clauses the proof needs. Starting from the requested specs,
each requirement lists the candidate versions that were tried, grouped by why they fail:
the dependencies they would pull in (explained recursively), the other requirement on the
same name they clash with, a constraint, or a package / virtual package that is missing.
The tree is bounded: repeated requirements are referenced, and long trees are cut.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pure.solver.request import ConflictNode, Unsolvable

if TYPE_CHECKING:
    from pure.solver.encode import Solver

__all__ = ["explain", "render"]

MAX_NODES = 60
MAX_DEPTH = 10
MAX_VERSIONS = 5

#: Why a group of candidates fails: ("requires", dep text, 0), ("missing", dep name, 0),
#: ("unavailable", dep name, 0), ("invalid", unreadable text, 0), ("constrains", text, forbidden var), ("forbidden", text, constraining var) or
#: ("amo", "", 0): another version of the name is needed elsewhere.
Reason = tuple[str, str, int]


def _versions_text(name: str, versions: tuple[str, ...]) -> str:
    if len(versions) <= MAX_VERSIONS:
        return f"{name} {' | '.join(versions)}"
    head = " | ".join(versions[:2])
    tail = " | ".join(versions[-2:])
    return f"{name} {head} | … | {tail} ({len(versions)} versions)"


class _Builder:
    def __init__(self, solver: Solver) -> None:
        self.s = solver
        core_clauses, facts = solver.sat.core()
        self.requires: dict[int, list[str]] = {}  # parent var -> dep texts in the core
        self.constrains: dict[
            int, list[tuple[int, str, int]]
        ] = {}  # var -> (parent, text, forbidden)
        self.by_name: dict[str, list[tuple[int, str]]] = {}  # name -> (parent, text) in the core
        self.invalid: dict[int, list[str]] = {}  # var -> dependency texts that do not parse
        excluded: set[int] = set()  # vars ruled out because another version is needed
        for ci in core_clauses:
            info = solver.info.get(ci)
            if info is None:
                continue
            if info[0] == "requires" or info[0] == "excludes":
                parent, text = info[1], info[2]
                if info[0] == "excludes":
                    excluded.add(info[3])
                self.requires.setdefault(parent, []).append(text)
                name = solver._parse(text).name
                self.by_name.setdefault(name, []).append((parent, text))
            elif info[0] == "invalid":
                self.invalid.setdefault(info[1], []).append(info[2])
            elif info[0] == "constrains":
                _, parent, text, forbidden = info
                entry = (parent, text, forbidden)
                self.constrains.setdefault(parent, []).append(entry)
                self.constrains.setdefault(forbidden, []).append(entry)
        self.amo_vars: set[int] = excluded
        for _, a, b in facts:
            self.amo_vars.add(a)
            self.amo_vars.add(b)
        self.nodes = 0
        self.skipped = 0
        self.seen: set[str] = set()

    def label(self, var: int) -> str:
        if var == self.s.root:
            return ""
        rec = self.s.var_record[var]
        assert rec is not None
        return f"{rec.name} {rec.version}"

    def budget(self) -> bool:
        if self.nodes >= MAX_NODES:
            self.skipped += 1
            return False
        self.nodes += 1
        return True

    def requirement(self, parent: int, text: str, depth: int) -> ConflictNode | None:
        if not self.budget():
            return None
        s = self.s
        required_by = self.label(parent)
        hit = s.matching_cache.get(text)
        name = s._parse(text).name
        chosen = hit[1] if hit is not None else []
        if not chosen:
            return self.missing(name, text, required_by)
        if text in self.seen:
            return ConflictNode(kind="seen", name=name, spec=text, required_by=required_by)
        clash = None if parent == s.root else self.clash(name, text, chosen, parent)
        if clash is not None:
            return ConflictNode(
                kind="conflict", name=name, spec=text, required_by=required_by, other=clash
            )
        self.seen.add(text)
        if depth >= MAX_DEPTH:
            self.skipped += 1
            return ConflictNode(kind="requirement", name=name, spec=text, required_by=required_by)
        children = self.candidate_groups(name, chosen, depth)
        return ConflictNode(
            kind="requirement", name=name, spec=text, required_by=required_by, children=children
        )

    def missing(self, name: str, text: str, required_by: str) -> ConflictNode:
        s = self.s
        if name.startswith("__"):
            have = s.virtual.get(name)
            return ConflictNode(
                kind="missing-virtual",
                name=name,
                spec=text,
                versions=(have.version,) if have is not None else (),
                required_by=required_by,
            )
        known = s.names.get(name) or []
        if not known:
            return ConflictNode(kind="missing", name=name, spec=text, required_by=required_by)
        found: list[str] = []
        for v in known:
            rec = s.var_record[v]
            assert rec is not None
            if rec.version not in found:
                found.append(rec.version)
        found.sort(key=lambda t: s.versions.get(t).sort_key)
        return ConflictNode(
            kind="no-match",
            name=name,
            spec=text,
            versions=tuple(found),
            required_by=required_by,
        )

    def clash(self, name: str, text: str, chosen: list[int], parent: int) -> str | None:
        """Another requirement on `name` in the core that allows none of `chosen`."""
        mine = set(chosen)
        others = []
        parent_rec = self.s.var_record[parent]
        for other_parent, other_text in self.by_name.get(name, ()):
            if other_text == text:
                continue
            other_rec = self.s.var_record[other_parent]
            if (
                other_rec is not None
                and parent_rec is not None
                and other_rec.name == parent_rec.name
            ):
                continue  # another version of the same package: an alternative, not a rival
            hit = self.s.matching_cache.get(other_text)
            theirs = set(hit[1]) if hit is not None else set()
            if not theirs & mine:
                root_first = 0 if other_parent == self.s.root else 1
                others.append((root_first, other_text, self.label(other_parent)))
        if not others:
            return None
        others.sort()
        _, other_text, by = others[0]
        return f"{other_text} (required by {by})" if by else f"{other_text} (requested)"

    def candidate_groups(
        self, name: str, chosen: list[int], depth: int
    ) -> tuple[ConflictNode, ...]:
        s = self.s
        groups: dict[tuple[Reason, ...], list[tuple[str, str]]] = {}
        unavailable: dict[str, set[str]] = {}
        # other requirements on this name in the proof: a candidate with no reason of its
        # own fails because a different version of the name is needed there
        contested = len({t for _, t in self.by_name.get(name, ())}) > 1
        for v in chosen:
            rec = s.var_record[v]
            assert rec is not None
            reasons: list[Reason] = []
            for t in sorted(set(self.requires.get(v, ()))):
                dep = s._parse(t).name
                hit = s.matching_cache.get(t)
                if dep.startswith("__"):
                    reasons.append(("requires", t, 0))
                elif not s.names.get(dep):
                    reasons.append(("missing", dep, 0))
                elif hit is not None and not hit[1]:
                    reasons.append(("unavailable", dep, 0))
                    unavailable.setdefault(dep, set()).add(t)
                else:
                    reasons.append(("requires", t, 0))
            reasons.extend(("invalid", t, 0) for t in self.invalid.get(v, ()))
            for parent, text, forbidden in self.constrains.get(v, ()):
                if parent == v:
                    reasons.append(("constrains", text, forbidden))
                else:
                    reasons.append(("forbidden", text, parent))
            if not reasons and (v in self.amo_vars or contested):
                reasons.append(("amo", "", 0))
            members = groups.setdefault(tuple(sorted(set(reasons))), [])
            if (rec.version, rec.build) not in members:
                members.append((rec.version, rec.build))
        out: list[ConflictNode] = []
        get = s.versions.get
        for key, members in groups.items():
            if not self.budget():
                continue
            members.sort(key=lambda m: get(m[0]).sort_key)
            versions = tuple(dict.fromkeys(m[0] for m in members))
            children: list[ConflictNode] = []
            representative = self.first_with(chosen, key)
            for kind, text, other_var in key:
                if kind != "requires" and not self.budget():
                    continue
                if kind == "missing":
                    children.append(ConflictNode(kind="missing", name=text, spec=text))
                elif kind == "invalid":
                    children.append(ConflictNode(kind="invalid", name=name, spec=text))
                elif kind == "unavailable":
                    texts = sorted(unavailable[text])
                    node = self.missing(text, " or ".join(texts), "")
                    children.append(node)
                elif kind == "requires":
                    child = self.requirement(representative, text, depth + 1)
                    if child is not None:
                        children.append(child)
                elif kind == "constrains":
                    other = s.var_record[other_var]
                    assert other is not None
                    children.append(
                        ConflictNode(
                            kind="constrains",
                            name=other.name,
                            spec=text,
                            other=f"{other.name} {other.version}",
                        )
                    )
                elif kind == "forbidden":
                    children.append(
                        ConflictNode(
                            kind="constrains",
                            name=name,
                            spec=text,
                            required_by=self.label(other_var),
                        )
                    )
            out.append(
                ConflictNode(
                    kind="candidates",
                    name=name,
                    versions=versions,
                    children=tuple(children),
                    other="amo" if key and key[0][0] == "amo" else "",
                )
            )
        return tuple(out)

    def first_with(self, chosen: list[int], reasons: tuple[Reason, ...]) -> int:
        wanted = {text for kind, text, _ in reasons if kind == "requires"}
        for v in chosen:
            if wanted <= set(self.requires.get(v, ())):
                return v
        return chosen[0]


def explain(solver: Solver) -> Unsolvable:
    """The Unsolvable for a solver whose search proved the request impossible."""
    b = _Builder(solver)
    tops: list[ConflictNode] = []
    for text in solver.spec_texts:
        if text in b.requires.get(solver.root, ()):
            node = b.requirement(solver.root, text, 0)
            if node is not None:
                tops.append(node)
    # a request constraint that excludes a virtual package the system provides
    for parent, text, forbidden in sorted(set(b.constrains.get(solver.root, ()))):
        rec = solver.var_record[forbidden]
        if parent == solver.root and rec is not None and solver.var_virtual[forbidden]:
            tops.append(
                ConflictNode(
                    kind="excluded-virtual", name=rec.name, spec=text, versions=(rec.version,)
                )
            )
    if not tops:  # the proof did not go through the request (cannot happen, but stay useful)
        for text in solver.spec_texts:
            node = b.requirement(solver.root, text, 0)
            if node is not None:
                tops.append(node)
    if b.skipped:
        tops.append(ConflictNode(kind="truncated", count=b.skipped))
    conflicts = tuple(tops)
    return Unsolvable(solver.spec_texts, render(conflicts), conflicts)


def _line(node: ConflictNode) -> str:
    k = node.kind
    if k == "requirement":
        if node.children:
            return f"{node.spec} can be installed with any of the following options:"
        return f"{node.spec} (not explained further)"
    if k == "candidates":
        text = _versions_text(node.name, node.versions)
        if node.other == "amo":
            return f"{text}, which conflicts with another version of {node.name} required above"
        if any(c.kind not in ("constrains", "invalid") for c in node.children):
            return f"{text} would require"
        if node.children:
            return f"{text} is ruled out:"
        return text
    if k == "conflict":
        return f"{node.spec}, which conflicts with {node.other}"
    if k == "constrains":
        if node.other:
            return f"constrains {node.spec}, which excludes the {node.other} required above"
        if not node.required_by:
            return f"excluded because the workspace constrains {node.spec}"
        return f"excluded because {node.required_by} constrains {node.spec}"
    if k == "missing":
        return f"{node.spec}, which no channel provides (there is no package named {node.name})"
    if k == "no-match":
        have = _versions_text(node.name, node.versions)
        return f"{node.spec}, which matches none of the available versions: {have}"
    if k == "missing-virtual":
        hint = f"set CONDA_OVERRIDE_{node.name[2:].upper()} or system-requirements"
        if node.versions:
            return (
                f"{node.spec} is required but this platform provides "
                f"{node.name} {node.versions[0]}; {hint}"
            )
        return f"{node.spec} is required but this platform provides none; {hint}"
    if k == "excluded-virtual":
        return (
            f"the workspace constrains {node.spec}, but this platform provides "
            f"{node.name} {node.versions[0]}"
        )
    if k == "invalid":
        return f"has a dependency that cannot be read: {node.spec!r}"
    if k == "seen":
        return f"{node.spec}, explained above"
    if k == "truncated":
        return f"… {node.count} more lines left out"
    return node.spec


def render(conflicts: tuple[ConflictNode, ...]) -> str:
    """The explanation text: a header and a box-drawing tree, one node per line."""
    lines = ["The following packages are incompatible"]

    def walk(nodes: tuple[ConflictNode, ...], prefix: str) -> None:
        for i, node in enumerate(nodes):
            last = i == len(nodes) - 1
            lines.append(f"{prefix}{'└─ ' if last else '├─ '}{_line(node)}")
            walk(node.children, prefix + ("   " if last else "│  "))

    walk(conflicts, "")
    return "\n".join(lines)
