"""The pytest plugin: options, the `hil` marker, scenario collection, fixtures, and recording of results.

Results flow one way: tests attach metrics, board facts and evidence to their `user_properties` (which pytest's
own --junitxml writes as <properties>, and which pytest-xdist carries from workers to the controller); the
controller turns each finished test's reports into a claim in the results JSON, rewritten after every test, and
renders the HTML report at the end. A run stopped by SIGINT or SIGTERM still ends through pytest's own session
finish, so JUnit and results files are complete and the interrupted test is marked.
"""
from __future__ import annotations

import contextlib
import os
import signal
import sys
from pathlib import Path
from typing import Mapping

import pytest

from hil.errors import ConfigError, HilError, ResultsNotWritable
from hil.results.metric import Metric
from hil.results.pytest_results import ResultsRecorder, record_metric
from hil.run_context import RunContext, run_context_key
from hil.run_settings import SETTINGS, resolve, split_list

DEFAULT_RUN_DIR = Path(".hil") / "last-run"

recorder_key = pytest.StashKey[ResultsRecorder]()
interrupt_latch_key = pytest.StashKey["_InterruptLatch"]()


# -- options ------------------------------------------------------------------------------------------------

def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("hil", "Pico hardware-in-the-loop")
    for setting in SETTINGS.values():
        group.addoption(setting.option, dest=setting.key, default=None,
                        help=f"{setting.help} (env {setting.env}, ini {setting.key})")
        parser.addini(setting.key, setting.help, default=None)


def setting(config: pytest.Config, name: str):
    key = SETTINGS[name].key
    return resolve(name, config.getoption(key), config.getini(key))


def _is_xdist_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "hil: a hardware-in-the-loop test; needs a bench (simulated by default)")
    config.addinivalue_line("markers", "hil_artifacts(firmware=None, deploy=None): what this test's board fixtures "
                                       "provision instead of hil_firmware / hil_deploy")
    bench = setting(config, "bench")
    boards = setting(config, "board").value
    only = [b.strip() for b in boards.split(",") if b.strip()] if boards else None
    if _is_xdist_worker(config):
        run_dir = Path(config.workerinput["hil_run_dir"])
    else:
        results = setting(config, "results").value
        run_dir = Path(results).resolve().parent if results else (Path(config.rootpath) / DEFAULT_RUN_DIR)
    context = RunContext(bench.value, run_dir, only)
    capture = config.pluginmanager.getplugin("capturemanager")
    if capture is not None:
        context.uncaptured = capture.global_and_fixture_disabled
    try:
        context.resolve_bench()  # once per process: a bad bench file stops the run now, with file:line:key
    except ConfigError as error:
        raise pytest.UsageError(f"{error} (bench from {bench.source})") from None
    if not _is_xdist_worker(config):
        try:
            recorder = ResultsRecorder(config, run_dir, setting(config, "results").value,
                                       lambda: _run_facts(config, context))
        except ResultsNotWritable as error:  # say so before any test runs, in one line
            raise pytest.UsageError(f"{error} (results from {setting(config, 'results').source})") from None
        config.stash[recorder_key] = recorder
        config.pluginmanager.register(recorder, "hil-results-recorder")
    config.stash[run_context_key] = context
    if not _is_xdist_worker(config):
        context.forget_broken_boards()
    latch = _InterruptLatch()
    latch.install()
    config.stash[interrupt_latch_key] = latch


class _InterruptLatch:
    """SIGINT and SIGTERM stop the run once; later ones wait until the files are written.

    The first raises KeyboardInterrupt (for SIGTERM too), so pytest ends the session the usual way: teardown, the
    JUnit file, the results file marked interrupted. A second Ctrl-C 50 ms later would otherwise land inside that
    ending and cut the files short; until unconfigure, further signals are noted, not raised. Every wait left is
    bounded by its own deadline, so the run still ends promptly.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.count = 0
        self._previous: dict = {}

    def install(self) -> None:
        try:
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._on_signal)
        except ValueError:  # not in the main thread (embedded use): leave the defaults
            self.restore()

    def _on_signal(self, signum, frame) -> None:
        self.count += 1
        if self.count == 1:
            raise KeyboardInterrupt(signal.Signals(signum).name)
        os.write(2, b"\nhil: interrupted again: finishing the JUnit and results files first\n")

    def restore(self) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node) -> None:
    """xdist controller: every worker writes logs into the controller's run folder."""
    node.workerinput["hil_run_dir"] = str(node.config.stash[run_context_key].run_dir)


