"""YAML text to plain values, keeping the node tree so that any value can be located later.

Only safe YAML is read (the safe composer, and only the standard scalar tags). Compared with
`yaml.safe_load` this also refuses duplicate keys, bounds how far aliases may expand (a "billion
laughs" file fails at once) and how deep values nest. Values reached through an alias are shared,
not copied, so expansion costs nothing until the limit is checked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from runner.errors import LocatedError, Location
from runner.manifest.wording import quote, show

try:  # libyaml's parser is several times faster; same results
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

#: At most this many values after expanding aliases (a 10,000-task batch has about 100,000).
MAX_VALUES = 1_000_000
#: Deepest nesting of values; a manifest needs fewer than ten levels.
MAX_DEPTH = 64

PathPart = str | int

_TAG = "tag:yaml.org,2002:"
_STR = _TAG + "str"
_MERGE = _TAG + "merge"
_constructor = SafeConstructor()
_SCALARS: dict[str, Callable[[ScalarNode], object]] = {
    _TAG + "null": lambda node: None,
    _TAG + "bool": _constructor.construct_yaml_bool,
    _TAG + "int": _constructor.construct_yaml_int,
    _TAG + "float": _constructor.construct_yaml_float,
    # A date is kept as written: manifests want text, not datetime objects.
    _TAG + "timestamp": lambda node: node.value,
}
_SEQ = _TAG + "seq"
_MAP = _TAG + "map"


@dataclass(frozen=True)
class Document:
    """A parsed manifest: its plain value, the YAML node tree, and the text it came from."""

    file: str
    data: object
    root: Node | None
    text: str

    def node(self, path: Sequence[PathPart]) -> Node | None:
        """The node at `path`, or the deepest existing node on the way there."""
        node = self.root
        for part in path:
            child = _child(node, part) if node is not None else None
            if child is None:
                return node
            node = child
        return node

    def key_node(self, path: Sequence[PathPart], key: str) -> Node | None:
        """The key node of `key` in the mapping at `path`, falling back to the mapping itself."""
        mapping = self.node(path)
        if isinstance(mapping, MappingNode):
            found = _lookup(mapping, key)
            if found is not None:
                return found[0]
        return mapping

    def location(self, path: Sequence[PathPart], *, key: str | None = None) -> Location:
        """The file position of the value at `path` (or of one of its keys), with its key path."""
        node = self.node(path) if key is None else self.key_node(path, key)
        line, column = (node.start_mark.line + 1, node.start_mark.column + 1) if node else (1, 1)
        full = [*path, key] if key is not None else list(path)
        return Location(self.file, line, column, format_path(full))

    def error(
        self, path: Sequence[PathPart], message: str, *, key: str | None = None
    ) -> LocatedError:
        """A LocatedError for the value at `path` (or its key `key`)."""
        return LocatedError(self.location(path, key=key), message)


def format_path(path: Sequence[PathPart]) -> str:
    """`tasks[2].follow_ups[0]`; keys that are not identifiers are quoted: `vars["a b"]`."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part.isidentifier():
            text += f".{part}" if text else part
        else:
            text += f"[{quote(part)}]"
    return text


def parse(file: str, text: str) -> tuple[Document, list[LocatedError]]:
    """Compose and convert `text`; errors are returned, not raised. `data` is None if fatal."""
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as error:
        return Document(file, None, None, text), [_syntax_error(file, text, error)]
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        column = error.position - (text.rfind("\n", 0, error.position) + 1) + 1
        message = f"character #x{error.character:04x} is not allowed in YAML"
        return Document(file, None, None, text), [
            LocatedError(Location(file, line, column), message)
        ]
    except yaml.YAMLError as error:
        return Document(file, None, None, text), [_at_start(file, f"invalid YAML: {error}")]
    except RecursionError:  # only the pure-Python parser gets here
        return Document(file, None, None, text), [_at_start(file, "nested too deeply")]
    if root is None:
        message = "the file is empty; a batch needs at least version, batch and tasks"
        return Document(file, None, None, text), [_at_start(file, message)]
    converter = _Converter(file)
    try:
        data = converter.convert(root)
    except _Abort:
        data = None
    return Document(file, data, root, text), converter.errors


class _Abort(Exception):
    """Conversion cannot go on (an alias bomb, a cycle, too deep); the error is recorded."""


