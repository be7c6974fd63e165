"""e2e_reparent: a council moves to another parent while records for the old
one still wait in its outbox (the old parent is down); and a council whose
clock runs ahead of its parent's.

Those records (a delegate's credential for the old parent, the decision
that chose the delegate) mean nothing to the new parent, which would refuse
them for good; left at the head of the outbox they stalled every later
record. `council parent set` to another key now moves them to the dead
letters (kept, listed, resendable), and the new parent gets the roll and
what follows at once.

A child whose clock runs 11 minutes ahead makes records its parent refuses
as TOO_EARLY. The child retries them (they used to be set aside for good as
INVALID), and they go up once the parent's clock has caught up. A clock a
day ahead is broken: its records are INVALID, set aside, and do not hold up
the ones made after the clock is fixed.

A delegate elected before the council set its parent: the credential
reaches the parent only inside the delegate's delivery. The parent logs it
as a record of its own, so its delegate list, delegate votes and recalls
by key all work (the list answered INTERNAL before)."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from cnet import COUNCIL, Checks, Workdir, keygen, pubkey, run  # noqa: E402

t = Checks("e2e_reparent")

with Workdir() as w:
    p1 = w.node("Old parent").start()
    p2 = w.node("New parent", now=p1.now).start()
    a = w.node("Assembly", now=p1.now).start()
    a.open_selections()
    for p in (p1, p2):
        p.council("member", "add", a.key, "--name", "Assembly", "--council", key=p.convener_key)
    ms = [keygen(os.path.join(a.dir, f"m{i}.key")) for i in range(3)]
    for i, k in enumerate(ms):
        a.council("member", "add", pubkey(k), "--name", f"member {i}", key=a.convener_key)
    a.council("parent", "set", p1.url, p1.key, key=a.convener_key)
    a.wait_for(lambda: a.council("federation")[0]["outbox"] == 0, "the roll at the old parent")

    # The old parent goes down; a delegate to it is elected meanwhile.
    p1.stop()
    pid = a.council("proposal", "new", "--title", "Delegate to the old parent", "--select", "vote",
                    "--parent", p1.key, "--candidate", f"{pubkey(ms[0])}:first", "--candidate",
                    f"{pubkey(ms[1])}:second", "--opens", str(a.now), "--duration", "100",
                    "--term-days", "30", key=ms[0])[0]["record_id"]
    for k in ms:
        a.council("vote", pid, "first", key=k)
    for n in (a, p2):
        n.set_clock(a.now + 101)
    queued = a.wait_for(lambda: a.council("federation")[0]["outbox"] or None,
                        "the credential queued for the old parent")
    t.check(queued >= 1, f"{queued} record(s) wait for the old parent")

    # Another parent: the old queue is set aside, the new parent served.
    a.council("parent", "set", p2.url, p2.key, key=a.convener_key)
    newcomer = keygen(os.path.join(a.dir, "newcomer.key"))
    a.council("member", "add", pubkey(newcomer), "--name", "newcomer", key=a.convener_key)
    f = a.wait_for(lambda: (lambda s: s if s["outbox"] == 0 else None)(a.council("federation")[0]),
                   "the outbox drained to the new parent")
    t.eq((f["parent_key"], f["dead"]), (p2.key, queued),
         "the old parent's records are dead letters, the rest went to the new parent")
    t.check(all("former parent" in d["error"] for d in f.get("dead_letters", [])),
            f"each dead letter says why: {[d['error'] for d in f.get('dead_letters', [])]}")
    kinds = sorted(d["kind"] for d in f.get("dead_letters", []))
    t.check("credential" in kinds, f"the old credential among them: {kinds}")

    # Sent again by hand, the new parent refuses the old credential for
    # good (WRONG_NODE: final, not retried): it is a dead letter once more,
    # and what comes after it still goes up.
    ids = [str(d["id"]) for d in f["dead_letters"] if d["kind"] == "credential"]
    a.council("federation", "resend", *ids, key=a.convener_key)
    a.council("member", "add", pubkey(keygen(os.path.join(a.dir, "again.key"))), "--name", "again",
              key=a.convener_key)
    f = a.wait_for(lambda: (lambda s: s if s["outbox"] == 0 else None)(a.council("federation")[0]),
                   "the outbox drained after the resend")
    again = [d for d in f["dead_letters"] if d["kind"] == "credential"]
    t.check(f["dead"] == queued and again and "WRONG_NODE" in again[0]["error"],
            f"the resent credential is refused for good: {[d['error'] for d in again]}")

    # The same parent at another address keeps its queue.
    p2.stop()
    a.council("member", "add", pubkey(keygen(os.path.join(a.dir, "late.key"))), "--name", "late",
              key=a.convener_key)
    waiting = a.wait_for(lambda: a.council("federation")[0]["outbox"] or None, "a queued roll")
    new_url = p2.url.replace("127.0.0.1", "127.1")     # the same address, written another way
    a.council("parent", "set", new_url, p2.key, key=a.convener_key)
    f = a.council("federation")[0]
    t.check(f["parent_url"] == new_url and f["dead"] == queued and f["outbox"] >= waiting,
            f"a new URL for the same parent sets nothing aside: {f['parent_url']}, "
            f"{f['dead']} dead, {f['outbox']} queued")

    # ---- a child's clock ahead of its parent's ----
    parent = w.node("Parent").start()
    early = w.node("Early bird", now=parent.now + 660).start()
    parent.council("member", "add", early.key, "--name", "Early", "--council",
                   key=parent.convener_key)
    early.council("member", "add", pubkey(keygen(os.path.join(early.dir, "e.key"))), "--name",
                  "e", key=early.convener_key)
    early.council("parent", "set", parent.url, parent.key, key=early.convener_key)
    f = early.wait_for(lambda: (lambda s: s if "TOO_EARLY" in s["last_error"] else None)(
        early.council("federation")[0]), "the parent's TOO_EARLY")
    t.check(f["outbox"] >= 1 and f["dead"] == 0,
            f"records too early wait in the outbox, none set aside: {f['outbox']} queued, "
            f"{f['dead']} dead, {f['last_error']!r}")
    parent.set_clock(early.now)          # the parent's clock catches up
    f = early.wait_for(lambda: (lambda s: s if s["outbox"] == 0 else None)(
        early.council("federation")[0]), "the outbox drained once the clocks agree")
    t.eq(f["dead"], 0, "the early records went up, none lost")

    # ---- a clock a day ahead ----
    broken = w.node("Broken clock", now=parent.now + 86400).start()
    parent.council("member", "add", broken.key, "--name", "Broken", "--council",
                   key=parent.convener_key)
    broken.council("parent", "set", parent.url, parent.key, key=broken.convener_key)
    broken.set_clock(parent.now)         # fixed; a member comes after
    broken.council("member", "add", pubkey(keygen(os.path.join(broken.dir, "b.key"))), "--name",
                   "b", key=broken.convener_key)
    f = broken.wait_for(lambda: (lambda s: s if s["outbox"] == 0 else None)(
        broken.council("federation")[0]), "the outbox past the far-future record")
    t.check(f["dead"] == 1 and "INVALID" in f["dead_letters"][0]["error"],
            f"the far-future record is set aside, the rest went up: {f['dead_letters']}")

    # ---- a delegate elected before the parent is set ----
    hall = w.node("Hall", now=parent.now).start()
    hall.open_selections()
    parent.council("member", "add", hall.key, "--name", "Hall", "--council",
                   key=parent.convener_key)
    hm = [keygen(os.path.join(hall.dir, f"h{i}.key")) for i in range(3)]
    for i, k in enumerate(hm):
        hall.council("member", "add", pubkey(k), "--name", f"h{i}", key=hall.convener_key)
    pq = parent.council("proposal", "new", "--title", "Tram or bus", "--options", "one-of:Tram,Bus",
                        "--opens", str(parent.now), "--duration", "1000",
                        key=parent.convener_key)[0]["record_id"]
    local = hall.council("proposal", "new", "--title", "Our view", "--options", "one-of:Tram,Bus",
                         "--opens", str(hall.now), "--duration", "100", key=hm[0])[0]["record_id"]
    elect = hall.council("proposal", "new", "--title", "Delegate", "--select", "vote", "--parent",
                         parent.key, "--candidate", f"{pubkey(hm[0])}:first", "--candidate",
                         f"{pubkey(hm[1])}:second", "--opens", str(hall.now), "--duration", "100",
                         "--term-days", "30", key=hm[0])[0]["record_id"]
    for k in hm:
        hall.council("vote", local, "Tram", key=k)
        hall.council("vote", elect, "first", key=k)
    for n in (parent, hall):
        n.set_clock(parent.now + 101)
    cred = hall.wait_for(lambda: (hall.council("delegate", "list")[0].get("delegates") or [None])[0],
                         "the credential at the hall")["credential_id"]
    # Mandated and countersigned before the parent is set: the delivery is
    # receipted and kept, with nowhere to go yet ...
    r, _ = hall.council("mandate", "new", "--credential", cred, "--instruction",
                        f"decision={local},parent-proposal={pq},binding,choice=0",
                        key=hall.convener_key)
    hall.council("mandate", "accept", r["mandate"], key=hm[0], json_out=False)
    t.eq(hall.council("federation")[0]["outbox"], 0, "no parent yet: nothing queued")
    # ... and goes up, after the decision it cites, once the parent is set
    # (it used to go nowhere: the parent never saw the delegate).
    hall.council("parent", "set", parent.url, parent.key, key=hall.convener_key)
    hall.wait_for(lambda: len(hall.council("parent", "proposals")[0].get("proposals", [])) >= 1
                  or None, "the parent's proposal followed")
    hall.wait_for(lambda: hall.council("federation")[0]["outbox"] == 0 or None,
                  "the delivery at the parent")
    t.eq(hall.council("federation")[0]["dead"], 0, "nothing set aside")
    listed, rc = parent.council("delegate", "list", check=False)
    t.check(rc == 0 and cred in [d["credential_id"] for d in listed.get("delegates", [])],
            f"the parent lists the delivered credential: {rc} {json.dumps(listed)[:200]}")
    rc, _, err = run([COUNCIL, "delegate", "vote", pq, "Tram", "--node", parent.url, "--key", hm[0]],
                     check=False)
    t.eq(rc, 0, f"the delegate votes at the parent as mandated: {err!r}")
    rc, _, err = run([COUNCIL, "recall", pubkey(hm[0]), "--node", hall.url, "--via", parent.url,
                      "--key", hm[1]], check=False)
    t.eq(rc, 0, f"a member recalls the delegate by key through the parent: {err!r}")

    # ---- a member the parent never learned ----
    # The whole roll goes up a day ahead of the parent's clock and is set
    # aside; the clock is fixed; the members' recall votes are then refused
    # NOT_MEMBER. They held the outbox, recalls included, until a convener
    # acted: the node now sends the whole roll again ahead of such a row.
    def day_ahead(name):
        """A child council of PARENT, its clock a day ahead, with three
        members and its parent set: its whole roll is refused (INVALID)."""
        c = w.node(name, now=parent.now + 86400).start()
        parent.council("member", "add", c.key, "--name", name, "--council",
                       key=parent.convener_key)
        ms = [keygen(os.path.join(c.dir, f"{name}{i}.key")) for i in range(3)]
        for i, k in enumerate(ms):
            c.council("member", "add", pubkey(k), "--name", f"{name}{i}", key=c.convener_key)
        c.council("parent", "set", parent.url, parent.key, key=c.convener_key)
        return c, ms

    def elect_first(c, ms):
        """Elect ms[0] delegate to PARENT, all three voting; the window of
        100 s is still open."""
        sel = c.council("proposal", "new", "--title", "Delegate", "--select", "vote",
                        "--parent", parent.key, "--candidate", f"{pubkey(ms[0])}:first",
                        "--candidate", f"{pubkey(ms[1])}:second", "--opens", str(c.now),
                        "--duration", "100", "--term-days", "30",
                        key=c.convener_key)[0]["record_id"]
        for k in ms:
            c.council("vote", sel, "first", key=k)

    drift, dm = day_ahead("Drift")
    drift.wait_for(lambda: drift.council("federation")[0]["dead"] == 1 or None,
                   "the far-future roll set aside")
    drift.set_clock(parent.now)
    elect_first(drift, dm)
    for n in (parent, drift):
        n.set_clock(drift.now + 101)
    dcred = drift.wait_for(lambda: (drift.council("delegate", "list")[0].get("delegates")
                                    or [None])[0], "the credential at Drift")["credential_id"]
    for k in dm[1:]:
        drift.council("recall", pubkey(dm[0]), key=k)
    f = drift.wait_for(lambda: (lambda s: s if s["outbox"] == 0 else None)(
        drift.council("federation")[0]), "the recall votes past the parent's NOT_MEMBER")
    t.eq(f["dead"], 1, "nothing more set aside: the roll went again and the votes after it")
    at_parent = {d["credential_id"]: d for d in parent.council("delegate", "list")[0]["delegates"]}
    t.check(dcred in at_parent and at_parent[dcred]["recalled"],
            f"the parent counted the votes and the recall: {at_parent.get(dcred)}")

    # A node whose clock stays a day ahead: the roll sent again is set aside
    # too, so the parent refuses the vote again; the vote then becomes a
    # dead letter instead of holding the outbox.
    ahead, am = day_ahead("Ahead")
    elect_first(ahead, am)
    ahead.set_clock(ahead.now + 101)
    ahead.wait_for(lambda: ahead.council("delegate", "list")[0].get("delegates"),
                   "the credential at Ahead")
    for k in am[1:]:
        ahead.council("recall", pubkey(am[0]), key=k)
    f = ahead.wait_for(lambda: (lambda s: s if s["outbox"] == 0 else None)(
        ahead.council("federation")[0]), "the outbox past votes refused again")
    again = [d for d in f["dead_letters"] if d["kind"] == "recall_vote"]
    t.check(len(again) == 2 and all("NOT_MEMBER" in d["error"] and
                                    "again after the whole roll was sent" in d["error"]
                                    for d in again),
            f"the votes refused again are dead letters: {again}")
    rolls = [d for d in f["dead_letters"] if d["kind"] == "roll"]
    t.eq(len(rolls), 2, "one whole roll at parent set, one sent again for both votes: "
         "a parent refusing them cannot make the child fill its log with rolls")

    # The wait before the next whole roll outlives a restart (it was kept in
    # memory: each restart let one more whole roll go at the first
    # NOT_MEMBER). It is measured by the node's clock: past it, one goes.
    def resend_vote(what):
        """Send a refused vote again; wait until it is refused again; return
        the dead letters of kinds roll and recall_vote."""
        dl = ahead.council("federation")[0].get("dead_letters", [])
        vid = str([d for d in dl if d["kind"] == "recall_vote"][0]["id"])
        ahead.council("federation", "resend", vid, key=ahead.convener_key)
        f = ahead.wait_for(lambda: (lambda s: s if s["outbox"] == 0 else None)(
            ahead.council("federation")[0]), what)
        dl = f.get("dead_letters", [])
        return ([d for d in dl if d["kind"] == "roll"],
                [d for d in dl if d["kind"] == "recall_vote"])

    ahead.stop()
    ahead.start()
    rolls, votes = resend_vote("the resent vote refused again after a restart")
    t.check(len(rolls) == 2 and len(votes) == 2 and
            all("again after the whole roll was sent" in d["error"] for d in votes),
            f"after a restart, still no whole roll within the wait: {len(rolls)} rolls, "
            f"{[d['error'] for d in votes]}")
    ahead.set_clock(ahead.now + 601)
    rolls, votes = resend_vote("the resent vote refused once the wait is over")
    t.check(len(rolls) == 3 and len(votes) == 2,
            f"past the wait (by the node's clock) one whole roll goes again: {len(rolls)} rolls")
    # A parent that refuses every vote and every roll, the votes half an
    # hour apart (a member's recall vote each, or a resend): the wait keeps
    # doubling, so the child logs ever fewer whole rolls (a review found a
    # "quiet spell" counted from the end of the wait gave one per vote).
    before = len(rolls)
    for i in range(6):
        ahead.set_clock(ahead.now + 1801)
        rolls, votes = resend_vote(f"the resent vote refused, half an hour later ({i})")
    t.check(len(rolls) - before <= 3, "a parent refusing everything gets no whole roll for every "
            f"vote half an hour apart: {len(rolls) - before} rolls for 6 votes")
    # A whole day without such a refusal: the wait starts again from 10
    # minutes (another review found it stuck at a day for good after a few
    # refreshes in a node's life).
    ahead.set_clock(ahead.now + 86400 + 1)
    before = len(rolls)
    rolls, votes = resend_vote("the resent vote refused after a quiet day")
    t.check(len(rolls) == before + 1, f"after a quiet day one whole roll goes: {len(rolls) - before}")
    ahead.set_clock(ahead.now + 601)
    rolls, votes = resend_vote("the resent vote refused 10 minutes later")
    t.check(len(rolls) == before + 2, "after a quiet day the wait starts again from 10 minutes: "
            f"{len(rolls) - before} rolls")
    # A clock set back before the last roll ends the wait.
    ahead.set_clock(ahead.now - 1000)
    rolls, votes = resend_vote("the resent vote refused with the clock set back")
    t.check(len(rolls) == before + 3, "a clock set back before the last roll ends the wait: "
            f"{len(rolls) - before} rolls")
    # A node upgraded from before roll_refresh_at whose last roll went while
    # its clock ran far ahead (roll_refresh_after a year on): a wait that far
    # ahead ends (a review found none would go until the clock reached it).
    import sqlite3
    ahead.stop()
    db = sqlite3.connect(os.path.join(ahead.data, "node.db"))
    db.execute("DELETE FROM meta WHERE k = 'roll_refresh_at'")
    db.execute("UPDATE meta SET v = ? WHERE k = 'roll_refresh_after'", (str(ahead.now + 365 * 86400).encode(),))
    db.commit()
    db.close()
    ahead.start()
    before = len(rolls)
    ahead.set_clock(ahead.now + 3 * 86400)
    rolls, votes = resend_vote("the resent vote refused after the upgrade")
    t.check(len(rolls) == before + 1, "an upgraded node with a wait a year ahead (its clock was "
            f"ahead at its last roll) sends a whole roll again: {len(rolls) - before} rolls")
t.finish()
