"""Scenario files as pytest items: `scenarios/**/*.yaml`, each one item marked `hil`, named after its scenario.

A file that fails validation is a collection error showing one line: file:line: key: message.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from hil.errors import ConfigError, HilError, ScenarioSkip
from hil.results.pytest_results import ItemRecorder
from hil.run_context import run_context_key
from hil.scenario.artifacts import Artifacts
from hil.scenario.assertions import evaluate
from hil.scenario.scenario_file import Scenario, load_scenario
from hil.scenario.scenario_runner import PROVISION_TIMEOUT_S, ScenarioRunner

SCENARIO_DIR = "scenarios"
SCENARIO_SUFFIXES = (".yaml", ".yml")


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


def project_artifacts(config: pytest.Config) -> Artifacts:
    """One per process, so each firmware is built (or found up to date) once per run."""
    if artifacts_key not in config.stash:
        config.stash[artifacts_key] = Artifacts(Path(config.rootpath))
    return config.stash[artifacts_key]


class ScenarioItem(pytest.Item):
    provision_timeout_s = PROVISION_TIMEOUT_S

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

    def runtest(self) -> None:
        context = self.config.stash[run_context_key]
        recorder = ItemRecorder(self)
        roles = {role: spec.runtime for role, spec in self.scenario.boards.items()}
        # The lease takes all of a scenario's boards at once or none, records them, and leaves them usable.
        with context.lease(roles, self.nodeid, recorder) as lease:
            runner = ScenarioRunner(self.scenario, lease.boards, project_artifacts(self.config), recorder.metric,
                                    recorder.evidence)
            try:
                for role, spec in self.scenario.boards.items():
                    if spec.provision:
                        lease.provision(role, runner.artifacts_for(role), self.provision_timeout_s)
                runner.run()
            except ScenarioSkip as skip:
                pytest.skip(str(skip))
            self._check_assertions(runner, recorder)   # before the lease resets a halted board

    def _check_assertions(self, runner: ScenarioRunner, recorder: ItemRecorder) -> None:
        outcomes = [evaluate(a, runner.metrics, runner.states()) for a in self.scenario.assertions]
        failed = [o for o in outcomes if o.status == "failed"]
        not_comparable = [o for o in outcomes if o.status == "not-comparable"]
        for outcome in outcomes:
            recorder.evidence(f"assert-line-{outcome.assertion.line}", f"{outcome.status}: {outcome.detail}")
            recorder.assertion(outcome.to_json())
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

