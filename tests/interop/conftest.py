"""Fixtures of the interop suite: a fixture home per test, with hfguard installed in it the
way a user has it (`~/.local/bin/hfguard`), and a Secret Service of its own or none."""

import os
import re
import shutil
import subprocess

import pytest

from home import Home, hfguard_bin, install_binary

os.umask(0o022)  # a user's usual umask: clients that rely on it write 0644 files


@pytest.fixture(scope="session")
def hfguard_copy(tmp_path_factory):
    """The binary under test, stripped once (hard-linked into each home afterwards)."""
    source = hfguard_bin()
    assert source.is_file(), f"{source} does not exist: build it (./scripts/test does)"
    dest = tmp_path_factory.mktemp("bin") / "hfguard"
    if subprocess.run(["strip", "-o", str(dest), str(source)], capture_output=True).returncode:
        shutil.copy2(source, dest)
    return dest


def _make_home(tmp_path, request, keyring, binary):
    root = tmp_path / "home"
    root.mkdir(mode=0o750)
    root.chmod(0o750)  # a home is usually 0755 or 0750
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    name = re.sub(r"[^A-Za-z0-9]+", "-", request.node.name)[:40]
    h = Home(root, scratch, name, keyring=keyring, binary=None)
    if binary is not None:
        h.bin = install_binary(h, binary)
    return h


@pytest.fixture
def home(tmp_path, request, hfguard_copy):
    """A home with a Secret Service (the test session's gnome-keyring)."""
    return _make_home(tmp_path, request, True, hfguard_copy)


@pytest.fixture
def headless_home(tmp_path, request, hfguard_copy):
    """A home where no Secret Service answers (an SSH session to a GPU box)."""
    return _make_home(tmp_path, request, False, hfguard_copy)


@pytest.fixture
def bare_home(tmp_path, request):
    """A home with a Secret Service and no hfguard installed in it."""
    return _make_home(tmp_path, request, True, None)


# ---- the interop matrix (matrix.py) ---------------------------------------------------------

_outcomes: dict[str, str] = {}
_rows: list = []  # (nodeid, matrix marker), in collection order


def pytest_addoption(parser):
    parser.addoption("--matrix", metavar="FILE",
                     help="write the interop matrix (Markdown) to FILE, or between its markers")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "matrix(scenario, *clients): this test is a row of the interop matrix"
    )


def pytest_collection_modifyitems(session, config, items):
    _rows.extend((i.nodeid, i.get_closest_marker("matrix")) for i in items if i.get_closest_marker("matrix"))


def pytest_runtest_logreport(report):
    if report.failed:
        _outcomes[report.nodeid] = "**FAIL**"
    elif report.when == "call":
        _outcomes.setdefault(report.nodeid, "pass")


def pytest_terminal_summary(terminalreporter, config):
    import matrix

    rows = [(m.args[0], list(m.args[1:]), _outcomes[n]) for n, m in _rows if n in _outcomes]
    if not rows:
        return
    text = matrix.table(rows)
    terminalreporter.write_sep("=", "interop matrix")
    terminalreporter.write(text)
    if config.getoption("--matrix"):
        matrix.write(config.getoption("--matrix"), text)
