"""One BoardLease for every borrower: what it records, when it marks a board broken, how it leaves boards usable;
and the fixtures and the scenario items both borrow through it."""
from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from hil.bench.bench import Bench
from hil.bench.board_spec import BoardSpec, Runtime
from hil.board.board import Board, BoardState, ProvisionArtifacts
from hil.board.board_lease import BoardLease
from hil.board.board_pool import BoardPool
from hil.errors import BoardBroken, BoardStateError, PortVanished, StepFailed, StepTimeout

PROJECT_ROOT = Path(__file__).resolve().parents[2]
pytest_plugins = ["pytester"]


class ListBench(Bench):
    name = "list"

    def __init__(self, runtimes: dict[str, str]):
        self.specs = [BoardSpec(board_id, runtime, serial_number=f"SN-{board_id}")
                      for board_id, runtime in runtimes.items()]

    def locate_port(self, spec, timeout_s):
        raise PortVanished("none", spec.board_id, timeout_s)

    def attached(self):
        return []

    def device_clock_domain(self, runtime):
        return "device"


class FakeBoard(Board):
    """A board whose provision, reset and answers are scripted; it never opens a port."""

    def __init__(self, spec, bench, reset_works=True):
        super().__init__(spec, bench)
        self.runtime = spec.runtime
        self.reset_works = reset_works
        self.resets = 0

    def provision(self, artifacts, timeout_s, progress=None):
        self.set_state(BoardState.READY)
        return type("Report", (), {"elapsed_s": 0.0})()

    def reset(self, timeout_s):
        self.resets += 1
        if not self.reset_works:
            raise StepTimeout("banner", b"", None, timeout_s, self.board_id)
        self.set_state(BoardState.UNKNOWN)

    def is_responsive(self, timeout_s):
        return self.state == BoardState.READY


class ListRecorder:
    def __init__(self):
        self.metrics, self.boards, self.texts = [], [], {}

    def metric(self, metric):
        self.metrics.append(metric)

    def board(self, facts):
        self.boards.append(facts)

    def evidence(self, kind, text):
        self.texts[kind] = text


@pytest.fixture
def pool(tmp_path):
    bench = ListBench({"r0": "rust", "m0": "micropython"})
    made = {}

    def make(spec):
        made[spec.board_id] = FakeBoard(spec, bench, reset_works=spec.board_id != "m0")
        return made[spec.board_id]
    pool = BoardPool(bench, tmp_path / "locks", make, broken_dir=tmp_path / "broken")
    pool.made = made
    yield pool
    pool.close()


ROLES = {"rust": Runtime.RUST, "mpy": Runtime.MICROPYTHON}


def test_a_lease_provisions_records_and_releases(pool, tmp_path):
    recorder = ListRecorder()
    with BoardLease(pool, ROLES, tmp_path / "logs", recorder, acquire_timeout_s=2) as lease:
        lease.provision("rust", ProvisionArtifacts(), 5.0)
        assert {role: b.board_id for role, b in lease.boards.items()} == {"rust": "r0", "mpy": "m0"}
    assert [(m.name, m.unit, m.clock_domain, m.board) for m in recorder.metrics] == [
        ("rust_provision_s", "s", "host", "r0")]
    assert sorted((f["role"], f["id"], f["state"]) for f in recorder.boards) == [
        ("mpy", "m0", "unknown"), ("rust", "r0", "ready")]
    assert sorted(recorder.texts) == ["serial-m0", "serial-r0"]   # each board's log tail, from the lease's log
    # released: another lease gets both at once
    with BoardLease(pool, ROLES, None, ListRecorder(), acquire_timeout_s=0.5) as again:
        assert len(again.boards) == 2


def test_a_halted_board_is_reset_on_release_and_stays_usable(pool):
    with BoardLease(pool, {"rust": Runtime.RUST}, None, ListRecorder()) as lease:
        lease.provision("rust", ProvisionArtifacts(), 5.0)
        lease.boards["rust"].note_unresponsive(None)
    board = pool.made["r0"]
    assert board.resets == 1 and board.state == BoardState.UNKNOWN and pool.broken_reason("r0") is None


