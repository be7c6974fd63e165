"""End to end, a member's receipts: with COUNCIL_RECEIPTS set the client
keeps every receipt it gets, and `council receipt check` checks them
against the node's key and the node's log. A changed byte, another node's
key, a missing key offline and an unreadable file are each refused. Then
the node loses a vote (its data folder is put back to a copy taken before
the vote, as a bad restore would), and the kept receipt shows it: first the
log has no such entry, then another record holds that seq. A node that
loses an entry and is asked within the receipt's own second is caught once
its clock passes that second (the client waits for it); a node whose clock
is set back is reported as such, after a bounded wait."""
import glob
import http.server
import json
import os
import shutil
import sys
import threading
import time
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from cnet import COUNCIL, Checks, Workdir, keygen, pb_enc, pb_parse, pubkey, run  # noqa: E402


t = Checks("e2e_receipts")
with Workdir() as w:
    node = w.node("Riverside assembly").start()
    other = w.node("Hillside assembly").start()
    conv = node.convener_key
    kept = os.path.join(w.path, "receipts")
    os.makedirs(kept)
    os.environ["COUNCIL_RECEIPTS"] = kept

    members = [keygen(os.path.join(w.path, f"m{i}.key")) for i in range(3)]
    node.council("member", "add", pubkey(members[0]), key=conv)
    # a signed head from early on, for a dishonest node to show again later
    with urllib.request.urlopen(node.url + "/v1/log?after=0&limit=1") as resp:
        early_head = [v for f, _, v in pb_parse(resp.read()) if f == 2][0]
    for k in members[1:]:
        node.council("member", "add", pubkey(k), key=conv)
    r, _ = node.council("proposal", "new", "--title", "Repaint the hall", "--options", "yes-no",
                        "--opens", str(node.now), "--duration", "3600", key=members[0])
    pid = r["record_id"]
    node.council("vote", pid, "yes", key=members[0])
    files = sorted(glob.glob(os.path.join(kept, "*.receipt")))
    t.eq(len(files), 5, "one receipt kept per act (3 admissions, a proposal, a vote)")
    t.check(os.path.join(kept, pid + ".receipt") in files, "a receipt is named by its record id")

    res, rc = node.council("receipt", "check", *files)
    t.eq(rc, 0, "every kept receipt checks")
    t.eq([x["ok"] and x["in_log"] for x in res["receipts"]], [True] * 5, "signed, and in the log")
    t.eq(len({x["seq"] for x in res["receipts"]}), 5, "five distinct seqs")
    res, rc = node.council("receipt", "check", "--offline", "--node-key", node.key, files[0])
    t.eq((rc, res["receipts"][0]["ok"], res["receipts"][0]["in_log"]), (0, True, None),
         "offline: the signature only")
    _, rc = node.council("receipt", "check", "--offline", files[0], check=False)
    t.eq(rc, 2, "offline without the node key is a usage error")

    # What must not check.
    bad = os.path.join(w.path, "bad.receipt")
    with open(files[0], "rb") as f:
        data = bytearray(f.read())
    data[len(data) // 2] ^= 0x01
    with open(bad, "wb") as f:
        f.write(data)
    res, rc = node.council("receipt", "check", bad, check=False)
    t.eq((rc, res["receipts"][0]["ok"]), (1, False), "a changed byte is refused")
    res, rc = node.council("receipt", "check", "--offline", "--node-key", other.key, files[0],
                           check=False)
    t.eq(rc, 1, "another node's key is refused")
    t.check("not a valid receipt of this node" in res["receipts"][0]["error"],
            "and says whose key failed")
    res, rc = other.council("receipt", "check", files[0], check=False)
    t.eq(rc, 1, "checked against another node (its key from GET /v1/node) it is refused")
    res, rc = node.council("receipt", "check", os.path.join(w.path, "missing.receipt"),
                           check=False)
    t.eq((rc, res["receipts"][0]["ok"]), (2, False), "an unreadable file is a local error")
    out, rc = node.council("receipt", "check", files[0], json_out=False)
    t.check(rc == 0 and "signed by the node, and in its log" in out, "the text line says so")

    # A folder that is not there: the act is accepted, the loss reported.
    os.environ["COUNCIL_RECEIPTS"] = os.path.join(w.path, "no-such-folder")
    k = keygen(os.path.join(w.path, "late.key"))
    rc, _, err = run([COUNCIL, "member", "add", pubkey(k), "--node", node.url, "--key", conv])
    t.check(rc == 0 and "this receipt was not kept" in err, "a receipt that cannot be kept is reported")
    os.environ["COUNCIL_RECEIPTS"] = kept
    t.eq([f for f in os.listdir(kept) if not f.endswith(".receipt")], [],
         "no temporary file is left in the receipts folder")

    # The node loses a vote: its folder goes back to a copy taken before it.
    node.stop()
    snapshot = os.path.join(w.path, "snapshot")
    shutil.copytree(node.data, snapshot)
    node.start()
    node.council("vote", pid, "no", key=members[1])
    lost = [f for f in glob.glob(os.path.join(kept, "*.receipt")) if f not in files]
    t.eq(len(lost), 1, "the vote's receipt is kept")
    res, rc = node.council("receipt", "check", *lost)
    t.eq(rc, 0, "the vote is in the log")
    node.stop()
    shutil.rmtree(node.data)
    shutil.copytree(snapshot, node.data)
    node.set_clock(node.now + 5)     # the restore comes later: the node signs a newer head
    node.start()
    res, rc = node.council("receipt", "check", *lost, check=False)
    t.eq((rc, res["receipts"][0]["in_log"]), (1, False), "after the restore the receipt fails")
    t.check("contradicts this receipt: its signed head is at seq" in res["receipts"][0]["error"],
            "the node's signed head ends before the receipt's seq")
    del os.environ["COUNCIL_RECEIPTS"]
    node.council("vote", pid, "yes", key=members[2])   # another record takes that seq
    res, rc = node.council("receipt", "check", *lost, check=False)
    t.eq((rc, res["receipts"][0]["in_log"]), (1, False), "with another record at its seq")
    t.check("contradicts this receipt: its signed log holds record" in res["receipts"][0]["error"],
            "the receipt names the record the node's signed log holds instead")
    out, rc = node.council("receipt", "check", *files, *lost, json_out=False, check=False)
    t.check(rc == 1 and out.count("in its log") == 5 and "contradicts" in out,
            "five receipts hold and one does not")

    # A dishonest node in front of the real one (127.0.0.1 too): it serves
    # log pages with the record left out, a wrong record, no signed head, or
    # an error full of terminal escapes. No page of it may pass as proof.
    mode = {"m": ""}

    class Liar(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def answer(self, code, ctype, body):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            m = mode["m"]
            if self.path.startswith("/v1/log") and m == "escapes":
                err = pb_enc([(2, 2, b"X\x1b[31mRED"), (3, 2, b"msg\x1b]0;owned\x07")])
                return self.answer(500, "application/x-protobuf", err)
            with urllib.request.urlopen(node.url + self.path) as r:
                body, ctype = r.read(), r.headers["Content-Type"]
            if self.path.startswith("/v1/log") and m == "tick":
                # an honest page, signed in the receipt's second; the
                # node's clock passes that second right after it
                mode["m"] = ""
                node.set_clock(node.now + 1)
            if self.path.startswith("/v1/log"):
                fields = pb_parse(body)
                entries = [pb_parse(v) for f, _, v in fields if f == 1]
                heads = [v for f, _, v in fields if f == 2]
                if m == "no-record":
                    entries = [[x for x in e if x[0] != 6] for e in entries]
                elif m == "wrong-record":
                    entries = [[x if x[0] != 6 else (6, 2, b"another record") for x in e]
                               for e in entries]
                elif m == "no-head":
                    heads = []
                elif m == "old-head":
                    entries, heads = [], [early_head]
                body = pb_enc([(1, 2, pb_enc(e)) for e in entries] + [(2, 2, h) for h in heads])
            self.answer(200, ctype, body)

    liar = http.server.HTTPServer(("127.0.0.1", 0), Liar)
    threading.Thread(target=liar.serve_forever, daemon=True).start()
    liar_url = f"http://127.0.0.1:{liar.server_address[1]}"
    for m in ("no-record", "wrong-record", "no-head"):
        mode["m"] = m
        rc, out, _ = run([COUNCIL, "receipt", "check", files[-1], "--node", liar_url,
                          "--node-key", node.key, "--json"], check=False)
        r = json.loads(out)["receipts"][0]
        t.eq((rc, r["ok"], r["in_log"]), (1, False, None), f"a dishonest page ({m}) proves nothing")
    # A signed head older than the receipt, shown again, proves nothing.
    # (The proposal's receipt: its entry comes after the early head's.)
    mode["m"] = "old-head"
    rc, out, _ = run([COUNCIL, "receipt", "check", os.path.join(kept, pid + ".receipt"), "--node",
                      liar_url, "--node-key", node.key, "--json"], check=False)
    r = json.loads(out)["receipts"][0]
    t.check(rc == 1 and r["in_log"] is None and "ask again later" in r["error"],
            f"an old signed head shown again is no contradiction: {rc} {r}")
    mode["m"] = "escapes"
    rc, out, err = run([COUNCIL, "receipt", "check", files[-1], "--node", liar_url,
                        "--node-key", node.key, "--json"], check=False)
    t.eq(rc, 1, "a node that answers an error does not show its log")
    t.check(json.loads(out)["receipts"][0]["in_log"] is None, "stdout stays one JSON document")
    t.check("\x1b" not in err and "\x07" not in err, "the node's escapes never reach the terminal")

    # The node loses an entry and is asked within the second of its receipt
    # (its clock stays put across the restore): the head it signs is of that
    # second too, and a head signed just before the entry was appended looks
    # the same, so alone it proves nothing. The client waits for the node's
    # clock to pass the receipt and asks again: a head signed at a later
    # second that still ends before the entry is the proof.
    node.stop()
    shutil.rmtree(snapshot)
    shutil.copytree(node.data, snapshot)
    node.start()
    os.environ["COUNCIL_RECEIPTS"] = kept
    node.council("member", "add", pubkey(keygen(os.path.join(w.path, "same.key"))), key=conv)
    del os.environ["COUNCIL_RECEIPTS"]
    same = [f for f in glob.glob(os.path.join(kept, "*.receipt")) if f not in files + lost]
    t.eq(len(same), 1, "the admission's receipt is kept")
    node.stop()
    shutil.rmtree(node.data)
    shutil.copytree(snapshot, node.data)
    node.start()
    mode["m"] = "tick"
    rc, out, err = run([COUNCIL, "receipt", "check", same[0], "--node", liar_url, "--json"],
                       check=False)
    r = json.loads(out)["receipts"][0]
    t.eq(mode["m"], "", "the node's clock passed the receipt's second during the check")
    t.check(rc == 1 and r["in_log"] is False and
            "contradicts this receipt: its signed head is at seq" in r["error"],
            f"a loss seen within the receipt's second is caught: {rc} {r}")

    # A node whose clock is set back signs heads dated before the receipt,
    # however long one waits: the client says so, after one bounded wait for
    # all the receipts it checks (here the same one twice), not one each.
    node.set_clock(node.now - 60)
    start = time.monotonic()
    rc, out, err = run([COUNCIL, "receipt", "check", same[0], same[0], "--node", node.url,
                        "--json"], check=False)
    took = time.monotonic() - start
    rs = json.loads(out)["receipts"]
    t.check(rc == 1 and [r["in_log"] for r in rs] == [None, None] and
            all("clock is behind" in r["error"] and "ask again later" in r["error"] for r in rs),
            f"a node's clock set back is named, not taken as a loss: {rc} {rs}")
    t.check(3.0 <= took < 5.5, f"one wait of at most 3 s for the run: {took:.1f} s")
    t.eq(err.count("waiting"), 1, f"the wait is shown once on stderr: {err!r}")
    liar.shutdown()
t.finish()