class _Converter:
    def __init__(self, file: str) -> None:
        self.file = file
        self.errors: list[LocatedError] = []
        # id(node) -> (value, size, height): aliases share one conversion.
        self.memo: dict[int, tuple[object, int, int]] = {}
        self.active: set[int] = set()

    def convert(self, root: Node) -> object:
        if isinstance(root, ScalarNode):
            return self.scalar(root)
        value, _, _ = self.collection(root, 1)
        return value

    def collection(self, node: Node, depth: int) -> tuple[object, int, int]:
        key = id(node)
        done = self.memo.get(key)
        if done is not None:
            if depth + done[2] > MAX_DEPTH:
                self.fail(node, f"nested more than {MAX_DEPTH} levels deep (through an alias)")
            return done
        if key in self.active:
            self.fail(node, "an alias refers to a value that contains it (a cycle)")
        if depth > MAX_DEPTH:
            self.fail(node, f"nested more than {MAX_DEPTH} levels deep")
        self.active.add(key)
        if isinstance(node, MappingNode):
            result = self.mapping(node, depth)
        elif isinstance(node, SequenceNode):
            result = self.sequence(node, depth)
        else:  # pragma: no cover - the composer makes only these three kinds
            self.fail(node, "unsupported YAML node")
        self.active.discard(key)
        if result[1] > MAX_VALUES:
            self.fail(
                node,
                f"aliases expand this value to {result[1]:,} values; at most {MAX_VALUES:,} "
                "are allowed",
            )
        self.memo[key] = result
        return result

    def sequence(self, node: SequenceNode, depth: int) -> tuple[object, int, int]:
        if node.tag != _SEQ:
            self.unsupported_tag(node)
        items: list[object] = []
        size, height = 1, 1
        for child in node.value:
            if child.__class__ is ScalarNode:
                items.append(self.scalar(child))
                size += 1
            else:
                value, child_size, child_height = self.collection(child, depth + 1)
                items.append(value)
                size += child_size
                height = max(height, child_height + 1)
        return items, size, height

    def mapping(self, node: MappingNode, depth: int) -> tuple[object, int, int]:
        if node.tag != _MAP:
            self.unsupported_tag(node)
        result: dict[str, object] = {}
        first_seen: dict[str, ScalarNode] = {}
        merged: list[dict[str, object]] = []
        size, height = 1, 1
        for key_node, value_node in node.value:
            if value_node.__class__ is ScalarNode:
                value: object = self.scalar(value_node)
                size += 1
            else:
                value, child_size, child_height = self.collection(value_node, depth + 1)
                size += child_size
                height = max(height, child_height + 1)
            if key_node.tag == _MERGE:
                merged.extend(self.merge_sources(value_node, value))
                continue
            if key_node.__class__ is not ScalarNode:
                self.error(key_node, "a key must be plain text, not a list or mapping")
                continue
            name = key_node.value
            first = first_seen.get(name)
            if first is not None:
                self.error(
                    key_node,
                    f"duplicate key {quote(name)} (first at line {first.start_mark.line + 1}); "
                    "YAML keeps only one of them",
                )
            else:
                first_seen[name] = key_node
            result[name] = value
        if merged:
            # Explicit keys win over merged ones; earlier merge sources win over later ones.
            combined: dict[str, object] = {}
            for source in merged:
                for name, value in source.items():
                    combined.setdefault(name, value)
            combined.update(result)
            result = combined
        return result, size, height

    def merge_sources(self, node: Node, value: object) -> list[dict[str, object]]:
        if isinstance(value, dict):
            return [value]
        if isinstance(value, list) and all(isinstance(item, dict) for item in value):
            return list(value)
        self.error(node, "a merge key (<<) takes a mapping or a list of mappings")
        return []

    def scalar(self, node: ScalarNode) -> object:
        tag = node.tag
        if tag == _STR:
            return node.value
        construct = _SCALARS.get(tag)
        if construct is None:
            self.unsupported_tag(node)
            return None  # refused: the schema then rejects it, at the same position
        try:
            return construct(node)
        except (ValueError, yaml.YAMLError):
            self.error(node, f"{node.value!r} is not a valid {tag.removeprefix(_TAG)}")
            return node.value

    def unsupported_tag(self, node: Node) -> None:
        tag = node.tag.replace(_TAG, "!!", 1) if node.tag.startswith(_TAG) else node.tag
        self.error(node, f"unsupported YAML tag {show(tag)}; manifests use plain values only")

    def error(self, node: Node, message: str) -> None:
        mark = node.start_mark
        self.errors.append(
            LocatedError(Location(self.file, mark.line + 1, mark.column + 1), message)
        )

    def fail(self, node: Node, message: str) -> None:
        self.error(node, message)
        raise _Abort


def _child(node: Node, part: PathPart) -> Node | None:
    if isinstance(node, SequenceNode) and isinstance(part, int):
        return node.value[part] if 0 <= part < len(node.value) else None
    if isinstance(node, MappingNode) and isinstance(part, str):
        found = _lookup(node, part)
        return found[1] if found is not None else None
    return None


def _lookup(
    node: MappingNode, key: str, seen: frozenset[int] = frozenset()
) -> tuple[Node, Node] | None:
    """The key and value nodes of `key`: the mapping's own (the last, as conversion keeps it),
    else the first mapping merged in with `<<` that has it."""
    found: tuple[Node, Node] | None = None
    sources: list[Node] = []
    for key_node, value_node in node.value:
        if key_node.tag == _MERGE:
            sources.extend(
                value_node.value if isinstance(value_node, SequenceNode) else [value_node]
            )
        elif isinstance(key_node, ScalarNode) and key_node.value == key:
            found = (key_node, value_node)
    if found is not None:
        return found
    for source in sources:
        if isinstance(source, MappingNode) and id(source) not in seen:
            hit = _lookup(source, key, seen | {id(node)})
            if hit is not None:
                return hit
    return None


def _syntax_error(file: str, text: str, error: yaml.MarkedYAMLError) -> LocatedError:
    mark = error.problem_mark or error.context_mark
    problem = error.problem or "invalid YAML"
    context = error.context or ""
    if mark is not None and _char_at(text, mark.line, mark.column) == "\t":
        message = "a tab character here; YAML indents with spaces only"
    elif "expected a single document" in problem + context:
        message = "a second YAML document; a manifest is one document (remove the ---)"
    else:
        message = f"invalid YAML: {problem}"
        if context:
            where = f" (line {error.context_mark.line + 1})" if error.context_mark else ""
            message += f", {context}{where}"
    if mark is None:
        return _at_start(file, message)
    return LocatedError(Location(file, mark.line + 1, mark.column + 1), message)


def _char_at(text: str, line: int, column: int) -> str:
    lines = text.split("\n", line + 1)
    return lines[line][column : column + 1] if line < len(lines) else ""


def _at_start(file: str, message: str) -> LocatedError:
    return LocatedError(Location(file, 1, 1), message)
