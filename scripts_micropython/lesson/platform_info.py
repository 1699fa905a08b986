"""Which MicroPython this is: the port, version, float width and threads of the board the scripts run on.

info() prints `OK info platform=P version=X.Y.Z float_bits=B thread=0|1 machine=M` where P is sys.platform
(`rp2` on a Pico, real or simulated) and M is sys.implementation._machine (free text, last).
"""
import sys

from kernels import FLOAT_BITS

try:
    import _thread  # noqa: F401  (only its presence matters)
    HAS_THREAD = True
except ImportError:
    HAS_THREAD = False


def info():
    version = ".".join(str(part) for part in sys.implementation.version[:3])
    machine = getattr(sys.implementation, "_machine", sys.platform)
    print("OK info platform=%s version=%s float_bits=%d thread=%d machine=%s"
          % (sys.platform, version, FLOAT_BITS, 1 if HAS_THREAD else 0, machine))
