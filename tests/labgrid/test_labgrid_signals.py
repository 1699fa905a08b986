"""The labgrid bench turns SIGTERM into a clean stop only where nothing else does (a `hil` command); in a test run
the plugin's interrupt latch keeps SIGTERM, so a second signal still waits for the files (no coordinator needed)."""
from __future__ import annotations

import signal
import textwrap

import pytest

from hil.bench.bench_factory import open_bench


@pytest.fixture
def bench(tmp_path):
    path = tmp_path / "lab.yaml"
    path.write_text(textwrap.dedent("""\
        kind: labgrid
        coordinator: coord.lab
        boards:
          - {id: mpy-a, runtime: micropython, place: pico-a}
        """))
    return open_bench(str(path))


@pytest.fixture
def sigterm_restored():
    before = signal.getsignal(signal.SIGTERM)
    yield
    signal.signal(signal.SIGTERM, before)


def test_with_sigterm_unhandled_the_bench_stops_cleanly_on_it_and_restores_the_default(bench, sigterm_restored):
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    bench._install_sigterm()
    handler = signal.getsignal(signal.SIGTERM)
    assert callable(handler)
    with pytest.raises(KeyboardInterrupt):
        handler(signal.SIGTERM, None)
    bench._restore_sigterm()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL


def test_a_sigterm_handler_already_there_is_kept(bench, sigterm_restored):
    def latch(signum, frame):
        pass

    signal.signal(signal.SIGTERM, latch)
    bench._install_sigterm()
    assert signal.getsignal(signal.SIGTERM) is latch
    bench._restore_sigterm()
    assert signal.getsignal(signal.SIGTERM) is latch
