"""The plugin's board fixtures: what rust_board / micropython_board / hil_boards provision comes from the hil_artifacts
marker, else --hil-firmware / HIL_FIRMWARE / ini hil_firmware (and the same for deploy), and they borrow through
the run's one lease. The lease is replaced here by one that hands out fake boards and records the provisioning."""
from __future__ import annotations

import textwrap

pytest_plugins = ["pytester"]

FAKE_LEASE = textwrap.dedent("""
    import pytest
    import hil.run_context
    import hil.scenario.artifacts

    class FakeBoard:
        def __init__(self, role, runtime):
            self.role, self.runtime, self.provisioned = role, runtime, []

    class FakeLease:
        def __init__(self, roles):
            self.roles = dict(roles)
            self.boards = {}
        def __enter__(self):
            self.boards = {role: FakeBoard(role, runtime.value) for role, runtime in self.roles.items()}
            return self
        def provision(self, role, artifacts, timeout_s):
            board = self.boards[role]
            if artifacts.firmware is not None:
                board.provisioned.append(("firmware", artifacts.firmware))
            board.provisioned += [("file", board_path) for _local, board_path in artifacts.files]
        def __exit__(self, *exc):
            return None

    @pytest.fixture(autouse=True)
    def fake_lease(monkeypatch):   # undone after each test: the inner runs share this process
        monkeypatch.setattr(hil.run_context.RunContext, "lease",
                            lambda self, roles, nodeid, recorder: FakeLease(roles))
        # firmware references are resolved by Artifacts (tested on their own): here they pass through as text
        monkeypatch.setattr(hil.scenario.artifacts.Artifacts, "firmware", lambda self, reference: "image:" + reference)
""")


def _project(pytester, ini: str) -> None:
    pytester.makeconftest(FAKE_LEASE)
    pytester.makeini("[pytest]\n" + textwrap.dedent(ini))
    for folder, name in (("app", "main.py"), ("lib", "util.py"), ("other", "x.py")):
        (pytester.path / folder).mkdir(exist_ok=True)
        (pytester.path / folder / name).write_text("pass\n")


def test_fixtures_provision_what_the_ini_says(pytester, monkeypatch):
    monkeypatch.delenv("HIL_FIRMWARE", raising=False)
    monkeypatch.delenv("HIL_DEPLOY", raising=False)
    _project(pytester, "hil_firmware = fw-ini\nhil_deploy = app,\n    lib\n")
    pytester.makepyfile("""
        def test_rust(rust_board):
            assert rust_board.provisioned == [("firmware", "image:fw-ini")]

        def test_mpy(micropython_board):
            assert sorted(micropython_board.provisioned) == [("file", "/main.py"), ("file", "/util.py")]
    """)
    pytester.runpytest().assert_outcomes(passed=2)


def test_environment_beats_ini_and_the_option_beats_both(pytester, monkeypatch):
    _project(pytester, "hil_firmware = fw-ini\n")
    pytester.makepyfile("""
        import os
        def test_rust(rust_board):
            assert rust_board.provisioned == [("firmware", "image:" + os.environ["EXPECTED"])]
    """)
    monkeypatch.setenv("HIL_FIRMWARE", "fw-env")
    monkeypatch.setenv("EXPECTED", "fw-env")
    pytester.runpytest().assert_outcomes(passed=1)
    monkeypatch.setenv("EXPECTED", "fw-cli")
    pytester.runpytest("--hil-firmware", "fw-cli").assert_outcomes(passed=1)


def test_the_marker_overrides_the_settings_for_one_test(pytester, monkeypatch):
    monkeypatch.delenv("HIL_FIRMWARE", raising=False)
    monkeypatch.delenv("HIL_DEPLOY", raising=False)
    _project(pytester, "hil_firmware = fw-ini\nhil_deploy = app\n")
    pytester.makepyfile("""
        import pytest

        @pytest.mark.hil_artifacts(firmware="fw-marker")
        def test_rust(rust_board):
            assert rust_board.provisioned == [("firmware", "image:fw-marker")]

        @pytest.mark.hil_artifacts(deploy=["other"])
        def test_mpy(micropython_board):
            assert micropython_board.provisioned == [("file", "/x.py")]

        def test_mpy_default(micropython_board):
            assert micropython_board.provisioned == [("file", "/main.py")]
    """)
    pytester.runpytest().assert_outcomes(passed=3)


def test_a_rust_board_without_firmware_fails_saying_where_to_set_it(pytester, monkeypatch):
    monkeypatch.delenv("HIL_FIRMWARE", raising=False)
    _project(pytester, "")
    pytester.makepyfile("def test_rust(rust_board):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*board 'rust' (rust) needs firmware: set hil_firmware (ini), --hil-firmware*"])


def test_the_factory_borrows_several_boards_with_artifacts_per_role(pytester, monkeypatch):
    monkeypatch.delenv("HIL_FIRMWARE", raising=False)
    monkeypatch.delenv("HIL_DEPLOY", raising=False)
    _project(pytester, "hil_firmware = fw-ini\nhil_deploy = app\n")
    pytester.makepyfile("""
        def test_three(hil_boards):
            boards = hil_boards({"left": "rust", "right": "rust", "mpy": "micropython"},
                                firmware={"right": "fw-right"}, deploy=["lib"])
            assert boards["left"].provisioned == [("firmware", "image:fw-ini")]
            assert boards["right"].provisioned == [("firmware", "image:fw-right")]
            assert boards["mpy"].provisioned == [("file", "/util.py")]

        def test_unprovisioned(hil_boards):
            assert hil_boards({"a": "rust"}, provision=False)["a"].provisioned == []
    """)
    pytester.runpytest().assert_outcomes(passed=2)


def test_a_test_that_uses_a_board_fixture_is_a_hil_test(pytester, monkeypatch):
    monkeypatch.delenv("HIL_DEPLOY", raising=False)
    _project(pytester, "")
    pytester.makepyfile("""
        def test_board(micropython_board):
            pass

        def test_plain():
            pass
    """)
    result = pytester.runpytest("-m", "hil")
    result.assert_outcomes(passed=1, deselected=1)


def test_a_project_fixture_of_the_same_name_overrides_ours_and_is_not_marked_hil(pytester, monkeypatch):
    _project(pytester, "")
    (pytester.path / "conftest.py").write_text((pytester.path / "conftest.py").read_text() + textwrap.dedent("""
        @pytest.fixture
        def micropython_board():
            return "the project's own"
    """))
    pytester.makepyfile("""
        def test_own(micropython_board):
            assert micropython_board == "the project's own"
    """)
    pytester.runpytest("-m", "hil").assert_outcomes(deselected=1)
    pytester.runpytest().assert_outcomes(passed=1)