def pytest_unconfigure(config: pytest.Config) -> None:
    context = config.stash.get(run_context_key, None)
    try:
        if context is not None:
            context.close()
    finally:
        latch = config.stash.get(interrupt_latch_key, None)
        if latch is not None:
            latch.restore()


# -- scenario collection ------------------------------------------------------------------------------------

def pytest_collect_file(file_path: Path, parent: pytest.Collector):
    from hil.scenario.scenario_items import ScenarioFile, is_scenario_file
    if is_scenario_file(file_path, parent.config.rootpath):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


# -- fixtures -----------------------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def hil_run(pytestconfig: pytest.Config) -> RunContext:
    return pytestconfig.stash[run_context_key]


@pytest.fixture(scope="session")
def bench(hil_run: RunContext):
    """The started bench of this run (simulated by default)."""
    return hil_run.bench


@pytest.fixture(scope="session")
def hil_board_pool(hil_run: RunContext):
    return hil_run.pool


@pytest.fixture
def hil_log_dir(hil_run: RunContext, request: pytest.FixtureRequest) -> Path:
    """This test's folder for serial logs."""
    return hil_run.test_log_dir(request.node.nodeid)


BOARD_FIXTURES = ("rust_board", "micropython_board", "hil_boards")
PROVISION_TIMEOUT_S = 300.0
_FROM_SETTINGS = object()


def pytest_itemcollected(item: pytest.Item) -> None:
    """A test that borrows a board through these fixtures is a hil test (so `-m hil` selects it and its errors read
    as one line); a project's own fixture of the same name, which overrides ours, does not count."""
    if item.get_closest_marker("hil") is None and _uses_our_board_fixture(item):
        item.add_marker(pytest.mark.hil)


def _uses_our_board_fixture(item: pytest.Item) -> bool:
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    for name in BOARD_FIXTURES:
        chain = definitions.get(name)
        if chain and getattr(chain[-1].func, "__module__", None) == __name__:   # the closest definition wins
            return True
    return False


def _test_artifacts(request: pytest.FixtureRequest) -> tuple[str | None, list[str]]:
    """(firmware, deploy) for this test: its hil_artifacts marker, else the settings (option > env > ini)."""
    firmware = setting(request.config, "firmware").value
    deploy = split_list(setting(request.config, "deploy").value)
    marker = request.node.get_closest_marker("hil_artifacts")
    if marker is not None:
        unknown = set(marker.kwargs) - {"firmware", "deploy"}
        if unknown or marker.args:
            raise pytest.UsageError(f"{request.node.nodeid}: hil_artifacts takes firmware= and deploy= only")
        firmware = marker.kwargs.get("firmware", firmware)
        if "deploy" in marker.kwargs:
            deploy = _as_list(marker.kwargs["deploy"])
    return firmware, deploy


def _as_list(value) -> list[str]:
    return split_list(value) if isinstance(value, str) else [str(entry) for entry in value or ()]


def _per_role(value, role: str, default):
    """A fixture argument given once for every role, or as {role: value}."""
    if value is _FROM_SETTINGS:
        return default
    if isinstance(value, Mapping):
        return value.get(role, default)
    return value


