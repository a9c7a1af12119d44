"""The user documentation cannot drift from the code: every option and exit code is in the
configuration reference, the README's two commands are the ones CI and the demo run, and every
relative link in the docs reaches a file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kraft_entrypoint import errors, options

ROOT = Path(__file__).resolve().parent.parent.parent
REFERENCE = ROOT / "docs" / "configuration.md"
DOCS = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md"))]


@pytest.mark.parametrize("option", options.OPTIONS, ids=lambda o: o.variable)
def test_every_option_is_in_the_reference(option: options.Option) -> None:
    """Each variable the CLI reads has a row in docs/configuration.md with its flag."""
    rows = [line for line in REFERENCE.read_text().splitlines() if line.startswith(f"| `{option.variable}`")]
    assert rows, f"{option.variable} has no row in {REFERENCE.name}"
    assert option.flag in rows[0]


def test_every_exit_code_is_in_the_reference() -> None:
    """Each exit code of the error hierarchy is a row of the reference's exit-code table."""
    codes = {cls.exit_code for cls in vars(errors).values()
             if isinstance(cls, type) and issubclass(cls, errors.EntrypointError) and cls.exit_code != 1}
    text = REFERENCE.read_text()
    for code in sorted(codes | {130, 143}):
        assert re.search(rf"^\| [^|]*\b{code}\b[^|]* \|", text, re.M), f"exit code {code} is not in the table"


def test_readme_commands_are_what_ci_and_the_demo_run() -> None:
    """The README's test command is exactly what .ci/run runs; its main job is scripts/demo."""
    readme = (ROOT / "README.md").read_text()
    block = readme.split("```sh", 1)[1].split("```", 1)[0]
    commands = [line.strip() for line in block.splitlines() if line.strip() and not line.startswith("#")]
    assert commands == ["scripts/demo", "scripts/test"]
    ci = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line.startswith("exec ")]
    assert ci == ["exec scripts/test"]
    for command in commands:
        assert (ROOT / command).stat().st_mode & 0o111, f"{command} is not executable"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_reach_files(doc: Path) -> None:
    """Every relative link (path part, without #anchor) in the user docs names an existing file."""
    for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", doc.read_text()):
        if re.match(r"^[a-z]+:", target):
            continue
        assert (doc.parent / target).exists(), f"{doc.name} links to {target}, which does not exist"
