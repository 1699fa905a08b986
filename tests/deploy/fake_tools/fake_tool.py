"""A stand-in for probe-rs or picotool in failure-mode tests: prints what its script says, for each subcommand.

Installed on PATH under the tool's name by tests/deploy/conftest.py. Behaviour comes from the JSON file named by
FAKE_TOOL_SCRIPT: {"<tool> <subcommand>": [step, step, ...]} where each step is
{"stdout": str, "stderr": str, "rc": int, "sleep_s": float}; successive calls take successive steps (the last
one repeats). Every call appends its argv as one JSON line to FAKE_TOOL_LOG.
"""
import json
import os
import sys
import time

tool = globals().get("TOOL_NAME") or os.path.basename(sys.argv[0])
args = sys.argv[1:]
subcommand = "--version" if args[:1] == ["--version"] else (args[0] if args else "")
key = f"{tool} {subcommand}"

with open(os.environ["FAKE_TOOL_LOG"], "a") as log:
    log.write(json.dumps([tool, *args]) + "\n")

with open(os.environ["FAKE_TOOL_SCRIPT"]) as f:
    script = json.load(f)
steps = script.get(key, [{"stderr": f"fake: no script for {key!r}\n", "rc": 2}])
counter_path = os.environ["FAKE_TOOL_LOG"] + "." + key.replace(" ", "_").replace("/", "_") + ".count"
try:
    with open(counter_path) as f:
        calls = int(f.read())
except OSError:
    calls = 0
with open(counter_path, "w") as f:
    f.write(str(calls + 1))
step = steps[min(calls, len(steps) - 1)]

time.sleep(step.get("sleep_s", 0))
sys.stdout.write(step.get("stdout", ""))
sys.stdout.flush()
sys.stderr.write(step.get("stderr", ""))
sys.stderr.flush()
sys.exit(step.get("rc", 0) & 0xFF)
