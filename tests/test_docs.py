"""The README and the docs site's sources: a short README whose links resolve, a navigation whose
pages exist, and the browser check's test for an empty page (the browser run itself is
`.ci/docs.sh`, in CI after the test passes)."""

import importlib.util
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _read(*parts):
    with open(os.path.join(ROOT, *parts), encoding="utf-8") as f:
        return f.read()


def _docs_check():
    spec = importlib.util.spec_from_file_location("docs_check", os.path.join(ROOT, ".ci", "docs_check.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_is_a_ten_minute_read_that_starts_with_the_two_commands():
    readme = _read("README.md")
    assert len(readme.split()) <= 2000  # what `wc -w README.md` counts
    first_block = readme.split("```")[1]
    commands = [line for line in first_block.splitlines() if line.strip() and not line.startswith("bash\n")]
    assert first_block.startswith("bash\n") and len(commands) == 3  # "bash", then commands A and B
    assert "# A:" in first_block and "# B:" in first_block


def test_readme_links_point_to_files_that_exist():
    readme = _read("README.md")
    links = re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", readme)
    local = [link for link in links if "://" not in link]
    assert local, "expected the README to link to its reports and docs pages"
    missing = [link for link in local if not os.path.exists(os.path.join(ROOT, link))]
    assert not missing


def test_every_page_in_the_navigation_exists():
    pages = re.findall(r"^\s*-\s+(?:[^:\n]+:\s+)?(\S+\.md)\s*$", _read("mkdocs.yml"), flags=re.M)
    assert len(pages) > 20
    assert not [p for p in pages if not os.path.exists(os.path.join(ROOT, "docs", p))]


def test_the_research_pages_include_every_report():
    nav = _read("mkdocs.yml")
    reports = sorted(f for f in os.listdir(os.path.join(ROOT, "reports")) if f.endswith(".md"))
    assert not [r for r in reports if f"reports/{r}" not in nav]


@pytest.mark.parametrize(
    "dom, problem",
    [
        ("<html><body><article><h1>Title</h1><p>" + "words " * 60 + "</p></article></body></html>", None),
        ("<html><body><article><h1>Title</h1><p>too short</p></article></body></html>", "empty page"),
        ("<html><body><article><p>" + "words " * 60 + "</p></article></body></html>", "no heading"),
        ("<html><body><main><h1>Title</h1>" + "words " * 60 + "</main></body></html>", "no <article>"),
        # Text after the article does not count towards it.
        ("<html><body><article><h1>T</h1><img src=x></article><p>" + "words " * 60 + "</p></body></html>",
         "empty page"),
    ],
)
def test_the_browser_check_finds_empty_pages(dom, problem):
    found = _docs_check().article_problem(dom)
    if problem is None:
        assert found is None
    else:
        assert found is not None and problem in found


def test_the_contributing_pages_example_experiment_follows_the_protocol(monkeypatch):
    """The one-file experiment in docs/contributing.md registers against the current protocol
    (its config and smoke variant validate) and plans the runs it says; nothing is trained."""
    from keras_seminar.experiments import _protocol

    code = re.search(r"```python\n(# experiments/width\.py\n.*?)```", _read("docs", "contributing.md"), re.S)
    assert code, "expected the example experiment in docs/contributing.md"
    monkeypatch.setattr(_protocol, "_REGISTRY", dict(_protocol._REGISTRY))  # no trace in other tests
    exec(compile(code.group(1), "docs/contributing.md", "exec"), {"__name__": "contributing_example"})
    experiment = _protocol._REGISTRY["width"]
    smoke = experiment.config_for("smoke")
    assert experiment.arms(smoke) == [{"width": 64}, {"width": 256}]
    assert experiment.total(smoke, list(range(smoke.seeds))) == 4
