"""nftables rules as data, rendered to ``nft -f`` text and applied atomically.

A `Table` is the whole desired content of one nftables table. `render` turns it into a script
that, run by ``nft -f``, replaces the table in one transaction: ``table`` (creates it empty when
missing, so the next line cannot fail), ``delete table``, then the full definition. nft commits a
script as a single netlink batch, so a reader of the ruleset sees either the old table or the new
one, never a half-built one, and conntrack entries of established flows survive the swap.

Rules are kept as tokens (`Rule.match`, `Rule.verdict`) that the callers build from validated
values (`ipaddress` objects, ints, fixed keywords); `render` refuses anything that could escape a
statement (quotes, newlines, semicolons, braces), so text from a pod spec can never inject a rule.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from skiff.network.base import NetworkError
from skiff.network.netns import run

__all__ = [
    "Chain",
    "Rule",
    "Set",
    "Table",
    "add_elements",
    "apply",
    "delete_table",
    "list_tables",
    "render",
    "render_add_elements",
    "render_delete",
]

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$")
_FAMILIES = frozenset({"ip", "ip6", "inet", "arp", "bridge", "netdev"})
# a token may hold an interface name in double quotes ("skiff0") but nothing that ends a statement
_TOKEN = re.compile(r'^(?:"[A-Za-z0-9_.:-]{1,15}"|[A-Za-z0-9_.,:/!=<>@$-]+)$')
_COMMENT = re.compile(r"^[A-Za-z0-9 _.:/=,()-]{0,120}$")


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: match tokens then a verdict/statement, e.g. ``("tcp", "dport", "80")`` +
    ``"dnat to 10.42.0.5:80"``. An optional comment is stored with the rule (``nft list``)."""

    match: tuple[str, ...]
    verdict: str
    comment: str = ""


@dataclass(frozen=True, slots=True)
class Chain:
    """A chain; a base chain when ``type``/``hook`` are set (``priority`` may be a number or a
    standard name such as ``dstnat``/``srcnat``)."""

    name: str
    rules: tuple[Rule, ...] = ()
    type: str | None = None
    hook: str | None = None
    priority: str = "0"
    policy: str | None = None


@dataclass(frozen=True, slots=True)
class Set:
    """A named set, e.g. type ``ipv4_addr . ipv4_addr`` with elements ``"10.42.0.5 . 10.42.0.5"``;
    rules match it with ``@name``. Elements can be added later without replacing the table
    (`add_elements`)."""

    name: str
    type: str
    elements: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Table:
    family: str
    name: str
    chains: tuple[Chain, ...] = field(default_factory=tuple)
    sets: tuple[Set, ...] = field(default_factory=tuple)


def _check_name(kind: str, value: str) -> str:
    if not _NAME.match(value):
        raise NetworkError(f"invalid nftables {kind} name {value!r}")
    return value


def _check_family(family: str) -> str:
    if family not in _FAMILIES:
        raise NetworkError(f"invalid nftables family {family!r}")
    return family


def _check_tokens(text: str) -> str:
    if any(c in text for c in "\n\r;{}#"):
        raise NetworkError(f"refusing nftables text {text!r}")
    tokens = text.split()
    for token in tokens:
        if not _TOKEN.match(token):
            raise NetworkError(f"refusing nftables token {token!r}")
    return " ".join(tokens)


def _render_rule(rule: Rule) -> str:
    parts = [_check_tokens(" ".join(rule.match)), _check_tokens(rule.verdict)]
    text = " ".join(p for p in parts if p)
    if rule.comment:
        if not _COMMENT.match(rule.comment):
            raise NetworkError(f"refusing nftables comment {rule.comment!r}")
        text += f' comment "{rule.comment}"'
    return text


def _render_chain(chain: Chain) -> list[str]:
    lines = [f"\tchain {_check_name('chain', chain.name)} {{"]
    if chain.type is not None or chain.hook is not None:
        if chain.type is None or chain.hook is None:
            raise NetworkError(f"base chain {chain.name!r} needs both a type and a hook")
        head = (
            f"type {_check_name('chain type', chain.type)} hook {_check_name('hook', chain.hook)}"
            f" priority {_check_tokens(chain.priority)};"
        )
        if chain.policy is not None:
            head += f" policy {_check_name('policy', chain.policy)};"
        lines.append(f"\t\t{head}")
    lines.extend(f"\t\t{_render_rule(rule)}" for rule in chain.rules)
    lines.append("\t}")
    return lines


def _render_elements(elements: Sequence[str]) -> str:
    return ", ".join(_check_tokens(e) for e in elements)


def _render_set(item: Set) -> list[str]:
    lines = [f"\tset {_check_name('set', item.name)} {{", f"\t\ttype {_check_tokens(item.type)};"]
    if item.elements:
        lines.append(f"\t\telements = {{ {_render_elements(item.elements)} }}")
    lines.append("\t}")
    return lines


def render(table: Table) -> str:
    """The ``nft -f`` script that replaces ``table`` atomically (see the module docstring)."""
    family = _check_family(table.family)
    name = _check_name("table", table.name)
    lines = [f"table {family} {name}", f"delete table {family} {name}", f"table {family} {name} {{"]
    for item in table.sets:
        lines.extend(_render_set(item))
    for chain in table.chains:
        lines.extend(_render_chain(chain))
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_delete(family: str, name: str) -> str:
    """A script removing the table whether or not it exists (add-then-delete in one batch)."""
    family = _check_family(family)
    name = _check_name("table", name)
    return f"table {family} {name}\ndelete table {family} {name}\n"


async def apply(table: Table, *, netns: str | None = None) -> None:
    """Replace ``table`` in the namespace ``netns`` (None: the current one) in one transaction."""
    await run(["nft", "-f", "-"], netns=netns, stdin=render(table).encode())


def render_add_elements(family: str, table: str, set_name: str, elements: Sequence[str]) -> str:
    """A script adding ``elements`` to a set (already present ones are no error)."""
    family = _check_family(family)
    head = f"add element {family} {_check_name('table', table)} {_check_name('set', set_name)}"
    return f"{head} {{ {_render_elements(elements)} }}\n"


async def add_elements(
    family: str, table: str, set_name: str, elements: Sequence[str], *, netns: str | None = None
) -> None:
    """Add ``elements`` to a set of an existing table, in one transaction."""
    if not elements:
        return
    script = render_add_elements(family, table, set_name, elements)
    await run(["nft", "-f", "-"], netns=netns, stdin=script.encode())


async def delete_table(family: str, name: str, *, netns: str | None = None) -> None:
    """Remove the table (no error when it does not exist)."""
    await run(["nft", "-f", "-"], netns=netns, stdin=render_delete(family, name).encode())


async def list_tables(*, netns: str | None = None) -> list[tuple[str, str]]:
    """``(family, name)`` of every table in the namespace."""
    out = await run(["nft", "list", "tables"], netns=netns)
    tables: list[tuple[str, str]] = []
    for line in out.splitlines():
        words: Sequence[str] = line.split()
        if len(words) == 3 and words[0] == "table":
            tables.append((words[1], words[2]))
    return tables
