"""e2e_http: the node's HTTP edges, spoken to byte for byte on 127.0.0.1.

- HEAD answers carry the Content-Length of the GET and no body, so the next
  answer on the same keep-alive connection is read whole;
- an `after` or `limit` beyond 2^63-1 is INVALID (400), not a 500;
- closed connections stop counting against max_connections at once, not
  at the next reaper tick;
- a log page ends by size as well as by count: 70 proposals with 60 KB of
  text each come back in more than one page even with limit=10000, and
  paging (council log, council verify) gets them all;
- under a file limit too small for max_connections, the node lowers the
  cap and says so; out of descriptors it pauses accepting instead of
  spinning and filling its log, and serves again once clients leave;
- a parent (here a fake one on 127.0.0.1) answering with 512 MiB is cut
  off, not buffered: the child's memory stays small, it keeps serving and
  says what went wrong."""
import json
import os
import signal
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from cnet import Checks, Failure, Workdir  # noqa: E402

t = Checks("e2e_http")


def dial(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return s


def read_answer(s, buf=b""):
    """One HTTP answer from S: (status, headers dict, body, rest of buffer)."""
    while b"\r\n\r\n" not in buf:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError("closed before the headers")
        buf += chunk
    head, buf = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}
    return status, headers, buf


def get(port, path, accept=None, method="GET"):
    """A whole answer on a fresh connection: (status, headers, body)."""
    s = dial(port)
    try:
        extra = f"Accept: {accept}\r\n" if accept else ""
        s.sendall(f"{method} {path} HTTP/1.1\r\nHost: t\r\nConnection: close\r\n{extra}\r\n".encode())
        status, headers, buf = read_answer(s)
        n = int(headers.get("content-length", "0"))
        while method != "HEAD" and len(buf) < n:
            chunk = s.recv(65536)
            if not chunk:
                break
            buf += chunk
        return status, headers, buf
    finally:
        s.close()


