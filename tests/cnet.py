"""cnet.py: helpers for end-to-end tests that drive real councild processes
on 127.0.0.1 through the `council` client. Used by tests/e2e_*.py."""
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time

COUNCILD = os.environ.get("CN_COUNCILD", "build/councild")
COUNCIL = os.environ.get("CN_COUNCIL", "build/council")


class Failure(Exception):
    pass


class Checks:
    """Counts checks; prints the closing line ctest and CI read."""

    def __init__(self, name):
        self.name, self.passed, self.failed = name, 0, 0

    def check(self, cond, what):
        if cond:
            self.passed += 1
        else:
            self.failed += 1
            print(f"CHECK failed: {what}", file=sys.stderr)
        return cond

    def eq(self, got, want, what):
        return self.check(got == want, f"{what}: got {got!r}, want {want!r}")

    def finish(self):
        print(f"{self.name}: {self.passed} passed, {self.failed} failed")
        sys.exit(1 if self.failed or not self.passed else 0)


def run(args, check=True, env=None, stdin=None):
    """Run a command; return (exit status, stdout, stderr)."""
    p = subprocess.run(args, capture_output=True, text=True, env=env, input=stdin, timeout=120)
    if check and p.returncode != 0:
        raise Failure(f"{' '.join(args)} -> {p.returncode}\n{p.stdout}\n{p.stderr}")
    return p.returncode, p.stdout, p.stderr


class Node:
    """One councild in its own temp folder, on a free port of 127.0.0.1,
    with its clock read from a file the test moves (clock_file=False: the
    node runs on the real clock, and `now` is the time of the machine)."""

    def __init__(self, workdir, name, now=None, convener_key=None, clock_file=True):
        self.workdir = workdir
        self.name = name
        self.dir = os.path.join(workdir, name.replace(" ", "_"))
        os.makedirs(self.dir, exist_ok=True)
        self.data = os.path.join(self.dir, "data")
        self.clock_file = os.path.join(self.dir, "clock") if clock_file else None
        self.port_file = os.path.join(self.dir, "port")
        self.log_file = os.path.join(self.dir, "councild.log")
        self.proc = None
        self.port = 0
        self.convener_key = convener_key or keygen(os.path.join(self.dir, "convener.key"))
        self._now = int(now or time.time())
        if self.clock_file:
            self.set_clock(self._now)
        out = run([COUNCILD, "init", "--data", self.data, "--name", name,
                   "--convener", pubkey(self.convener_key)])[1]
        self.key = out.split("node key ")[1].split()[0]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def now(self):
        """The node's time: the clock file's, or the machine's."""
        return self._now if self.clock_file else int(time.time())

    def set_clock(self, t):
        if not self.clock_file:
            raise Failure(f"{self.name} runs on the real clock")
        self._now = int(t)
        tmp = self.clock_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{self._now}\n")
        os.replace(tmp, self.clock_file)

    def start(self, extra=(), nofile=None):
        """Start councild; NOFILE: its file limit (soft and hard)."""
        if os.path.exists(self.port_file):
            os.unlink(self.port_file)
        listen = f"127.0.0.1:{self.port}" if self.port else "127.0.0.1:0"
        log = open(self.log_file, "a")
        clock = ["--clock-file", self.clock_file] if self.clock_file else []
        self.proc = subprocess.Popen([COUNCILD, "run", "--data", self.data, "--listen", listen,
                                      "--port-file", self.port_file, *clock, *extra],
                                     stdout=log, stderr=log,
                                     preexec_fn=(lambda: resource.setrlimit(
                                         resource.RLIMIT_NOFILE, (nofile, nofile)))
                                     if nofile else None)
        log.close()
        for _ in range(500):
            if os.path.exists(self.port_file):
                with open(self.port_file) as f:
                    txt = f.read().strip()
                if txt:
                    self.port = int(txt)
                    return self
            if self.proc.poll() is not None:
                raise Failure(f"councild {self.name} exited; see {self.log_file}")
            time.sleep(0.01)
        raise Failure(f"councild {self.name} did not start")

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def council(self, *args, key=None, check=True, json_out=True):
        """Run `council ARGS --node URL [--key K] [--json]`; return parsed
        JSON (or text) and the exit status."""
        cmd = [COUNCIL, *args, "--node", self.url]
        if key:
            cmd += ["--key", key]
        if json_out:
            cmd.append("--json")
        rc, out, err = run(cmd, check=check)
        if json_out:
            try:
                return json.loads(out) if out.strip() else None, rc
            except json.JSONDecodeError:
                raise Failure(f"not JSON from {' '.join(cmd)}: {out!r} {err!r}")
        return out, rc

    def open_selections(self):
        """Let members propose selections of seconds without a turnout quorum
        (a node asks a day and 10% by default); tests run short windows."""
        self.council("settings", "set", "--selection-min-window", "0",
                     "--selection-min-turnout", "0", key=self.convener_key)

    def wait_for(self, pred, what, timeout=20.0):
        end = time.time() + timeout
        while time.time() < end:
            v = pred()
            if v:
                return v
            time.sleep(0.05)
        raise Failure(f"timed out waiting for {what} on {self.name}")


def keygen(path):
    if not os.path.exists(path):
        run([COUNCIL, "keygen", "--out", path])
    return path


def pubkey(path):
    with open(path + ".pub") as f:
        return f.read().strip()


class Workdir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="cn-e2e-")
        self.nodes = []
        return self

    def node(self, name, **kw):
        n = Node(self.path, name, **kw)
        self.nodes.append(n)
        return n

    def __exit__(self, *exc):
        for n in self.nodes:
            n.stop()
        if os.environ.get("CN_KEEP") or exc[0] is not None:
            print(f"kept {self.path}", file=sys.stderr)
        else:
            shutil.rmtree(self.path, ignore_errors=True)
        return False


# ---- protobuf by hand, for tests that play a dishonest node ----

def pb_varint(b, i):
    x = shift = 0
    while True:
        c = b[i]
        i += 1
        x |= (c & 0x7F) << shift
        shift += 7
        if c < 0x80:
            return x, i


def pb_parse(b):
    """Protobuf fields as (number, wire type, value): varints and bytes only."""
    out, i = [], 0
    while i < len(b):
        key, i = pb_varint(b, i)
        if key & 7 == 0:
            v, i = pb_varint(b, i)
        else:
            n, i = pb_varint(b, i)
            v, i = b[i:i + n], i + n
        out.append((key >> 3, key & 7, v))
    return out


def pb_enc(fields):
    def varint(x):
        o = bytearray()
        while True:
            if x < 0x80:
                o.append(x)
                return bytes(o)
            o.append((x & 0x7F) | 0x80)
            x >>= 7
    o = bytearray()
    for num, wt, v in fields:
        o += varint(num << 3 | wt)
        o += varint(v) if wt == 0 else varint(len(v)) + v
    return bytes(o)
