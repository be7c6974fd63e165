"""End to end, a member's receipts: with COUNCIL_RECEIPTS set the client
keeps every receipt it gets, and `council receipt check` checks them
against the node's key and the node's log. A changed byte, another node's
key, a missing key offline and an unreadable file are each refused. Then
the node loses a vote (its data folder is put back to a copy taken before
the vote, as a bad restore would), and the kept receipt shows it: first the
log has no such entry, then another record holds that seq."""
import glob
import os
import shutil
import sys

sys.path.insert(0, os.path.dirname(__file__))
from cnet import Checks, Workdir, keygen, pubkey  # noqa: E402

t = Checks("e2e_receipts")
with Workdir() as w:
    node = w.node("Riverside assembly").start()
    other = w.node("Hillside assembly").start()
    conv = node.convener_key
    kept = os.path.join(w.path, "receipts")
    os.makedirs(kept)
    os.environ["COUNCIL_RECEIPTS"] = kept

    members = [keygen(os.path.join(w.path, f"m{i}.key")) for i in range(3)]
    for k in members:
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
    node.start()
    res, rc = node.council("receipt", "check", *lost, check=False)
    t.eq((rc, res["receipts"][0]["in_log"]), (1, False), "after the restore the receipt fails")
    t.check("has no entry" in res["receipts"][0]["error"], "the log ends before the receipt's seq")
    del os.environ["COUNCIL_RECEIPTS"]
    node.council("vote", pid, "yes", key=members[2])   # another record takes that seq
    res, rc = node.council("receipt", "check", *lost, check=False)
    t.eq((rc, res["receipts"][0]["in_log"]), (1, False), "with another record at its seq")
    t.check("contradicts this receipt: its entry" in res["receipts"][0]["error"],
            "the receipt names the record the node now holds instead")
    out, rc = node.council("receipt", "check", *files, *lost, json_out=False, check=False)
    t.check(rc == 1 and out.count("in its log") == 5 and "contradicts" in out,
            "five receipts hold and one does not")
t.finish()
