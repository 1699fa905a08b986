"""Scenario files as pytest items: `scenarios/**/*.yaml`, each one item marked `hil`, named after its scenario.

A file that fails validation is a collection error showing one line: file:line: key: message.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from hil.errors import (BoardNotFound, ConfigError, HilError, PortVanished, ScenarioSkip, StepFailed,
                        WrongRuntime)
from hil.results.metric import Metric
from hil.scenario.artifacts import Artifacts
from hil.scenario.assertions import evaluate
from hil.scenario.scenario_file import Scenario, load_scenario
from hil.scenario.scenario_runner import ScenarioRunner

SCENARIO_DIR = "scenarios"
SCENARIO_SUFFIXES = (".yaml", ".yml")
LOG_TAIL_CHARS = 3000
RESET_TIMEOUT_S = 30.0
# Errors after which a board is no use for later tests of the run: they fail fast saying why.
BREAKING_ERRORS = (PortVanished, BoardNotFound, WrongRuntime)


def is_scenario_file(path: Path, rootpath: Path) -> bool:
    if path.suffix not in SCENARIO_SUFFIXES:
        return False
    try:
        relative = path.resolve().relative_to(Path(rootpath).resolve())
    except ValueError:
        return False
    return relative.parts[:1] == (SCENARIO_DIR,)


class ScenarioCollectError(Exception):
    pass


class ScenarioFile(pytest.File):
    def collect(self):
        try:
            scenario = load_scenario(self.path, Path(self.config.rootpath))
        except ConfigError as error:
            raise ScenarioCollectError(str(error)) from None
        yield ScenarioItem.from_parent(self, name=scenario.name, scenario=scenario)

    def repr_failure(self, excinfo):
        if excinfo.errisinstance(ScenarioCollectError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


artifacts_key = pytest.StashKey[Artifacts]()


def _artifacts(config: pytest.Config) -> Artifacts:
    """One per process, so each firmware is built (or found up to date) once per run."""
    if artifacts_key not in config.stash:
        config.stash[artifacts_key] = Artifacts(Path(config.rootpath))
    return config.stash[artifacts_key]


class ScenarioItem(pytest.Item):
    def __init__(self, *, scenario: Scenario, **kwargs):
        super().__init__(**kwargs)
        self.scenario = scenario
        self.add_marker(pytest.mark.hil)
        for tag in scenario.tags:
            self.add_marker(tag)
        self.user_properties.append(("hil.claim", scenario.claim))
        self.user_properties.append(("hil.scenario", scenario.name))
        if scenario.lesson:
            self.user_properties.append(("hil.lesson", scenario.lesson))
        if scenario.contradicts_lesson:
            self.user_properties.append(("hil.contradicts_lesson", scenario.contradicts_lesson))

    def reportinfo(self):
        return self.path, 0, f"scenario {self.scenario.name}"

    def _record_metric(self, metric: Metric) -> None:
        from hil.plugin import record_metric
        record_metric(self, metric)

    def _record_assertion(self, record: dict) -> None:
        from hil.plugin import record_assertion
        record_assertion(self, record)

    def _record_evidence(self, kind: str, text: str) -> None:
        from hil.plugin import record_evidence
        record_evidence(self, kind, text)

    def runtest(self) -> None:
        from hil.plugin import record_board, run_context_key
        context = self.config.stash[run_context_key]
        pool = context.pool
        log_dir = context.test_log_dir(self.nodeid)
        acquired = {}
        try:
            # All of a scenario's boards at once or none, so two workers can never each hold one and wait.
            roles = sorted(self.scenario.boards)
            boards = pool.acquire_all([self.scenario.boards[role].runtime for role in roles])
            for role, board in zip(roles, boards):
                acquired[role] = board
                board.switch_log(log_dir / f"{board.board_id}.log")
            runner = ScenarioRunner(self.scenario, acquired, _artifacts(self.config),
                                    self._record_metric, self._record_evidence)
            try:
                for role, spec in self.scenario.boards.items():
                    if spec.provision:
                        elapsed_s = runner.provision(role)
                        self._record_metric(Metric(f"{role}_provision_s", round(elapsed_s, 4), "s", "host",
                                                   acquired[role].board_id))
                runner.run()
            except ScenarioSkip as skip:
                pytest.skip(str(skip))
            except HilError as error:
                self._mark_broken_boards(pool, acquired, error)
                raise
            finally:
                for role, board in acquired.items():
                    record_board(self, {"role": role, **board.describe()})
                    self._attach_log_tail(board)
            self._check_assertions(runner)
        finally:
            for board in acquired.values():
                self._leave_usable(pool, board)
                board.switch_log(None)
                pool.release(board)

    @staticmethod
    def _mark_broken_boards(pool, acquired: dict, error: HilError) -> None:
        """After a breaking error (also when a step wrapped it) the board it names, or else every board of the
        scenario, is marked broken; so is a board the board layer itself gave up on (its provisioning failed)."""
        cause = error.__cause__ if isinstance(error, StepFailed) else error
        if isinstance(cause, BREAKING_ERRORS):
            named = [b for b in acquired.values() if b.board_id == getattr(cause, "board_id", None)]
            for board in named or acquired.values():
                pool.mark_broken(board, str(cause))
        for board in acquired.values():
            if board.state == "broken" and not pool.broken_reason(board.board_id):
                pool.mark_broken(board, board.broken_reason or "broken")

    @staticmethod
    def _leave_usable(pool, board) -> None:
        """A board a scenario halted (a panic claim) is reset for the next test, or marked broken saying why."""
        if board.state != "halted" or not hasattr(board, "reset"):
            return
        try:
            board.reset(RESET_TIMEOUT_S)
        except HilError as error:
            pool.mark_broken(board, f"did not come back from a reset after halting: {error}")

    def _attach_log_tail(self, board) -> None:
        path = board.log.path
        if path and path.exists():
            text = path.read_text(encoding="ascii", errors="replace")
            self._record_evidence(f"serial-{board.board_id}", f"{path}\n{text[-LOG_TAIL_CHARS:]}")

    def _check_assertions(self, runner: ScenarioRunner) -> None:
        outcomes = [evaluate(a, runner.metrics, runner.states()) for a in self.scenario.assertions]
        failed = [o for o in outcomes if o.status == "failed"]
        not_comparable = [o for o in outcomes if o.status == "not-comparable"]
        for outcome in outcomes:
            self._record_evidence(f"assert-line-{outcome.assertion.line}", f"{outcome.status}: {outcome.detail}")
            self._record_assertion(outcome.to_json())
        if failed:
            lines = [f"{self.path}:{o.assertion.line}: {o.assertion.label}: {o.detail}"
                     + (f" (lesson: {o.assertion.raw['published']})" if "published" in o.assertion.raw else "")
                     for o in failed]
            raise ClaimFailed("\n".join(["claim not upheld: " + self.scenario.claim] + lines))
        if not_comparable:
            reasons = "; ".join(f"{o.assertion.label}: {o.detail}" for o in not_comparable)
            pytest.skip(f"not comparable on this bench: {reasons}")

    def repr_failure(self, excinfo):
        if excinfo.errisinstance((HilError, ClaimFailed)):
            return f"{type(excinfo.value).__name__}: {excinfo.value}"
        return super().repr_failure(excinfo)


class ClaimFailed(AssertionError):
    pass

