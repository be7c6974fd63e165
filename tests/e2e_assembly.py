"""End to end, one assembly: councild on 127.0.0.1, ten members enrolled
through the client, a proposal whose group quorum fails and one whose group
quorum holds; decisions and counts read back through `council --json`.
First, key files: keygen never overwrites a key, writes it 0600, and
replaces a FILE.pub symlink instead of writing through it."""
import os
import stat
import sys

sys.path.insert(0, os.path.dirname(__file__))
from cnet import COUNCIL, Checks, Failure, Workdir, keygen, pubkey, run  # noqa: E402

t = Checks("e2e_assembly")
with Workdir() as w:
    victim = os.path.join(w.path, "victim")
    with open(victim, "w") as f:
        f.write("precious\n")
    kpath = os.path.join(w.path, "fresh.key")
    os.symlink(victim, kpath + ".pub")
    rc, out, _ = run([COUNCIL, "keygen", "--out", kpath])
    with open(victim) as f:
        t.eq(f.read(), "precious\n", "keygen does not write through a FILE.pub symlink")
    t.check(not os.path.islink(kpath + ".pub") and pubkey(kpath) == out.strip(),
            "FILE.pub is a file of its own with the public key")
    t.eq(stat.S_IMODE(os.stat(kpath).st_mode), 0o600, "the secret key file is 0600")
    rc, _, err = run([COUNCIL, "keygen", "--out", kpath], check=False)
    t.check(rc != 0 and "already exists" in err, "keygen never overwrites a key file")

    node = w.node("Riverside assembly").start()
    conv = node.convener_key
    info, _ = node.council("node", "info")
    t.eq(info["name"], "Riverside assembly", "node name")
    t.eq(info["key"], node.key, "node key")

    members = []
    for i in range(10):
        k = keygen(os.path.join(w.path, f"m{i}.key"))
        args = ["member", "add", pubkey(k), "--name", f"Member {i}"]
        if i < 3:
            args += ["--group", "renters"]
        node.council(*args, key=conv)
        members.append(k)
    roll, _ = node.council("member", "list")
    t.eq(sum(1 for m in roll["members"] if m["member"]), 10, "ten members on the roll")
    t.eq(sorted(m["name"] for m in roll["members"] if "renters" in m["groups"]),
         ["Member 0", "Member 1", "Member 2"], "three renters")

    def new_proposal(title):
        r, _ = node.council("proposal", "new", "--title", title, "--options", "yes-no",
                            "--opens", str(node.now), "--duration", "3600", "--threshold", "majority",
                            "--turnout", "50", "--group-quorum", "renters:30", key=members[0])
        return r["record_id"]

    # Proposal A: 8 ballots, only 1 from a renter: 1/8 < 30 %, the quorum fails.
    a = new_proposal("Open the hall on Sundays")
    for i in [0] + list(range(3, 10)):
        node.council("vote", a, "yes" if i < 8 else "no", key=members[i])
    # Proposal B: 7 ballots, 3 from renters: 3/7 >= 30 %, it passes.
    b = new_proposal("Plant trees on Elm Street")
    for i in range(7):
        node.council("vote", b, "no" if i == 6 else "yes", key=members[i])

    # A member voting twice is refused; exit status 1 and the error as JSON.
    err, rc = node.council("vote", b, "no", key=members[1], check=False)
    t.eq(rc, 1, "double vote refused")
    t.eq(err and err.get("name"), "ALREADY_VOTED", "double vote code")

    # Before the window closes there is no decision.
    _, rc = node.council("decision", "show", a, check=False)
    t.eq(rc, 1, "no decision before close")

    node.set_clock(node.now + 3601)

    def decided(pid):
        d, rc = node.council("decision", "show", pid, check=False)
        return d if rc == 0 else None

    da = node.wait_for(lambda: decided(a), "decision A")
    db = node.wait_for(lambda: decided(b), "decision B")
    t.eq(da["counts"], [6, 2, 0], "A counts yes/no/abstain")
    t.eq(da["ballots"], 8, "A ballots")
    t.eq(da["roll"], 10, "A roll")
    t.eq(da["turnout_held"], True, "A turnout 8/10 >= 50 %")
    t.eq(da["threshold_held"], True, "A majority 6/8")
    t.eq([(g["group"], g["votes"], g["held"]) for g in da["group_quorums"]],
         [("renters", 1, False)], "A renters quorum fails")
    t.eq(da["passed"], False, "A fails on its group quorum")

    t.eq(db["counts"], [6, 1, 0], "B counts")
    t.eq(db["ballots"], 7, "B ballots")
    t.eq([(g["group"], g["votes"], g["held"]) for g in db["group_quorums"]],
         [("renters", 3, True)], "B renters quorum holds")
    t.eq(db["passed"], True, "B passes")
    t.eq(db["winner"], 0, "B winner is yes")

    # Voting after the close is refused.
    err, rc = node.council("vote", b, "yes", key=members[8], check=False)
    t.eq(err and err.get("name"), "WINDOW_CLOSED", "ballot after close")

    # The whole log verifies, and the proposal list shows both closed.
    v, rc = node.council("verify")
    t.eq(rc, 0, "council verify")
    t.eq(v and v.get("ok"), True, "verify ok")
    plist, _ = node.council("proposal", "list")
    t.eq([p["state"] for p in plist["proposals"]], ["CLOSED", "CLOSED"], "both closed")

    # A name with terminal escapes (ESC, BEL, a UTF-8 C1 CSI) is the
    # signer's business; the client prints it as text, and JSON keeps it.
    eve = keygen(os.path.join(w.path, "eve.key"))
    evil = "Eve\x1b]0;owned\x07 \u009b31m\u00e9"
    node.council("member", "add", pubkey(eve), "--name", evil, key=conv)
    out, _ = node.council("member", "list", json_out=False)
    t.check("Eve?]0;owned? ?31m\u00e9" in out, "the name is printed with its controls as '?'")
    t.check(not any(c in out for c in "\x1b\x07\u009b\r"), "no control reaches the terminal")
    roll, _ = node.council("member", "list")
    t.check(evil in [m["name"] for m in roll["members"]], "JSON output keeps the name as signed")
t.finish()
