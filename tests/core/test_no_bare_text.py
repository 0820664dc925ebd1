"""Every word a person reads goes through the catalogue: no error a person is shown and no chat
block is built from a bare English literal (a string or an f-string with words in it). Read from
every module of bot/core and bot/capabilities with `ast`, so a new one cannot slip in.

What is checked: the message of the errors a person is shown (`UserError` and its kind, a
grammar `ArgError`, a CSV `RowError`, the xAPI validation errors an import reports), the text of
`say`, `Text`, `Header`, `Button` and `Message`, and their `hint=`, `label=` and `summary=`. A call
there is fine (`_()`, `_n()`, `L_()`, `texts.t()`, a helper); a literal with no letters is too
(`"\\n"`, `f"{a}: {b}"`). And a marker's own message must be a literal: `_(f"...")` is never in
the catalogue.
"""

from __future__ import annotations

import ast
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("bot/core", "bot/capabilities")

# Errors whose message a person reads: name -> which positional argument is the message.
ERRORS = {
    "UserError": 0,
    "PermissionDenied": 0,
    "ArgError": 0,
    "ParseError": 0,
    "RowError": 0,
    "InvalidStatement": 1,  # (where, problem)
    "StatementError": 0,
    "StatementConflict": 0,
    "BadBody": 0,
}
# What a reply is built of (bot.core.messages), called by their bare name: `demo.say(who, text)`
# is what a simulated person types, not a reply.
REPLIES = {"say": 0, "Text": 0, "Header": 0, "Button": 0, "Message": 0}
TEXT_KEYWORDS = {"hint", "label", "summary", "text"}
MARKERS = {"_", "_n", "N_", "Np_", "L_"}

# Texts no person reads in chat: (file, constructor, how the literal starts) -> why.
ALLOWED = {
    ("bot/capabilities/completion/xapi.py", "StatementError", "PUT "): "a PUT's parameters: an LMS reads it",
    ("bot/capabilities/completion/xapi.py", "StatementError", "the statement's id"): "a PUT's body: an LMS",
    ("bot/capabilities/completion/xapi_body.py", "BadBody", "multipart/mixed"): "HTTP multipart: an LMS",
    ("bot/capabilities/completion/xapi_body.py", "BadBody", "the first part"): "HTTP multipart: an LMS",
    ("bot/capabilities/completion/xapi_body.py", "BadBody", "every attachment part"): "HTTP multipart",
    ("bot/capabilities/completion/xapi_body.py", "BadBody", "the attachment part"): "HTTP multipart",
    ("bot/capabilities/completion/xapi_body.py", "BadBody", "attachment "): "HTTP attachments: an LMS",
    ("bot/capabilities/completion/xapi_out.py", "Message", "xAPI statement"): "the outbox row of an LRS",
}


@dataclass(frozen=True)
class Bare:
    path: str
    line: int
    call: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.call}({self.text[:70]}...) is not translated"


def _words(text: str) -> bool:
    return any(ch.isalpha() for ch in text)


def literal_text(node: ast.expr) -> str | None:
    """The English a bare expression spells out (None: nothing bare in it). Only the top of an
    expression is looked at: a call gives its own text (`_()`, `texts.t()`, a helper)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value if _words(node.value) else None
    if isinstance(node, ast.JoinedStr):  # an f-string: its words, and {the values} as written
        parts = [v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)]
        shown = "".join(
            v.value if isinstance(v, ast.Constant) else "{" + ast.unparse(v.value) + "}" for v in node.values
        )
        return shown if _words("".join(parts)) else None
    if isinstance(node, ast.BinOp):
        return literal_text(node.left) or literal_text(node.right)
    if isinstance(node, ast.IfExp):
        return literal_text(node.body) or literal_text(node.orelse)
    if isinstance(node, ast.BoolOp):
        return next((t for t in map(literal_text, node.values) if t), None)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return literal_text(node.func.value)  # "...".format(x): the receiver is the text
    return None


def _name(func: ast.expr) -> tuple[str, bool]:
    """A call's name, and whether it was called by its bare name."""
    if isinstance(func, ast.Name):
        return func.id, True
    if isinstance(func, ast.Attribute):
        return func.attr, False
    return "", False