def test_a_halted_board_that_does_not_come_back_is_marked_broken_saying_why(pool):
    with BoardLease(pool, {"mpy": Runtime.MICROPYTHON}, None, ListRecorder()) as lease:
        lease.boards["mpy"].note_unresponsive(None)
    assert "did not come back from a reset after halting" in pool.broken_reason("m0")
    with pytest.raises(BoardBroken, match="did not come back"):
        BoardLease(pool, {"mpy": Runtime.MICROPYTHON}, None, ListRecorder(), acquire_timeout_s=0.5).__enter__()


def test_an_error_that_names_a_vanished_board_marks_only_that_board(pool):
    with pytest.raises(StepFailed):
        with BoardLease(pool, ROLES, None, ListRecorder()):
            try:
                raise PortVanished("/dev/x", "m0", 1.0)
            except PortVanished as vanished:
                raise StepFailed("s.yaml", 3, "step 1", "gone") from vanished
    assert "m0" in pool.broken_reason("m0") and pool.broken_reason("r0") is None


def test_an_error_that_says_nothing_about_the_board_marks_nothing(pool):
    with pytest.raises(StepTimeout):
        with BoardLease(pool, ROLES, None, ListRecorder()):
            raise StepTimeout("never", b"", None, 1.0, "r0")
    assert pool.broken_reason("r0") is None and pool.broken_reason("m0") is None


def test_a_board_that_gave_itself_up_is_marked_in_the_shared_pool(pool):
    with BoardLease(pool, {"rust": Runtime.RUST}, None, ListRecorder()) as lease:
        lease.boards["rust"].mark_broken("provisioning failed: ToolMissing")
    assert pool.broken_reason("r0") == "provisioning failed: ToolMissing"


def test_a_board_may_not_leave_halted_without_a_reset(pool):
    board = FakeBoard(pool.bench.specs[0], pool.bench)
    board.note_unresponsive(None)
    with pytest.raises(BoardStateError, match="cannot go from halted to ready"):
        board.set_state(BoardState.READY)
    board.reset(1.0)
    board.set_state(BoardState.READY)
    board.mark_broken("x")
    with pytest.raises(BoardStateError, match="cannot go from broken to unknown"):
        board.set_state(BoardState.UNKNOWN)


def test_the_fixtures_and_the_scenario_items_borrow_through_the_same_lease(pytester, monkeypatch):
    """Both go through RunContext.lease: with it replaced by one that refuses, both fail with its message."""
    pytester.makeconftest(textwrap.dedent("""
        import hil.run_context
        from hil.errors import HilError

        def refusing_lease(self, roles, nodeid, recorder):
            raise HilError("LEASE " + ",".join(f"{role}={runtime}" for role, runtime in sorted(roles.items())))

        hil.run_context.RunContext.lease = refusing_lease
    """))
    pytester.makepyfile(test_fixture="def test_uses_a_board(micropython_board):\n    pass\n")
    scenarios = pytester.path / "scenarios"
    scenarios.mkdir()
    (scenarios / "s.yaml").write_text(textwrap.dedent("""\
        scenario: leased
        claim: a scenario borrows its boards through the lease
        boards:
          rust: {runtime: rust, provision: false}
        steps:
          - {on: rust, command: ping}
    """))
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(PROJECT_ROOT), os.environ.get("PYTHONPATH")])))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--rootdir", str(pytester.path),
                                           str(pytester.path / "test_fixture.py"), str(scenarios / "s.yaml"))
    result.assert_outcomes(errors=1, failed=1)
    text = result.stdout.str()
    assert "LEASE micropython=micropython" in text and "LEASE rust=rust" in text


def test_deadline_poll_returns_the_first_truthy_answer_or_the_last_one_at_the_deadline():
    from hil.deadline import Deadline
    answers = iter([None, None, {"reason": "panic"}])
    assert Deadline(5.0).poll(lambda: next(answers), 0.001) == {"reason": "panic"}
    calls = []
    assert Deadline(0.05).poll(lambda: calls.append(1), 0.01) is None
    assert len(calls) >= 2   # first try and one at the deadline at least