@pytest.fixture
def hil_boards(request: pytest.FixtureRequest, hil_run: RunContext):
    """Borrow several boards, or boards with other artifacts: `hil_boards({"left": "rust", "right": "rust"},
    firmware=..., deploy=[...])` returns {role: board}. Each call takes all its boards at once (or none) through
    one BoardLease, provisions them (firmware / deploy given once or as {role: value}; by default the test's
    hil_artifacts marker, else hil_firmware / hil_deploy), and gives them back when the test ends. Ask for every
    board a test needs in one call: two calls can wait on each other's boards across workers."""
    from hil.bench.board_spec import Runtime
    from hil.board.board import ProvisionArtifacts
    from hil.results.pytest_results import ItemRecorder
    from hil.scenario.scenario_items import project_artifacts

    default_firmware, default_deploy = _test_artifacts(request)
    with contextlib.ExitStack() as leases:
        def borrow(roles: Mapping[str, str], firmware=_FROM_SETTINGS, deploy=_FROM_SETTINGS,
                   provision: bool = True) -> dict:
            runtimes = {role: Runtime(runtime) for role, runtime in roles.items()}
            plans: dict[str, ProvisionArtifacts] = {}
            artifacts = project_artifacts(request.config)
            for role, runtime in runtimes.items():
                if not provision:
                    continue
                if runtime == Runtime.RUST:
                    reference = _per_role(firmware, role, default_firmware)
                    if not reference:
                        pytest.fail(f"board {role!r} (rust) needs firmware: set hil_firmware (ini), --hil-firmware "
                                    f"or HIL_FIRMWARE, or @pytest.mark.hil_artifacts(firmware=...)", pytrace=False)
                    plans[role] = ProvisionArtifacts(firmware=artifacts.firmware(str(reference)))
                else:
                    entries = _as_list(_per_role(deploy, role, default_deploy))
                    if entries:
                        plans[role] = ProvisionArtifacts(files=tuple(artifacts.deploy_files(entries)))
            lease = hil_run.lease(runtimes, request.node.nodeid, ItemRecorder(request.node))
            lease.__enter__()
            try:
                for role, plan in plans.items():
                    lease.provision(role, plan, PROVISION_TIMEOUT_S)
            except BaseException:
                if not lease.__exit__(*sys.exc_info()):
                    raise
            leases.push(lease.__exit__)
            return dict(lease.boards)
        yield borrow


@pytest.fixture
def rust_board(hil_boards):
    """A Rust board running the configured firmware (flashed only if it runs another build)."""
    yield hil_boards({"rust": "rust"})["rust"]


@pytest.fixture
def micropython_board(hil_boards):
    """A MicroPython board with the configured files (only changed files are copied)."""
    yield hil_boards({"micropython": "micropython"})["micropython"]


@pytest.fixture
def hil_record(request: pytest.FixtureRequest):
    """Record a metric: hil_record(name, value, unit, clock_domain, board=None)."""
    def record(name: str, value, unit: str, clock_domain: str, board: str | None = None) -> Metric:
        metric = Metric(name, value, unit, clock_domain, board)
        record_metric(request.node, metric)
        return metric
    return record


# -- results ------------------------------------------------------------------------------------------------

def _run_facts(config: pytest.Config, context: RunContext) -> dict:
    """What the results say about the run's bench before any test: its boards, clock domains, tool versions.
    (The bench is not started for this; the workers start it when a test needs it.)"""
    import importlib.metadata
    from hil.deploy.rust_toolchain import compiler_versions
    bench = context.open_bench()
    versions = bench.tool_versions()
    versions["mpremote"] = importlib.metadata.version("mpremote")
    return {"bench": setting(config, "bench").value, "bench_facts": bench.describe(), "tool_versions": versions,
            "compiler_versions": compiler_versions()}


@pytest.hookimpl(trylast=True)   # after pytest's --junitxml has written its file, which is rewritten here
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    recorder = config.stash.get(recorder_key, None)
    if recorder is None:
        return
    interrupted = exitstatus == pytest.ExitCode.INTERRUPTED
    document = recorder.close(interrupted)
    junit_path = getattr(config.option, "xmlpath", None)
    if junit_path and Path(junit_path).is_file():
        from hil.results.junit_file import rewrite_junit
        try:
            rewrite_junit(junit_path, document)
        except ResultsNotWritable as error:   # pytest's file stays as it was, and the run says why
            recorder._cannot_write(error)
    if recorder.write_error is not None and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    report_path = setting(config, "report").value
    if report_path:
        from hil.results.html_report import write_report
        write_report(document, Path(report_path))
    terminal = config.pluginmanager.get_plugin("terminalreporter")
    if terminal is not None:
        for label, path in (("results", recorder.results.path if recorder.results else None),
                            ("report", report_path), ("serial logs", recorder.run_dir / "logs")):
            if path and Path(path).exists():
                terminal.write_line(f"hil {label}: {os.path.abspath(path)}")


def pytest_report_header(config: pytest.Config) -> list[str]:
    bench = setting(config, "bench")
    return [f"hil bench: {bench.value} (from {bench.source})"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A HilError in a hil test is an expected kind of failure: show its message, not a library traceback."""
    report = yield
    if (report.failed and call.excinfo is not None and isinstance(call.excinfo.value, HilError)
            and item.get_closest_marker("hil") is not None):
        report.longrepr = f"{item.nodeid}: {type(call.excinfo.value).__name__}: {call.excinfo.value}"
    return report
