# Runs inside MicroPython (WebAssembly) at every interpreter start, before boot.py, compiled under the file
# name "<board>" (the bridge drops traceback lines naming it, since a Pico's native code adds none).
#
# It makes the interpreter look like a Pico's to scripts and to mpremote:
# - a filesystem at "/" whose files live in the board's host folder (its flash) and whose errors carry
#   MicroPython errno values (mpremote maps errors by number);
# - a `machine` module (Pin with host-visible state, freq, unique_id, reset, soft_reset, idle);
# - `time.sleep*` that wait without burning the host CPU and return early on Ctrl-C, and a microsecond
#   `ticks_us` (the build's own is milliseconds times 1000).
# `_board` is the worker's JavaScript API (micropython_worker.mjs); bytes cross it as hex (bytes.hex and
# bytes.fromhex are native here, the build's binascii base64 is slow Python).
import sys
import io
import json
import time
import vfs
import micropython
import _board

_S_IFDIR = 0x4000
_S_IFREG = 0x8000
_EINVAL = 22


def _call(op, *args):
    reply = json.loads(_board.fs(op, json.dumps(args)))
    if "e" in reply:
        raise OSError(reply["e"])
    return reply.get("r")


class _WriteFile(io.IOBase):
    """A file opened for writing: each write goes through to the host file, as littlefs would to flash."""

    def __init__(self, path, binary):
        self._path = path
        self._binary = binary
        self._closed = False

    def write(self, data):
        if self._closed:
            raise OSError(_EINVAL)
        if isinstance(data, str):
            data = data.encode()
        if len(data):
            _call("append", self._path, bytes(data).hex())
        return len(data)

    def flush(self):
        pass

    def close(self):
        self._closed = True

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class BoardFS:
    """A VFS (the protocol `vfs.mount` expects) over the board's host folder."""

    def __init__(self):
        self._cwd = "/"

    def __repr__(self):
        return "<BoardFS>"

    def _abs(self, path):
        if not path.startswith("/"):
            path = self._cwd.rstrip("/") + "/" + path
        parts = []
        for part in path.split("/"):
            if part == "..":
                if parts:
                    parts.pop()
            elif part and part != ".":
                parts.append(part)
        return "/" + "/".join(parts)

    def mount(self, readonly, mkfs):
        pass

    def umount(self):
        pass

    def chdir(self, path):
        path = self._abs(path)
        if not _call("stat", path)[0] & _S_IFDIR:
            raise OSError(20)  # ENOTDIR
        self._cwd = path

    def getcwd(self):
        return self._cwd

    def ilistdir(self, path):
        for name, is_dir, size in _call("listdir", self._abs(path)):
            yield (name, _S_IFDIR if is_dir else _S_IFREG, 0, size)

    def stat(self, path):
        mode, size, mtime_s = _call("stat", self._abs(path))
        return (mode, 0, 0, 0, 0, 0, size, mtime_s, mtime_s, mtime_s)

    def statvfs(self, path):
        return tuple(_call("statvfs", self._abs(path)))

    def mkdir(self, path):
        _call("mkdir", self._abs(path))

    def rmdir(self, path):
        _call("rmdir", self._abs(path))

    def remove(self, path):
        _call("remove", self._abs(path))

    def rename(self, old_path, new_path):
        _call("rename", self._abs(old_path), self._abs(new_path))

    def open(self, path, mode):
        path = self._abs(path)
        binary = "b" in mode
        if "+" in mode:
            raise OSError(_EINVAL)
        if "r" in mode:
            data = bytes.fromhex(_call("read", path))
            return io.BytesIO(data) if binary else io.StringIO(data.decode())
        if "w" in mode:
            _call("truncate", path)
        elif "a" in mode:
            _call("touch", path)
        else:
            raise OSError(_EINVAL)
        return _WriteFile(path, binary)


