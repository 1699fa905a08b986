"""A pytest run of scenario files on a FaultBench, in a subprocess, as a user would start it; and what it left.

The run writes JUnit, the results JSON and the serial logs into `<root>/reports`, like `./run lesson`.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

from tests.faults.pretend_pico import NEW_BUILD_ID

PROJECT_ROOT = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0
DEFAULT_PROVISION_TIMEOUT_S = 3.0


class FaultRun:
    def __init__(self, root: Path, boards: dict[str, str], behaviours: dict[str, str] | None = None,
                 missing_tools: tuple[str, ...] = (), tool_modes: dict[str, str] | None = None,
                 provision_timeout_s: float = DEFAULT_PROVISION_TIMEOUT_S):
        self.root = Path(root)
        (self.root / "scenarios").mkdir(parents=True, exist_ok=True)
        (self.root / "pytest.ini").write_text("[pytest]\n")   # this folder is the run's rootdir
        image = self.root / "lesson.elf"
        image.write_bytes(b"\x7fELF fake lesson image build=" + NEW_BUILD_ID.encode() + b"\n")
        self.settings_path = self.root / "fault-run.json"
        self.settings_path.write_text(json.dumps({
            "root": str(self.root / "bench"), "boards": boards, "behaviours": behaviours or {},
            "missing_tools": list(missing_tools), "tool_modes": tool_modes or {}, "image": str(image),
            "build_id": NEW_BUILD_ID, "provision_timeout_s": provision_timeout_s}))
        self.reports = self.root / "reports"

    def scenario(self, name: str, text: str) -> None:
        """Add scenarios/<name>.yaml; scenarios run in file name order."""
        (self.root / "scenarios" / f"{name}.yaml").write_text(textwrap.dedent(text))

    def argv(self, on_fault_bench: bool = True) -> list[str]:
        plugin = ["-p", "tests.faults.fault_run_plugin"] if on_fault_bench else []
        return [sys.executable, "-m", "pytest", *plugin, "-p", "no:cacheprovider", "-m", "hil",
                f"--junitxml={self.reports / 'junit.xml'}", f"--hil-results={self.reports / 'results.json'}",
                "scenarios"]

    def env(self) -> dict[str, str]:
        return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "HIL_FAULT_RUN": str(self.settings_path),
                "HIL_LOCK_DIR": str(self.root / "locks"), "HIL_BENCH": "", "HIL_RESULTS": ""}

    def start(self) -> subprocess.Popen:
        return subprocess.Popen(self.argv(), cwd=self.root, env=self.env(), stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def start_on_sim(self, sim_dir: Path, bench_file: Path) -> subprocess.Popen:
        """The same run on a simulated bench (a `kind: sim` bench file), its simulator in `sim_dir`."""
        return subprocess.Popen(self.argv(on_fault_bench=False) + [f"--hil-bench={bench_file}"], cwd=self.root,
                                env={**self.env(), "HIL_SIM_DIR": str(sim_dir)}, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def run(self) -> subprocess.CompletedProcess:
        """Run to the end. A run that overstays RUN_TIMEOUT_S is a hang: it is stopped the clean way (SIGTERM, so
        its tools are killed too) and the test fails saying so."""
        proc = self.start()
        try:
            output, _ = proc.communicate(timeout=RUN_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.terminate()
            try:
                output, _ = proc.communicate(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                output, _ = proc.communicate()
            raise AssertionError(f"the run did not end within {RUN_TIMEOUT_S:g} s:\n{output[-3000:]}") from None
        return subprocess.CompletedProcess(proc.args, proc.returncode, output, "")

    # -- what the run left ------------------------------------------------------------------------------------

    def results(self) -> dict:
        return json.loads((self.reports / "results.json").read_text(encoding="utf-8"))

    def claims(self) -> dict[str, dict]:
        return {claim["name"]: claim for claim in self.results()["claims"]}

    def junit_cases(self) -> dict[str, ET.Element]:
        tree = ET.parse(self.reports / "junit.xml")
        return {case.get("name"): case for case in tree.iter("testcase")}

    def serial_logs(self) -> dict[str, Path]:
        """Test log folder name -> the board log in it (one board per scenario here)."""
        return {path.parent.name: path for path in (self.reports / "logs").glob("*/*.log")}
