"""The docs live in the repository and say what the code does: docs/api.md lists exactly the routes of
/api/openapi.json, docs/operations.md names every setting config.py reads and every command app/cli.py registers,
and README.md and docs/ link only to files inside the repository.

Conventions the checks rely on (docs/api.md and docs/operations.md repeat them):
- docs/api.md: one heading `### METHOD /path` per route, the path as the OpenAPI document writes it
  (`{listing_id}` for Flask's `<int:listing_id>`); no other level-3 heading starts with an HTTP method.
- docs/operations.md: every variable in backticks (`NAME`); one heading ``### `group command` `` per command (or
  ``### `command` ``), whose section names each of the command's options and arguments.
- README.md and docs/**/*.md: links are relative and resolve to files (and headings) inside the repository; no
  link has a scheme (http:, file:, ...); every `something.md` they mention exists in the repository.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path
from urllib.parse import unquote

import click
from flask import Flask

from app.cli import register_cli

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
API_DOC, OPERATIONS_DOC = DOCS / "api.md", DOCS / "operations.md"
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
ROUTE_HEADING = re.compile(rf"^### ({'|'.join(METHODS)}) (/\S+)$")
FENCE = re.compile(r"^\s*(```|~~~)")
HEADING = re.compile(r"^(#{1,6}) +(.+?) *#*$")
INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
AUTOLINK = re.compile(r"<([a-zA-Z][a-zA-Z0-9+.-]*:[^>\s]+)>")
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
MD_MENTION = re.compile(r"(?<![\w./-])([\w./-]*\w\.md)\b")
URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://\S+")
OUTSIDE = re.compile(r"\.\./shared\b|/work/")


def prose(text: str) -> str:
    """The text with fenced code blocks blanked (line numbers kept): what Markdown renders as headings and links."""
    lines, fenced = [], False
    for line in text.splitlines():
        if FENCE.match(line):
            fenced = not fenced
            lines.append("")
        else:
            lines.append("" if fenced else line)
    return "\n".join(lines)


def headings(text: str) -> list[tuple[int, str]]:
    """(level, text) of every heading outside code blocks."""
    found = []
    for line in prose(text).splitlines():
        match = HEADING.match(line)
        if match:
            found.append((len(match.group(1)), match.group(2)))
    return found


def slug(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation but `-` and `_` dropped, spaces as hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """Every heading anchor of a Markdown file (a repeated heading gets -1, -2, ...)."""
    seen: dict[str, int] = {}
    out = set()
    for _level, text in headings(path.read_text()):
        base = slug(text)
        count = seen.get(base, 0)
        seen[base] = count + 1
        out.add(base if count == 0 else f"{base}-{count}")
    return out


# (a) docs/api.md and /api/openapi.json list the same routes


def documented_routes(page: Path = API_DOC) -> list[tuple[str, str]]:
    """(METHOD, path) of every `### METHOD /path` heading of docs/api.md, in order."""
    routes = []
    for level, text in headings(page.read_text()):
        if level != 3 or text.split(" ", 1)[0] not in METHODS:
            continue
        match = ROUTE_HEADING.match(f"### {text}")
        assert match, f"docs/api.md: a route heading must be exactly `### METHOD /path`, not {text!r}"
        routes.append((match.group(1), match.group(2)))
    return routes


def served_routes(document: dict) -> set[tuple[str, str]]:
    """(METHOD, path) of every operation in an OpenAPI document."""
    return {(method.upper(), path) for path, item in document["paths"].items() for method in item
            if method.upper() in METHODS}


def test_api_doc_lists_every_route_of_the_openapi_document_and_no_other(client):
    served = served_routes(client.get("/api/openapi.json").get_json())
    documented = documented_routes()
    assert len(served) > 30  # the document really was read
    repeated = sorted({route for route in documented if documented.count(route) > 1})
    assert not repeated, f"docs/api.md documents these routes twice: {repeated}"
    missing = sorted(served - set(documented))
    extra = sorted(set(documented) - served)
    assert not missing, f"routes the app serves that docs/api.md does not document: {missing}"
    assert not extra, f"routes docs/api.md documents that /api/openapi.json does not have: {extra}"


def test_route_headings_ignore_other_headings_and_code_blocks(tmp_path):
    page = tmp_path / "api.md"
    page.write_text("## GET is not a route\n### Booking statuses\n```\n### GET /api/v1/in-code\n```\n"
                    "### GET /api/v1/bookings/{booking_id}\n")
    assert documented_routes(page) == [("GET", "/api/v1/bookings/{booking_id}")]


# (b) docs/operations.md names every environment variable config.py reads


def _is_environ(node: ast.AST) -> bool:
    return (isinstance(node, ast.Attribute) and node.attr == "environ" and isinstance(node.value, ast.Name)
            and node.value.id == "os")


def _reads_environment(call: ast.Call) -> bool:
    """`os.environ.get(...)` or `os.getenv(...)`."""
    func = call.func
    return isinstance(func, ast.Attribute) and (
        (func.attr == "get" and _is_environ(func.value))
        or (func.attr == "getenv" and isinstance(func.value, ast.Name) and func.value.id == "os"))


def _first_arg_name(call: ast.Call) -> str | None:
    arg = call.args[0] if call.args else None
    return arg.id if isinstance(arg, ast.Name) else None


def environment_helpers(tree: ast.AST) -> set[str]:
    """Functions (like config.py's `_int` and `_bool`) that read the variable their first parameter names."""
    helpers = set()
    for function in ast.walk(tree):
        if isinstance(function, ast.FunctionDef) and function.args.args:
            param = function.args.args[0].arg
            if any(isinstance(node, ast.Call) and _reads_environment(node) and _first_arg_name(node) == param
                   for node in ast.walk(function)):
                helpers.add(function.name)
    return helpers


def environment_variables(source: str) -> set[str]:
    """Every variable name a module reads: os.environ.get("X"), os.getenv("X"), os.environ["X"], helper("X")."""
    tree = ast.parse(source)
    helpers = environment_helpers(tree)
    names = set()
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and node.args:
            is_helper = isinstance(node.func, ast.Name) and node.func.id in helpers
            if _reads_environment(node) or is_helper:
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and _is_environ(node.value):
            key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            names.add(key.value)
    return names


def test_operations_doc_names_every_variable_config_reads():
    names = environment_variables((ROOT / "config.py").read_text())
    assert {"APP_CONFIG", "DATABASE_URL", "TEST_DATABASE_URL", "REDIS_URL", "MAIL_PORT", "RATELIMIT_ENABLED",
            "OAUTH_GOOGLE_METADATA_URL"} <= names  # plain reads, _int, _bool, and a call split over lines
    text = OPERATIONS_DOC.read_text()
    missing = sorted(name for name in names if f"`{name}`" not in text)
    assert not missing, f"variables config.py reads that docs/operations.md does not name (in backticks): {missing}"


def test_environment_scan_finds_every_way_of_reading_a_variable():
    source = ("import os\n"
              "def _float(name, default):\n    return float(os.environ.get(name) or default)\n"
              "A = os.environ.get('A')\nB = os.getenv('B', 'x')\nC = os.environ['C']\nD = _float(\n    'D', 1.0)\n"
              "E = settings.get('E')\n")
    assert environment_variables(source) == {"A", "B", "C", "D"}


# (c) docs/operations.md describes every command app/cli.py registers


def registered_commands() -> dict[str, click.Command]:
    """{"group command" or "command": the click command} of everything register_cli adds to `flask`."""
    probe = Flask("abode-cli-probe")
    register_cli(probe)
    commands: dict[str, click.Command] = {}
    for name, command in probe.cli.commands.items():
        if isinstance(command, click.Group):
            commands.update({f"{name} {sub}": subcommand for sub, subcommand in command.commands.items()})
        else:
            commands[name] = command
    return commands


def command_sections(text: str) -> dict[str, str]:
    """{command: the text of its section} for every ``### `command` `` heading of docs/operations.md."""
    sections: dict[str, str] = {}
    current: str | None = None
    for line in prose(text).splitlines():
        match = HEADING.match(line)
        if match:
            title = match.group(2)
            current = title.strip("`") if len(match.group(1)) == 3 and re.fullmatch(r"`[^`]+`", title) else None
            if current is not None:
                sections[current] = ""
        elif current is not None:
            sections[current] += line + "\n"
    return sections


def test_operations_doc_describes_every_command_and_its_options():
    commands = registered_commands()
    assert {"jobs run-due", "payments ledger", "seed", "users create-admin"} <= commands.keys()
    sections = command_sections(OPERATIONS_DOC.read_text())
    missing = sorted(commands.keys() - sections.keys())
    assert not missing, f"commands app/cli.py registers with no ### `command` heading in docs/operations.md: {missing}"
    stale = sorted(name for name in sections.keys() - commands.keys() if not name.startswith("db "))
    assert not stale, f"docs/operations.md describes commands that app/cli.py does not register: {stale}"
    for name, command in commands.items():
        for param in command.params:
            words = param.opts if isinstance(param, click.Option) else [param.human_readable_name.upper()]
            assert any(word in sections[name] for word in words), \
                f"docs/operations.md, section `{name}`, does not mention {' / '.join(words)}"


# (d) README.md and docs/ link only inside the repository


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def link_targets(text: str) -> list[str]:
    """Targets of inline links and images, reference definitions and autolinks, outside code."""
    text = re.sub(r"`[^`\n]*`", "", prose(text))
    return INLINE_LINK.findall(text) + REFERENCE_LINK.findall(text) + AUTOLINK.findall(text)


def link_problem(source: Path, target: str) -> str | None:
    """Why a link of `source` fails: it has a scheme, leaves the repository, or names a missing file or heading."""
    if SCHEME.match(target):
        return "links outside the repository (the docs must stand alone)"
    path_part, _, fragment = target.partition("#")
    path_part = unquote(path_part.split("?", 1)[0])
    if not path_part:
        file = source
    elif path_part.startswith("/"):
        file = (ROOT / path_part.lstrip("/")).resolve()
    else:
        file = (source.parent / path_part).resolve()
    if not file.is_relative_to(ROOT):
        return "resolves outside the repository"
    if not file.exists():
        return "points to a file that does not exist"
    if fragment and file.suffix == ".md" and fragment not in anchors(file):
        return f"points to a heading #{fragment} that {file.relative_to(ROOT)} does not have"
    return None


def test_readme_and_docs_link_only_to_files_inside_the_repository():
    assert (DOCS / "api.md").exists() and (DOCS / "operations.md").exists() and (DOCS / "architecture.md").exists()
    problems = []
    for source in markdown_files():
        text = source.read_text()
        for line_number, line in enumerate(text.splitlines(), 1):
            if OUTSIDE.search(line):
                problems.append(f"{source.relative_to(ROOT)}:{line_number} refers outside the repository: {line}")
        for target in link_targets(text):
            if (problem := link_problem(source, target)) is not None:
                problems.append(f"{source.relative_to(ROOT)}: link {target} {problem}")
    assert not problems, "\n".join(problems)


def test_readme_and_docs_mention_only_markdown_files_that_exist():
    problems = []
    for source in markdown_files():
        for name in MD_MENTION.findall(URL.sub("", source.read_text())):
            candidates = [(source.parent / name).resolve(), (ROOT / name).resolve()]
            if not any(path.is_relative_to(ROOT) and path.exists() for path in candidates):
                problems.append(f"{source.relative_to(ROOT)} mentions {name}, which is not in the repository")
    assert not problems, "\n".join(problems)


def test_readme_links_to_the_docs():
    targets = set(link_targets((ROOT / "README.md").read_text()))
    assert {"docs/api.md", "docs/operations.md", "docs/architecture.md"} <= targets


def test_link_checker_refuses_links_that_leave_the_repository():
    page = DOCS / "api.md"
    assert link_problem(page, "../../shared/API.md") == "resolves outside the repository"
    assert link_problem(page, "https://example.com/") is not None
    assert link_problem(page, "missing.md") == "points to a file that does not exist"
    assert link_problem(page, "#no-such-heading") is not None
    assert link_problem(page, "operations.md#tests") is None
    assert link_targets("[a](b.md) `[c](d.md)`\n```\n[e](f.md)\n```\n[g]: h.md\n<https://x.y>") == [
        "b.md", "h.md", "https://x.y"]
    assert slug("POST /api/v1/payments/{payment_id}/confirm") == "post-apiv1paymentspayment_idconfirm"
    assert slug("`jobs run-due`") == "jobs-run-due"