class Pin:
    """machine.Pin: GPIO 0-29 and "LED" (GPIO 25 on a Pico); every change is visible to the host."""

    IN = 0
    OUT = 1
    OPEN_DRAIN = 2
    ALT = 3
    PULL_UP = 1
    PULL_DOWN = 2
    IRQ_FALLING = 4
    IRQ_RISING = 8
    _NAMES = {"LED": 25}
    _MODE_NAMES = {0: "IN", 1: "OUT", 2: "OPEN_DRAIN", 3: "ALT"}
    _PIN_COUNT = 30

    def __init__(self, pin, mode=-1, pull=-1, *, value=None):
        if isinstance(pin, str):
            if pin not in Pin._NAMES:
                raise ValueError("unknown named pin \"%s\"" % pin)
            pin = Pin._NAMES[pin]
        if not isinstance(pin, int) or not 0 <= pin < Pin._PIN_COUNT:
            raise ValueError("invalid pin")
        self._id = pin
        # A Pin object is a view of the hardware pin: it starts from the pin's current state.
        self._mode, self._pull, self._value = json.loads(_board.pin_get(pin))
        self.init(mode, pull, value=value)

    def init(self, mode=-1, pull=-1, *, value=None):
        if mode != -1:
            self._mode = mode
        if pull != -1:
            self._pull = pull
        if value is not None:
            self._value = 1 if value else 0
        elif self._mode == Pin.IN and self._pull == Pin.PULL_UP:
            self._value = 1
        self._publish()

    def _publish(self):
        _board.pin_set(self._id, self._mode, self._pull, self._value)

    def value(self, x=None):
        if x is None:
            return self._value
        self._value = 1 if x else 0
        self._publish()

    def __call__(self, x=None):
        return self.value(x)

    def on(self):
        self.value(1)

    def off(self):
        self.value(0)

    high = on
    low = off

    def toggle(self):
        self.value(1 - self._value)

    def __repr__(self):
        return "Pin(GPIO%d, mode=%s)" % (self._id, Pin._MODE_NAMES.get(self._mode, "IN"))


class _Machine:
    """The `machine` module (an object in sys.modules: this build cannot create module objects)."""

    __name__ = "machine"
    Pin = Pin
    _DEFAULT_FREQ_HZ = 125_000_000

    def __init__(self):
        self._freq_hz = _Machine._DEFAULT_FREQ_HZ

    def freq(self, hz=None):
        if hz is None:
            return self._freq_hz
        self._freq_hz = hz

    def unique_id(self):
        return bytes.fromhex(_board.unique_id())

    def reset(self):
        _board.hard_reset()

    def soft_reset(self):
        raise SystemExit

    def idle(self):
        _board.sleep_us(0)

    def __repr__(self):
        return "<module 'machine'>"


_TICKS_PERIOD = 1 << 30


def _sleep_us(us):
    if _board.sleep_us(us):
        raise KeyboardInterrupt


def _sleep_ms(ms):
    if _board.sleep_us(ms * 1000):
        raise KeyboardInterrupt


def _sleep(s):
    if _board.sleep_us(int(s * 1_000_000)):
        raise KeyboardInterrupt


def _ticks_us():
    return _board.ticks_us() % _TICKS_PERIOD


time.sleep = _sleep
time.sleep_ms = _sleep_ms
time.sleep_us = _sleep_us
time.ticks_us = _ticks_us
time.ticks_cpu = _ticks_us
sys.modules["machine"] = _Machine()



class _Runner:
    """Runs boot.py and main.py as a Pico does: in __main__, Ctrl-C enabled, errors printed, not raised."""

    def run(self, name, main_globals):
        try:
            with open(name) as f:
                source = f.read()
        except OSError:
            return 0  # no file is the same as an empty one
        micropython.kbd_intr(3)
        try:
            exec(compile(source, name, "exec"), main_globals)
        except SystemExit:
            return 1  # a forced exit: the board soft-resets
        except BaseException as e:  # noqa: B036 - a Pico prints every exception and carries on
            sys.print_exception(e)
        finally:
            micropython.kbd_intr(-1)
        return 0


sys.modules["_board_runner"] = _Runner()
try:
    vfs.umount("/")
except OSError:
    pass
vfs.mount(BoardFS(), "/")