def bare_texts(
    source: str, path: str, allowed: Collection[tuple[str, str, str]] = ALLOWED.keys()
) -> list[Bare]:
    found = []
    for node in ast.walk(ast.parse(source, filename=path)):
        if not isinstance(node, ast.Call):
            continue
        name, bare_name = _name(node.func)
        if name in MARKERS and bare_name:
            if node.args and isinstance(node.args[0], ast.JoinedStr):
                found.append(Bare(path, node.lineno, name, literal_text(node.args[0]) or ""))
            continue
        index = ERRORS.get(name, REPLIES.get(name) if bare_name else None)
        if index is None:
            continue
        texts = [node.args[index]] if len(node.args) > index else []
        texts += [k.value for k in node.keywords if k.arg in TEXT_KEYWORDS]
        for expr in texts:
            text = literal_text(expr)
            if text is not None and not _allowed(allowed, path, name, text):
                found.append(Bare(path, node.lineno, name, text))
    return sorted(found, key=lambda b: b.line)


def _allowed(allowed: Collection[tuple[str, str, str]], path: str, name: str, text: str) -> bool:
    return any((path, name) == (where, call) and text.startswith(start) for where, call, start in allowed)


def scan(root: Path = ROOT, folders: tuple[str, ...] = FOLDERS) -> list[Bare]:
    found = []
    for folder in folders:
        for file in sorted((root / folder).rglob("*.py")):
            found += bare_texts(file.read_text(encoding="utf-8"), file.relative_to(root).as_posix())
    return found


def test_no_bare_english_reaches_a_person() -> None:
    found = scan()
    assert not found, "\n".join(map(str, found))


def test_every_allowance_is_still_used() -> None:
    """An allowance whose literal is gone (translated, or moved) goes too."""
    for where, call, start in ALLOWED:
        everything = bare_texts((ROOT / where).read_text(encoding="utf-8"), where, allowed=())
        assert any(b.call == call and b.text.startswith(start) for b in everything), (where, call, start)


def test_the_check_catches_a_planted_bare_text(tmp_path: Path) -> None:
    planted = tmp_path / "bot" / "capabilities" / "planted"
    planted.mkdir(parents=True)
    (planted / "verbs.py").write_text(
        "from bot.core.errors import UserError, errors\n"
        "from bot.core.i18n import _\n"
        "from bot.core.messages import Text, say\n"
        "\n"
        "def fine(n, cohort, demo):\n"
        '    demo.say("alice", "done module 6")  # what a simulated person types\n'
        '    say(_("Nothing to do in {cohort}.", cohort=cohort) + "\\n" + f"{n}: {cohort}")\n'
        "    raise UserError(_(\"No.\"), hint=texts.t('status.none'))\n"
        "\n"
        "def wrong(n, cohort):\n"
        '    raise UserError("There is no cohort here.")\n'
        '    raise errors.UserError(f"{n} people are named {cohort}")\n'
        '    return say(_("Done.") + f" {n} more.")\n'
        '    Text("Closed" if n else _("Open"))\n'
        '    raise UserError(_("No."), hint="Ask your trainer.")\n'
        '    _(f"Hello {cohort}")\n'
    )
    found = scan(tmp_path, ("bot/capabilities",))
    assert [(b.path, b.line, b.call) for b in found] == [
        ("bot/capabilities/planted/verbs.py", line, call)
        for line, call in (
            (11, "UserError"),
            (12, "UserError"),
            (13, "say"),
            (14, "Text"),
            (15, "UserError"),
            (16, "_"),
        )
    ]
    assert str(found[0]).startswith(
        "bot/capabilities/planted/verbs.py:11: UserError(There is no cohort here."
    )
