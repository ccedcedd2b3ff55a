#!/usr/bin/env python3
"""Docs that cannot drift from the code (README.md and docs/*.md).

  snippets   Every ```cpp block, and every C++ code span on an "**Example:**" line, is compiled:
             this writes them into one translation unit, each behind a #line directive that points
             at the doc, and CMake compiles it (target livefour-doc-snippets). A block says how it
             is compiled with the comment on the line before it:
               <!-- snippet: program -->       a whole program (its #includes are hoisted)
               <!-- snippet: declarations -->  namespace-scope code (functions, types)
               <!-- snippet: statements -->    statements, run inside a coroutine where the names
                                               of snippet_prelude.hpp (client, diag, req, reply,
                                               opts, ioc, ...) are in scope
               <!-- snippet: synopsis -->      a listing of declarations: every declaration in it
                                               must appear, token for token, in a public header
             A block without the comment is an error: a new snippet cannot escape the check.
  coverage   Every member of the option structs (parsed from the headers) has its heading in
             docs/options.md, every enumerator of the error enums is in docs/errors.md, and the
             flags that `livefour --help` and each command's help print are exactly the flags of
             the option table in docs/cli.md (and the environment variables it names are there).
  examples   Every ```console block is run, in order, in one directory, against a
             livefour-emulator started with --digits 4821, with the credentials (LIVEFOUR_* and
             TENCENTCLOUD_*), LIVEFOUR_ENDPOINT and LIVEFOUR_CA_FILE of docs/cli.md's set-up in
             the environment; every line after a
             `$ command` is its expected stdout+stderr, where "…" matches any text. Any other code
             block that runs the `livefour` command is an error unless the comment before it says
             <!-- not-run: why -->.
  selftest   The checks above, fed doctored input, must fail.

Run by ctest (docs-snippets, docs-coverage, docs-cli-examples, docs-selftest); see
test/CMakeLists.txt.
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

MARKER = re.compile(r"^<!--\s*(snippet|not-run):\s*(.*?)\s*-->\s*$")
KINDS = ("program", "declarations", "statements", "synopsis")


def doc_files(root):
    return [root / "README.md"] + sorted((root / "docs").glob("*.md"))


class Block:
    def __init__(self, path, fence_line, info, lines, marker):
        self.path, self.fence_line, self.info, self.lines, self.marker = path, fence_line, info, lines, marker

    @property
    def first_line(self):  # 1-based line number of the block's first code line
        return self.fence_line + 1

    def where(self, offset=0):
        return f"{self.path}:{self.first_line + offset}"


def blocks_of(path, rel):
    """Fenced blocks with their info string and the marker comment on the nearest line above."""
    out, lines = [], path.read_text(encoding="utf-8").split("\n")
    i = 0
    while i < len(lines):
        m = re.match(r"^(\s*)```(\S*)\s*$", lines[i])
        if not m:
            i += 1
            continue
        j = i - 1
        while j >= 0 and not lines[j].strip():
            j -= 1
        marker = MARKER.match(lines[j].strip()) if j >= 0 else None
        k = i + 1
        while k < len(lines) and not re.match(r"^\s*```\s*$", lines[k]):
            k += 1
        out.append(Block(rel, i + 1, m.group(2), lines[i + 1:k], marker))
        i = k + 1
    return out


# ---------------------------------------------------------------------------------------------
# snippets

TOKEN = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|[A-Za-z_]\w*|\d[\w.\']*|\S')


def strip_comments(code):
    out, i, n = [], 0, len(code)
    while i < n:
        if code.startswith("//", i):
            while i < n and code[i] != "\n":
                i += 1
        elif code.startswith("/*", i):
            e = code.find("*/", i + 2)
            i = n if e < 0 else e + 2
        elif code[i] in "\"'":
            q, j = code[i], i + 1
            while j < n and code[j] != q:
                j += 2 if code[j] == "\\" else 1
            out.append(code[i:j + 1])
            i = j + 1
        else:
            out.append(code[i])
            i += 1
    return "".join(out)


def tokens(code):
    text = "\n".join(line for line in strip_comments(code).split("\n") if not line.lstrip().startswith("#"))
    toks = TOKEN.findall(text)
    # What a listing may write differently without saying anything else: asio:: for boost::asio::,
    # no livefour:: inside the library's own names, no attributes ([[nodiscard]]), no trailing
    # comma before a closing brace.
    out, i = [], 0
    while i < len(toks):
        if toks[i:i + 4] == ["boost", ":", ":", "asio"] or toks[i:i + 3] == ["livefour", ":", ":"]:
            i += 3
            continue
        if toks[i:i + 2] == ["[", "["]:
            i = toks.index("]", i) + 2
            continue
        if toks[i] == "," and i + 1 < len(toks) and toks[i + 1] == "}":
            i += 1
            continue
        out.append(toks[i])
        i += 1
    return out


def declarations(code):
    """The code's pieces at nesting depth 0 of (), [] and <...> in a declaration: split after
    every ';', '{' and '}'. Trivial pieces (punctuation only) are dropped."""
    pieces, cur, depth = [], [], 0
    for t in tokens(code):
        if t == ":" and cur and cur[-1] in ("public", "private", "protected") and len(cur) == 1:
            cur = []  # an access specifier starts the next piece
            continue
        cur.append(t)
        if t in "([":
            depth += 1
        elif t in ")]":
            depth -= 1
        elif t in ";{}" and depth == 0:
            if any(re.match(r"\w", x) for x in cur):
                pieces.append(cur)
            cur = []
    if any(re.match(r"\w", x) for x in cur):
        pieces.append(cur)
    return pieces


def public_headers(root):
    """The public headers: include/livefour/*.hpp and the API 3.0 ones in include/livefour/faceid/."""
    base = root / "include" / "livefour"
    return sorted(base.glob("*.hpp")) + sorted((base / "faceid").glob("*.hpp"))


def header_text(root):
    return " " + " ".join(tokens("\n".join(p.read_text(encoding="utf-8") for p in public_headers(root)))) + " "


def check_synopsis(block, headers):
    errors = []
    for piece in declarations("\n".join(block.lines)):
        body = piece[:-1] if piece[-1] in ";{" else piece
        if " " + " ".join(body) + " " not in headers:
            errors.append(f"{block.where()}: synopsis: not in the public headers: {' '.join(piece)}")
    return errors


def example_spans(path, rel):
    """(line, code) of the C++ code spans on "**Example:**" lines: those that hold a ';'."""
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if "**Example:**" in line:
            out += [(n, span) for span in re.findall(r"`([^`]+)`", line) if ";" in span]
    return out


def emit_snippets(root, out_path):
    errors, parts, includes, headers = [], [], [], header_text(root)
    count = {k: 0 for k in KINDS + ("example span",)}
    for path in doc_files(root):
        rel = path.relative_to(root).as_posix()
        for b in blocks_of(path, rel):
            if b.info != "cpp":
                continue
            if not b.marker or b.marker.group(1) != "snippet" or b.marker.group(2) not in KINDS:
                errors.append(f"{b.where(-1)}: a ```cpp block needs <!-- snippet: KIND --> on the line before "
                              f"it (KIND: {', '.join(KINDS)})")
                continue
            kind = b.marker.group(2)
            count[kind] += 1
            n = len(parts)
            if kind == "synopsis":
                errors += check_synopsis(b, headers)
                continue
            code = list(b.lines)
            if kind == "program":
                includes += [f'#line {b.first_line + i} "{rel}"\n{l}' for i, l in enumerate(code) if l.startswith("#include")]
                code = ["" if l.startswith("#include") else l for l in code]
            body = f'#line {b.first_line} "{rel}"\n' + "\n".join(code) + "\n"
            if kind == "statements":
                body = "SNIPPET_COROUTINE {\n{\n" + body + "}\nco_return;\n}\n"
            # A program must stand on its own: it does not see snippet_env's stand-ins. Its main()
            # sits in a namespace, where falling off the end is not an implicit `return 0`.
            env = "" if kind == "program" else "using namespace snippet_env;\n"
            text = f"namespace snippet_{n} {{\n{env}{body}}}  // namespace snippet_{n}\n"
            if kind == "program":
                text = ('#pragma GCC diagnostic push\n#pragma GCC diagnostic ignored "-Wreturn-type"\n' + text +
                        "#pragma GCC diagnostic pop\n")
            parts.append(text)
        for line, span in example_spans(path, rel):
            count["example span"] += 1
            n = len(parts)
            parts.append(f"namespace snippet_{n} {{\nusing namespace snippet_env;\nSNIPPET_COROUTINE {{\n{{\n"
                         f'#line {line} "{rel}"\n{span}\n}}\nco_return;\n}}\n}}  // namespace snippet_{n}\n')
    text = ("// Generated by test/docs/check_docs.py from README.md and docs/*.md: do not edit.\n"
            '#include "snippet_prelude.hpp"\n' + "\n".join(includes) + "\n\n" + "\n".join(parts))
    Path(out_path).write_text(text, encoding="utf-8")
    print("docs snippets: " + ", ".join(f"{v} {k}" for k, v in count.items()) + f" -> {out_path}")
    return errors


# ---------------------------------------------------------------------------------------------
# coverage

def struct_members(text, name):
    """The data members of `struct name { ... };` in header text."""
    m = re.search(r"\bstruct\s+" + name + r"\b[^{;]*\{", text)  # also `struct a : b {`
    if not m:
        return None
    depth, i, start = 1, m.end(), m.end()
    while depth:
        depth += {"{": 1, "}": -1}.get(text[i], 0)
        i += 1
    body = strip_comments(text[start:i - 1])
    # Statements at depth 0: braces hold initializers ({10}) or function bodies, which end a
    # statement without a ';'.
    members, stmt, d = [], "", 0
    for ch in body:
        if ch in "{}":
            d += 1 if ch == "{" else -1
            if d == 0 and ch == "}" and "(" in stmt:
                members.append(stmt.strip())
                stmt = ""
        elif d == 0 and ch == ";":
            members.append(stmt.strip())
            stmt = ""
        elif d == 0:
            stmt += ch
    names = []
    for s in members:
        if not s or re.match(r"(static|using|friend|template|typedef)\b", s):
            continue
        top, a = "", 0  # the statement outside <...>
        for ch in s:
            a += {"<": 1, ">": -1}.get(ch, 0)
            top += ch if a == 0 else " "
        if "(" in top.split("=")[0]:
            continue  # a member function
        decl = re.split(r"[={]", top)[0]
        ids = re.findall(r"[A-Za-z_]\w*", decl)
        if ids:
            names.append((ids[-1], decl[:decl.rfind(ids[-1])].strip()))
    return names


# (header, struct) -> the prefix docs/options.md writes before its members ("" = the member's bare
# name). A struct type listed here is documented member by member, not as a member itself. The
# faceid client's own members have headings of their own (`faceid::client_options::region`), so
# that a legacy heading of the same name (`endpoint`) cannot stand in for them.
OPTION_STRUCTS = [
    ("options.hpp", "connection_options", ""), ("options.hpp", "client_options", ""),
    ("secret.hpp", "credentials", "creds."), ("signer.hpp", "signer_options", "signing."),
    ("options.hpp", "tls_options", "tls."), ("options.hpp", "timeouts", "timeout."),
    ("options.hpp", "pool_options", "pool."),
    ("options.hpp", "proxy_options", "proxy."), ("retry.hpp", "retry_policy", "retry."),
    ("types.hpp", "decision_policy", ""),
    ("faceid/options.hpp", "client_options", "faceid::client_options::"),
    ("faceid/options.hpp", "credentials", "faceid::credentials::"),
    ("faceid/types.hpp", "decision_policy", "faceid::decision_policy::"),
]


def check_options(root):
    errors, checked = [], 0
    struct_names = {struct for _, struct, _ in OPTION_STRUCTS}
    headings = [l for l in (root / "docs" / "options.md").read_text(encoding="utf-8").split("\n") if l.startswith("#")]
    for header, struct, prefix in OPTION_STRUCTS:
        path = root / "include" / "livefour" / header
        members = struct_members(path.read_text(encoding="utf-8"), struct) if path.exists() else None
        if not members:
            errors.append(f"coverage: struct {struct} not found in include/livefour/{header}")
            continue
        for name, typ in members:
            if typ.split("::")[-1] in struct_names:
                continue  # documented member by member
            checked += 1
            if not any(f"`{prefix}{name}`" in h for h in headings):
                errors.append(f"coverage: docs/options.md has no heading for `{prefix}{name}` ({header}: {struct}::{name})")
    return errors, checked


def enumerators(text, enum):
    m = re.search(r"enum\s+class\s+" + enum + r"\b[^{]*\{(.*?)\};", text, re.S)
    return re.findall(r"^\s*([a-z_0-9]+)\s*(?:=|,)", strip_comments(m.group(1)), re.M) if m else None


def check_errors(root):
    errors, checked = [], 0
    text = (root / "include" / "livefour" / "error.hpp").read_text(encoding="utf-8")
    doc = (root / "docs" / "errors.md").read_text(encoding="utf-8")
    for enum in ("api_error", "client_error", "condition"):
        names = enumerators(text, enum)
        if not names:
            errors.append(f"coverage: enum class {enum} not found in error.hpp")
            continue
        for name in names:
            checked += 1
            if f"`{name}`" not in doc:
                errors.append(f"coverage: docs/errors.md does not name {enum}::{name}")
    return errors, checked


def help_flags(text):
    flags = set()
    for line in text.split("\n"):
        m = re.match(r"^\s+(-\w, )?(--[a-z][\w-]*)", line)
        if m:
            flags.add(m.group(2))
            if m.group(1):
                flags.add(m.group(1)[:2])
    return flags


def check_cli(root, cli):
    errors = []
    top = subprocess.run([cli, "--help"], capture_output=True, text=True, check=True).stdout
    cmds = re.findall(r"^  ([a-z][\w-]*(?: [a-z][\w-]*)?)  ", top.split("commands:")[1].split("\n\n")[0], re.M)
    if not cmds:
        return ["coverage: `livefour --help` lists no commands"], 0
    flags = help_flags(top)
    for c in cmds:
        flags |= help_flags(subprocess.run([cli, *c.split(), "--help"], capture_output=True, text=True, check=True).stdout)
    doc = (root / "docs" / "cli.md").read_text(encoding="utf-8")
    table = set()
    for line in doc.split("\n"):
        if line.startswith("| `-"):
            table |= set(re.findall(r"`(--?[a-zA-Z][\w-]*)", line.split("|")[1]))
    for f in sorted(flags - table):
        errors.append(f"coverage: `livefour` has {f} (--help) but docs/cli.md's option table does not")
    for f in sorted(table - flags):
        errors.append(f"coverage: docs/cli.md's option table has {f}, which `livefour --help` does not")
    for c in cmds:
        if f"livefour {c} " not in doc:
            errors.append(f"coverage: docs/cli.md never shows `livefour {c}`")
    # "environment: A, B,\n  C (faceid)": the line and its indented continuation lines.
    env = re.search(r"^environment: (.*(?:\n  .*)*)", top, re.M)
    for var in (re.findall(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b", env.group(1)) if env else []):
        if var not in doc:
            errors.append(f"coverage: --help names {var}, docs/cli.md does not")
    return errors, len(flags)


# ---------------------------------------------------------------------------------------------
# examples

RUNS_CLI = re.compile(r"(^|;|\||&&|\$\()\s*(\$ )?livefour(\s|$)")  # `livefour` in a command's place


def expected_matches(expected, actual):
    pattern = ".*".join(re.escape(part) for part in expected.split("…"))
    return re.fullmatch(pattern, actual) is not None


def parse_console(block):
    """[(offset, command, [expected lines])] of a console block."""
    steps = []
    for i, line in enumerate(block.lines):
        if line.startswith("$ "):
            steps.append((i, line[2:], []))
        elif steps:
            steps[-1][2].append(line)
        elif line.strip():
            raise ValueError(f"{block.where(i)}: console output before the first `$ ` command")
    return steps


def run_console(block, cwd, env):
    steps = parse_console(block)
    script = ["__status=0"]
    for n, (_, cmd, _) in enumerate(steps):
        script += [f"echo '@@step {n}'", f"(exit $__status); {{ {cmd}\n}} 2>&1; __status=$?"]
    r = subprocess.run(["bash", "-c", "\n".join(script)], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    outputs = re.split(r"^@@step \d+\n", r.stdout, flags=re.M)[1:]
    errors = []
    for (offset, cmd, expected), actual in zip(steps, outputs):
        got = actual.rstrip("\n").split("\n") if actual.rstrip("\n") else []
        exp = [l.rstrip() for l in expected]
        while exp and not exp[-1]:
            exp.pop()
        if len(got) != len(exp) or not all(expected_matches(e, g.rstrip()) for e, g in zip(exp, got)):
            errors.append(f"{block.where(offset)}: `{cmd}` printed\n    " + "\n    ".join(got or ["(nothing)"]) +
                          "\n  where the doc says\n    " + "\n    ".join(exp or ["(nothing)"]))
    if len(outputs) != len(steps):
        errors.append(f"{block.where()}: the block stopped early: {r.stderr.strip()}")
    return errors, len(steps)


def check_examples(root, cli, emulator):
    errors, ran = [], 0
    work = Path(tempfile.mkdtemp(prefix="livefour-doc-examples-"))
    emu = None
    try:
        env = dict(os.environ, LIVEFOUR_APPID="1250000000", LIVEFOUR_SECRET_ID="AKIDEXAMPLE",
                   LIVEFOUR_SECRET_KEY="SECRETKEYEXAMPLE", TENCENTCLOUD_SECRET_ID="AKIDEXAMPLE",
                   TENCENTCLOUD_SECRET_KEY="SECRETKEYEXAMPLE",
                   PATH=f"{Path(cli).resolve().parent}:{Path(emulator).resolve().parent}:{os.environ.get('PATH', '')}")
        env.pop("TENCENTCLOUD_SESSION_TOKEN", None)  # docs/cli.md's set-up has long-term keys
        emu = subprocess.Popen([emulator, "--port", "0", "--write-ca", str(work / "ca.pem"), "--digits", "4821",
                                "--quiet"], stdout=subprocess.PIPE, text=True, env=env)
        m = re.search(r"listening on [^ ]*:(\d+)", emu.stdout.readline())
        if not m:
            return ["examples: the emulator did not start"], 0
        env.update(LIVEFOUR_ENDPOINT=f"https://127.0.0.1:{m.group(1)}", LIVEFOUR_CA_FILE=str(work / "ca.pem"))
        for path in doc_files(root):
            rel = path.relative_to(root).as_posix()
            for b in blocks_of(path, rel):
                if b.info == "console":
                    e, n = run_console(b, work, env)
                    errors += e
                    ran += n
                    continue
                if b.info == "cpp" or (b.marker and b.marker.group(1) == "not-run"):
                    continue
                for i, line in enumerate(b.lines):
                    if RUNS_CLI.search(line.split("#")[0]):
                        errors.append(f"{b.where(i)}: runs `livefour` but is not a ```console block (add "
                                      f"<!-- not-run: why --> if it must not run)")
                        break
    finally:
        if emu:
            emu.send_signal(signal.SIGTERM)
            emu.wait(timeout=15)
        shutil.rmtree(work, ignore_errors=True)
    return errors, ran


# ---------------------------------------------------------------------------------------------
# selftest: each check, fed a doctored input, must fail

def selftest():
    headers = " " + " ".join(tokens("struct decision_policy { int threshold = 70; bool require_comparison = false; };\n"
                                    "template <class T>\nauto f(T&& token = {}) { return 1; }")) + " "
    good = Block("t.md", 1, "cpp", ["struct decision_policy {", "    int threshold = 70;", "};",
                                    "template <class T> auto f(T&& token = {});"], None)
    bad = Block("t.md", 1, "cpp", ["struct decision_policy {", "    int threshold = 75;  // drifted", "};"], None)
    assert check_synopsis(good, headers) == [], check_synopsis(good, headers)
    assert len(check_synopsis(bad, headers)) == 1
    assert expected_matches('{"sim":…,"photo":"/9j/…"}', '{"sim":87,"photo":"/9j/4AAQ"}')
    assert not expected_matches("verdict: accepted (sim …)", "verdict: not accepted: sim 55 < threshold 70")
    names = struct_members("struct s { int a = 1; std::function<void(int)> b; static s c(); std::vector<int> d{1, 2}; };", "s")
    assert [n for n, _ in names] == ["a", "b", "d"], names
    assert [n for n, _ in struct_members("struct t : base { int x; };", "t")] == ["x"]  # a derived struct
    assert enumerators("enum class e : int {\n    one = 1,  ///< x\n    two,\n};", "e") == ["one", "two"]
    assert help_flags("  -v, --verbose   x\n      --seq S  y\n") == {"-v", "--verbose", "--seq"}
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / "x.md"
        p.write_text("text\n\n```cpp\nint x;\n```\n<!-- snippet: statements -->\n```cpp\nx = 1;\n```\n", encoding="utf-8")
        bs = blocks_of(p, "x.md")
        assert bs[0].marker is None and bs[1].marker.group(2) == "statements"
    print("docs selftest: every check fails on doctored input")
    return []


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("check", choices=["snippets", "coverage", "examples", "selftest"])
    ap.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[2])
    ap.add_argument("--out", help="snippets: the translation unit to write")
    ap.add_argument("--cli", help="coverage, examples: the livefour binary")
    ap.add_argument("--emulator", help="examples: the livefour-emulator binary")
    a = ap.parse_args()
    if a.check == "snippets":
        errors = emit_snippets(a.root, a.out)
    elif a.check == "coverage":
        errors, n1 = check_options(a.root)
        e2, n2 = check_errors(a.root)
        e3, n3 = check_cli(a.root, a.cli)
        errors += e2 + e3
        print(f"docs coverage: {n1} options, {n2} error enumerators, {n3} CLI flags")
    elif a.check == "examples":
        errors, n = check_examples(a.root, a.cli, a.emulator)
        print(f"docs examples: {n} commands run")
    else:
        errors = selftest()
    for e in errors:
        print(e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
