"""Documentation checks: numpydoc validation, the gallery examples, and the Sphinx build.

The docstring rules live in ``docs/_docstring_policy.py``, which ``docs/conf.py`` also
uses, so that this test and ``sphinx-build -W`` enforce the same checks.
"""

import ast
import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
EXAMPLES = ROOT / "examples"

HAVE_NUMPYDOC = importlib.util.find_spec("numpydoc") is not None
needs_numpydoc = pytest.mark.skipif(not HAVE_NUMPYDOC, reason="numpydoc validation needs the docs extra")


def _load_policy():
    spec = importlib.util.spec_from_file_location("_docstring_policy", DOCS / "_docstring_policy.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


policy = _load_policy() if HAVE_NUMPYDOC else None
PUBLIC = policy.public_objects() if HAVE_NUMPYDOC else []
KNOWN = sorted(policy.KNOWN_PROBLEMS) if HAVE_NUMPYDOC else []


# --------------------------------------------------------------------------- numpydoc


@needs_numpydoc
def test_public_modules_import():
    missing = policy.missing_modules()
    assert not missing, f"public modules listed in docs/_docstring_policy.py do not import: {missing}"


@needs_numpydoc
def test_every_top_level_name_is_validated():
    import sklearn_l1align

    validated = {path for path, _ in PUBLIC}
    names = [n for n in sklearn_l1align.__all__ if not n.startswith("__")]
    assert {f"sklearn_l1align.{n}" for n in names} <= validated


@needs_numpydoc
def test_api_page_lists_every_public_name_and_module():
    import sklearn_l1align

    entries = {line.strip().lstrip("~") for line in (DOCS / "api.rst").read_text(encoding="utf-8").splitlines()}
    names = [f"sklearn_l1align.{n}" for n in sklearn_l1align.__all__ if not n.startswith("__")]
    missing = [n for n in [*names, *policy.PUBLIC_MODULES] if n not in entries]
    assert not missing, f"docs/api.rst does not list: {missing}"


@pytest.mark.parametrize("path,kind", PUBLIC, ids=[path for path, _ in PUBLIC])
def test_numpydoc_validation(path, kind):
    known = {code for (name, code) in policy.KNOWN_PROBLEMS if name == path}
    unexpected = [(code, msg) for code, msg in policy.problems(path, kind) if code not in known]
    assert not unexpected, f"{path} ({kind}):\n" + "\n".join(f"  {c}: {m}" for c, m in unexpected)


def test_known_docstring_problems_are_still_present():
    """A tabled problem that no longer occurs must leave KNOWN_PROBLEMS, so the table stays true."""
    kinds = dict(PUBLIC)
    stale = []
    for path, code in KNOWN:
        if path not in kinds or code not in {c for c, _ in policy.problems(path, kinds[path])}:
            stale.append((path, code))
    assert not stale, f"remove these from KNOWN_PROBLEMS in docs/_docstring_policy.py: {stale}"


# --------------------------------------------------------------------------- examples

EXAMPLE_FILES = sorted(EXAMPLES.glob("plot_*.py"))


def test_gallery_has_header_and_examples():
    assert (EXAMPLES / "GALLERY_HEADER.rst").is_file()
    assert len(EXAMPLE_FILES) >= 6, [p.name for p in EXAMPLE_FILES]


@pytest.mark.parametrize("path", EXAMPLE_FILES, ids=lambda p: p.name)
def test_example_compiles_and_has_title(path):
    source = path.read_text(encoding="utf-8")
    tree = ast.parse(source, filename=str(path))
    compile(tree, str(path), "exec")
    docstring = ast.get_docstring(tree, clean=False)
    assert docstring, f"{path.name} needs a module docstring with a title (sphinx-gallery)"
    lines = [line for line in docstring.strip("\n").splitlines()]
    # sphinx-gallery's title: an '=' overline, the title, an '=' underline at least as long.
    assert len(lines) >= 3 and set(lines[0]) == {"="} and set(lines[2]) == {"="}, (
        f"{path.name}: the docstring must start with an '='-over-and-underlined title"
    )
    title = lines[1].strip()
    assert title and len(lines[0]) >= len(title) and len(lines[2]) >= len(title), (
        f"{path.name}: the title's over/underline is shorter than the title {title!r}"
    )
    assert any(line.strip() for line in lines[3:]), f"{path.name}: the title needs a description"


# --------------------------------------------------------------------------- Sphinx build


def _build_requested():
    return os.environ.get("L1ALIGN_BUILD_DOCS") == "1" or os.environ.get("CI", "").lower() == "true"


@pytest.mark.slow
@pytest.mark.skipif(not _build_requested(), reason="set L1ALIGN_BUILD_DOCS=1 (or CI=true) to build the docs")
def test_sphinx_build_without_warnings(tmp_path):
    """``sphinx-build -W`` builds the site, running every gallery example."""
    for module in ("sphinx", "numpydoc", "sphinx_gallery", "matplotlib", "sphinx-mathjax-offline"):
        if importlib.util.find_spec(module) is None:
            pytest.fail(f"building the docs needs {module}: pip install '.[docs]'")
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.setdefault("MPLBACKEND", "Agg")
    cmd = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-b", "html",
           str(DOCS), str(tmp_path / "html")]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"sphinx-build failed ({proc.returncode}):\n{output[-20000:]}"
    html = tmp_path / "html"
    assert (html / "auto_examples" / "plot_figure1.html").is_file()
    # Formulas render without a network: MathJax ships with the site, and every page that has
    # math loads that copy, not a CDN's (issue 12: raw TeX where MathJax cannot load).
    assert (html / "_static" / "mathjax" / "tex-chtml.js").is_file()
    with_math = [p for p in html.rglob("*.html") if 'class="math' in p.read_text(encoding="utf-8")]
    assert with_math
    for page in with_math:
        text = page.read_text(encoding="utf-8")
        assert "mathjax/tex-chtml.js" in text and "cdn.jsdelivr" not in text, page.name
