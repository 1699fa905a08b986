"""The package as a user gets it: a wheel built from this repository, pip-installed into a fresh virtualenv, used
in an empty folder outside the repository (`hil init`, a MicroPython module of the user's own and a pytest test
calling it on `micropython_board`, then `pytest -m hil` on the simulated bench, which installs its npm packages
into a fresh per-user cache on first use). Nothing here can import the repository's sources."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hil.deploy.firmware_build import latest_build

pytestmark = pytest.mark.slow

REPO_ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT_S = 300.0
INSTALL_TIMEOUT_S = 300.0
RUN_TIMEOUT_S = 300.0

USER_MODULE = "def triple(x):\n    return 3 * x\n"
USER_TEST = """\
def test_triple_on_the_board(micropython_board):
    result = micropython_board.exec("import mathx\\nprint(mathx.triple(14))", timeout_s=10)
    assert result.stderr == ""
    assert result.stdout.strip() == "42"
"""
USER_RUST_TEST = """\
def test_firmware_answers(rust_board):
    assert rust_board.command("ping", timeout_s=5).group(0).startswith("OK")
"""


def _run(argv, cwd, env, timeout_s) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout_s)


@pytest.fixture(scope="module")
def user_env(tmp_path_factory):
    """A fresh virtualenv with only the wheel (and its pinned dependencies) installed; the environment to run it in."""
    root = tmp_path_factory.mktemp("wheel-user")
    assert not root.is_relative_to(REPO_ROOT)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "HIL_SIM_DIR", "HIL_BENCH",
                                                            "HIL_FIRMWARE", "HIL_DEPLOY", "HIL_RESULTS")}
    env["HIL_CACHE_DIR"] = str(root / "user-cache")   # a user who never ran the simulator
    built = _run([sys.executable, "-m", "build", "--outdir", str(root / "dist"), str(REPO_ROOT)], root, env,
                 BUILD_TIMEOUT_S)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    wheel, = (root / "dist").glob("pico_hil-*.whl")
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=INSTALL_TIMEOUT_S)
    installed = _run([str(venv / "bin" / "pip"), "install", "-q", "--disable-pip-version-check", str(wheel)], root,
                     env, INSTALL_TIMEOUT_S)
    assert installed.returncode == 0, installed.stderr[-3000:]
    where = _run([str(venv / "bin" / "python"), "-c", "import hil; print(hil.__file__)"], root, env, 30)
    assert Path(where.stdout.strip()).is_relative_to(venv), where.stdout   # the wheel's copy, not the checkout
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    return venv, env, root


@pytest.fixture(scope="module")
def user_project(user_env):
    venv, env, root = user_env
    project = root / "project"
    project.mkdir()
    init = _run([str(venv / "bin" / "hil"), "init"], project, env, 30)
    assert init.returncode == 0, init.stderr
    (project / "micropython" / "mathx.py").write_text(USER_MODULE)
    (project / "tests" / "test_mathx.py").write_text(USER_TEST)
    return project


def test_a_micropython_module_of_the_user_passes_on_micropython_board(user_env, user_project):
    venv, env, _root = user_env
    run = _run([str(venv / "bin" / "pytest", ), "-m", "hil", "-p", "no:cacheprovider"], user_project, env,
               RUN_TIMEOUT_S)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert "hil: installing the simulator's npm packages" in output   # first use, in the fresh user cache
    assert "tests/test_mathx.py ." in output and "scenarios/example.yaml ." in output
    assert "3 passed" in output

    # The same test fails when the module is wrong (the new file is deployed, only it).
    (user_project / "micropython" / "mathx.py").write_text(USER_MODULE.replace("3 * x", "3 * x + 1"))
    wrong = _run([str(venv / "bin" / "pytest"), "-m", "hil", "-p", "no:cacheprovider", "tests/test_mathx.py"],
                 user_project, env, RUN_TIMEOUT_S)
    assert wrong.returncode == 1 and "assert '43' == '42'" in wrong.stdout, wrong.stdout[-4000:]
    (user_project / "micropython" / "mathx.py").write_text(USER_MODULE)


def test_a_firmware_image_of_the_user_runs_on_rust_board(user_env, user_project):
    build = latest_build("lesson")
    if build is None:
        pytest.skip("no stored firmware build to stand for the user's image: run `hil build` (./run does)")
    venv, env, _root = user_env
    (user_project / "firmware").mkdir(exist_ok=True)
    shutil.copyfile(build.image.elf_path, user_project / "firmware" / "app.elf")
    (user_project / "tests" / "test_rust.py").write_text(USER_RUST_TEST)
    run = _run([str(venv / "bin" / "pytest"), "-m", "hil", "-p", "no:cacheprovider", "tests/test_rust.py",
                "--hil-firmware", "firmware/app.elf"], user_project, env, RUN_TIMEOUT_S)
    assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
    assert "1 passed" in run.stdout
