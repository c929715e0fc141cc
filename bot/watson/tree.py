"""A dialog skill's flat `dialog_nodes` list as the tree Watson runs: children by `parent`, siblings in
the order their `previous_sibling` links give."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class SkillNode:
    """One export node with its children in order."""

    raw: dict
    children: list[SkillNode] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The node's `dialog_node` id."""
        return str(self.raw.get("dialog_node"))

    @property
    def type(self) -> str:
        """standard (when absent), folder, frame, slot, event_handler or response_condition."""
        return str(self.raw.get("type") or "standard")


def build_tree(nodes: list[dict]) -> tuple[list[SkillNode], list[str]]:
    """(the root nodes in order, problems: broken links, nodes no chain reaches). Siblings whose
    `previous_sibling` chain is broken keep the export's order after the linked ones."""
    problems: list[str] = []
    by_id: dict[str, SkillNode] = {}
    for raw in nodes:
        if not isinstance(raw, dict) or not raw.get("dialog_node"):
            problems.append(f"a dialog node without a dialog_node id was left out: {str(raw)[:80]}")
            continue
        node = SkillNode(raw)
        if node.id in by_id:
            problems.append(f"{node.id}: a second node with this id was left out")
            continue
        by_id[node.id] = node
    groups: dict[str | None, list[SkillNode]] = {}
    for node in by_id.values():
        parent = node.raw.get("parent")
        if parent is not None and parent not in by_id:
            problems.append(f"{node.id}: its parent {parent} does not exist; kept at the root")
            parent = None
        groups.setdefault(parent, []).append(node)
    for parent, siblings in groups.items():
        ordered = _sibling_order(siblings, problems)
        if parent is None:
            roots = ordered
        else:
            by_id[parent].children = ordered
    return (roots if None in groups else []), problems


def _sibling_order(siblings: list[SkillNode], problems: list[str]) -> list[SkillNode]:
    """The siblings from the one without a previous_sibling along the links; any left over after."""
    after = {}
    for node in siblings:
        after.setdefault(node.raw.get("previous_sibling"), []).append(node)
    ordered: list[SkillNode] = []
    seen: set[str] = set()
    current = after.get(None, [])[:1]
    while current and current[0].id not in seen:
        node = current[0]
        ordered.append(node)
        seen.add(node.id)
        current = after.get(node.id, [])[:1]
    rest = [n for n in siblings if n.id not in seen]
    for node in rest:
        problems.append(f"{node.id}: not reached by the previous_sibling links of its siblings; placed last")
    return ordered + rest