with Workdir() as w:
    node = w.node("Edges").start()

    # ---- HEAD: headers only, and the connection stays in step ----
    _, gh, gbody = get(node.port, "/v1/node")
    s = dial(node.port)
    s.sendall(b"HEAD /v1/node HTTP/1.1\r\nHost: t\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
    st1, h1, rest = read_answer(s)
    t.eq((st1, h1.get("content-length")), (200, str(len(gbody))),
         "HEAD /v1/node: 200 with the GET's Content-Length")
    # whatever follows HEAD's headers must be the next answer's status line
    while len(rest) < 8:
        rest += s.recv(65536)
    if t.check(rest.startswith(b"HTTP/1.1 200"),
               f"after HEAD, the next answer at once: {rest[:40]!r}"):
        st2, h2, body2 = read_answer(s, rest)
        while len(body2) < int(h2.get("content-length", "0")):
            body2 += s.recv(65536)
        t.eq((st2, body2), (200, b"ok\n"), "the GET after HEAD on the same connection reads whole")
    s.close()
    st, hh, hb = get(node.port, "/v1/log?after=x", method="HEAD")
    t.check(st == 400 and int(hh.get("content-length", "0")) > 0,
            "HEAD of a refusal: its status and length, no body")

    # ---- numbers out of range ----
    for bad in ("9223372036854775808", "99999999999999999999999", "18446744073709551615"):
        st, _, body = get(node.port, f"/v1/log?after={bad}", accept="application/json")
        t.eq((st, json.loads(body).get("name")), (400, "INVALID"), f"after={bad}: INVALID, not 500")
    st, _, body = get(node.port, "/v1/log?limit=9223372036854775808", accept="application/json")
    t.eq(st, 400, "limit beyond 2^63-1: 400")
    st, _, body = get(node.port, "/v1/log?after=9223372036854775807", accept="application/json")
    t.eq((st, json.loads(body).get("entries", [])), (200, []), "after=2^63-1: an empty page")

    # ---- a log page ends by size ----
    text = "x" * 60000
    for i in range(70):
        node.council("proposal", "new", "--title", f"Long {i}", "--text", text,
                     key=node.convener_key)
    st, _, body = get(node.port, "/v1/log?after=0&limit=10000", accept="application/json")
    page = json.loads(body)
    head_seq = page["head"]["seq"] if "seq" in page.get("head", {}) else None
    entries = page.get("entries", [])
    t.check(st == 200 and 0 < len(entries) < 70, f"one page of 4 MB: {len(entries)} entries, not all")
    t.check(len(body) < 12 << 20, f"the page's size is bounded: {len(body)} bytes")
    logged, _ = node.council("log")
    seqs = [e["seq"] for e in logged["entries"]]
    t.eq(seqs, list(range(1, len(seqs) + 1)), "council log pages on: every entry, in order")
    t.check(len(seqs) >= 70, f"council log: all {len(seqs)} entries")
    v, rc = node.council("verify")
    t.eq(v and v.get("ok"), True, "council verify over pages cut by size")
    # A child following this node reads on at once after a page cut short,
    # not one follow interval (here 60 s) later.
    follower = w.node("Follower", now=node.now).start(extra=["--set", "follow_interval_ms=60000"])
    node.council("member", "add", follower.key, "--name", "Follower", "--council",
                 key=node.convener_key)
    follower.council("parent", "set", node.url, node.key, key=follower.convener_key)
    try:
        follower.wait_for(lambda: follower.council("federation")[0].get("parent_seq", 0) >= len(seqs),
                          "the follower past the big entries", timeout=30)
        caught_up = True
    except Failure:
        caught_up = False
    t.check(caught_up, "a follower reads on at once after a page cut by size (not 60 s later)")

    # ---- closed connections do not hold the cap ----
    capped = w.node("Capped").start(extra=["--set", "max_connections=4"])
    codes = [get(capped.port, "/healthz")[0] for _ in range(12)]
    t.eq(codes, [200] * 12, "12 connections one after another under a cap of 4: all served")

    # ---- a file limit below the cap ----
    tight = w.node("Tight")
    tight.start(nofile=100)
    with open(tight.log_file) as f:
        log = f.read()
    t.check("does not fit the file limit 100; using 36" in log,
            f"the cap is lowered to the file limit, and said: {log[-300:]!r}")
    # 200 connections wait in the backlog while the node is stopped, so it
    # then accepts past its descriptors in one go, whatever the timing.
    tight.proc.send_signal(signal.SIGSTOP)
    socks = []
    for _ in range(200):
        try:
            socks.append(socket.create_connection(("127.0.0.1", tight.port), timeout=5))
        except OSError:
            break
    tight.proc.send_signal(signal.SIGCONT)
    time.sleep(1.5)
    for s in socks:
        s.close()
    ok = False
    for _ in range(100):
        try:
            ok = get(tight.port, "/healthz")[0] == 200
        except OSError:
            ok = False
        if ok:
            break
        time.sleep(0.1)
    t.check(ok, "out of descriptors for a while, the node serves again")
    with open(tight.log_file) as f:
        log = f.read()
    spins = log.count("Error from accept() call")
    paused = log.count("cannot accept connections")
    t.check(spins == 0 and 1 <= paused <= 3,
            f"accept() failures: paused and reported {paused} time(s), no retry loop ({spins} warnings)")

    # ---- a parent answering without end ----
    child = w.node("Child").start()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    fake_port = probe.getsockname()[1]
    probe.close()
    # nothing answers yet, so parent set does not check the key there
    fake_key = "ab" * 32
    child.council("parent", "set", f"http://127.0.0.1:{fake_port}", fake_key,
                  key=child.convener_key)
    huge = 512 << 20
    served = []
    lsock = socket.socket()
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", fake_port))
    lsock.listen(16)

    def flood():
        lsock.settimeout(0.5)
        end = time.time() + 5
        while time.time() < end:
            try:
                c, _ = lsock.accept()
            except socket.timeout:
                continue
            try:
                c.recv(65536)
                c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\n"
                          b"Content-Length: %d\r\n\r\n" % huge)
                sent, block = 0, b"\0" * (1 << 20)
                while sent < huge:
                    c.sendall(block)
                    sent += len(block)
                served.append(sent)
            except OSError:
                served.append(-1)        # the child hung up: good
            finally:
                c.close()
    th = threading.Thread(target=flood, daemon=True)
    th.start()
    th.join(7)
    lsock.close()

    def hwm_mib(pid):
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) // 1024
        return -1
    hwm = hwm_mib(child.proc.pid)
    t.check(served and hwm < 256, f"the child cut the answers off: peak RSS {hwm} MiB, served {served[:4]}")
    t.eq(get(child.port, "/healthz")[0], 200, "the child still serves")
    fed, _ = child.council("federation")
    t.check(fed["last_error"] != "", f"and says what went wrong: {fed['last_error']!r}")
t.finish()
