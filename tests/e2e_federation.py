"""End to end, federation: a district and two neighborhoods, real councild
processes on 127.0.0.1 driven through `council`, clocks read from files.
1. `council parent set` links each neighborhood to the district; `council
   federation` shows the link; the district's question reaches the
   neighborhoods (`council parent proposals`);
2. each neighborhood decides and elects a delegate; the binding mandates,
   accepted by the delegates, become the neighborhoods' weighted ballots at
   the district; `council delegate vote` against a binding instruction, or
   without a mandate, is refused with MANDATE_VIOLATION; the district's
   decision is the weighted sum, with each neighborhood's contribution;
3. a captured child: a neighborhood's node is stopped, its members send
   their recall votes straight to the district (`council recall --via`),
   which recalls the delegate once more than half of that roll voted."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from cnet import COUNCIL, Checks, Workdir, keygen, pubkey, run  # noqa: E402

t = Checks("e2e_federation")
ROLL = {"Riverside": 3, "Hillside": 5}
TRAM = {"Riverside": 2, "Hillside": 1}          # tram votes; the rest vote bus


def refused(node, *args, key=None):
    """Run a command the node should refuse: (exit status, error name)."""
    out, rc = node.council(*args, key=key, check=False)
    return rc, out.get("name") if isinstance(out, dict) else None


def decision(node, pid):
    def get():
        d, rc = node.council("decision", "show", pid, check=False)
        return d if rc == 0 else None
    return node.wait_for(get, f"decision on {pid[:16]}")


def set_clocks(nodes, when):
    for n in nodes:
        n.set_clock(when)


def credential_at(node, delegate, issuer=None):
    """The credential of DELEGATE the node lists (issued by ISSUER), or None."""
    for v in node.council("delegate", "list")[0]["delegates"]:
        if v["credential"]["delegate"] == delegate and (issuer is None or v["issuer"] == issuer):
            return v
    return None


with Workdir() as w:
    # The client knows the new commands.
    rc, out, _ = run([COUNCIL, "help"])
    for cmd in ("parent set URL KEY", "parent proposals", "federation", "delegate vote",
                "--via PARENT_URL", "--weight-by-roll"):
        t.check(cmd in out, f"council help lists {cmd!r}")
    for cmd in (["parent", "set"], ["parent", "proposals"], ["federation"],
                ["delegate", "vote"]):
        rc, out, _ = run([COUNCIL, *cmd, "--help"], check=False)
        t.check(rc == 0 and out.startswith("Usage: council " + " ".join(cmd)),
                f"council {' '.join(cmd)} --help")
    rc, out, _ = run([COUNCIL, "recall", "--help"])
    t.check("--via URL" in out and "--via-key" in out, "council recall --help tells of --via")

    # ---- 1. the federation ----
    district = w.node("District West").start()
    hoods = {name: w.node(name, now=district.now) for name in ROLL}
    nodes = [district, *hoods.values()]
    members = {}
    for name, hood in hoods.items():
        hood.start()
        hood.open_selections()
        district.council("member", "add", hood.key, "--name", name, "--council", key=district.convener_key)
    for name, hood in hoods.items():
        # Riverside enrolls its members first and sends its roll with the
        # parent; Hillside links first, each member then goes up on its own.
        if name == "Hillside":
            text, _ = hood.council("parent", "set", district.url, district.key,
                                   key=hood.convener_key, json_out=False)
            t.check("the parent answers with this key" in text and hood.key in text,
                    "parent set, human: key checked, this node's key shown")
        keys = []
        for i in range(ROLL[name]):
            k = keygen(os.path.join(hood.dir, f"m{i}.key"))
            hood.council("member", "add", pubkey(k), "--name", f"{name} {i}", key=hood.convener_key)
            keys.append(k)
        members[name] = keys
        if name == "Riverside":
            r, _ = hood.council("parent", "set", district.url, district.key, key=hood.convener_key)
            t.check(len(r["record_id"]) == 64, "parent set, --json: the Receipt")
    river, hill = hoods["Riverside"], hoods["Hillside"]
    t.eq(refused(river, "parent", "set", district.url, river.key, key=river.convener_key)[0], 2,
         "a node cannot be its own parent (checked locally)")
    t.eq(refused(river, "parent", "set", district.url, hill.key, key=river.convener_key)[0], 1,
         "parent set refuses a KEY the node at URL does not have")
    t.eq(refused(river, "parent", "set", district.url, district.key,
                 key=members["Riverside"][0])[0], 1, "parent set is for conveners only")

    for hood in hoods.values():
        def drained(h=hood):
            f = h.council("federation")[0]
            return f if f["outbox"] == 0 and f["parent_url"] else None
        f = hood.wait_for(drained, "the outbox drained")
        t.eq((f["parent_url"], f["parent_key"], f["dead"]), (district.url, district.key, 0),
             f"{hood.name}: federation status")
    text, _ = river.council("federation", json_out=False)
    t.check(f"Parent:     {district.url}" in text and "Outbox:     0 records" in text,
            "federation, human")
    text, _ = district.council("federation", json_out=False)
    t.check("Parent:     none" in text, "federation at the top: no parent")

    pd = district.council("proposal", "new", "--title", "Tram or bus for the district?",
                          "--options", "one-of:Tram,Bus", "--threshold", "plurality",
                          "--weight-by-roll", "--opens", str(district.now), "--duration", "1000",
                          key=district.convener_key)[0]["record_id"]
    pd2 = district.council("proposal", "new", "--title", "Night buses?",
                           "--opens", str(district.now), "--duration", "5000",
                           key=district.convener_key)[0]["record_id"]
    view, _ = district.council("proposal", "show", pd)
    t.eq(view["proposal"]["rule"]["weight_by_roll"], True, "--weight-by-roll on the wire")
    text, _ = district.council("proposal", "show", pd, json_out=False)
    t.check("weighs the people it speaks for" in text, "proposal show tells of the weight")
    for hood in hoods.values():
        def followed(h=hood):
            pl = h.council("parent", "proposals")[0].get("proposals", [])
            return pl if len(pl) == 2 else None
        pl = hood.wait_for(followed, "the district's proposals")
        t.eq([(p["id"], p["state"], p["proposal"]["title"]) for p in pl],
             [(pd, "OPEN", "Tram or bus for the district?"), (pd2, "OPEN", "Night buses?")],
             f"{hood.name}: parent proposals")
        text, _ = hood.council("parent", "proposals", json_out=False)
        t.check(pd in text and "Tram or bus for the district?" in text and "weighted" in text,
                f"{hood.name}: parent proposals, human")

    # ---- 2. decisions, delegates, mandates ----
    local, elect = {}, {}
    for name, hood in hoods.items():
        m = members[name]
        local[name] = hood.council("proposal", "new", "--title", "Tram or bus?", "--options",
                                   "one-of:Tram,Bus", "--threshold", "plurality",
                                   "--opens", str(hood.now), "--duration", "100",
                                   key=m[0])[0]["record_id"]
        elect[name] = hood.council("proposal", "new", "--title", "Delegate to the district",
                                   "--select", "vote", "--parent", district.key,
                                   "--candidate", f"{pubkey(m[0])}:first",
                                   "--candidate", f"{pubkey(m[1])}:second",
                                   "--opens", str(hood.now), "--duration", "100",
                                   "--term-days", "30", key=m[0])[0]["record_id"]
        for i, k in enumerate(m):
            hood.council("vote", local[name], "Tram" if i < TRAM[name] else "Bus", key=k)
            hood.council("vote", elect[name], "first", key=k)
    set_clocks(nodes, district.now + 101)
    winner, cred, mandate = {}, {}, {}
    for name, hood in hoods.items():
        d = decision(hood, local[name])
        winner[name] = d["winner"]
        t.eq(d["counts"], [TRAM[name], ROLL[name] - TRAM[name]], f"{name}: local counts")
        t.eq(decision(hood, elect[name])["selected"], [pubkey(members[name][0])],
             f"{name}: delegate elected")
        cred[name] = credential_at(hood, pubkey(members[name][0]))["credential_id"]
        up = district.wait_for(lambda h=hood, n=name: credential_at(district,
                                                                    pubkey(members[n][0]), h.key),
                               f"{name}'s credential at the district")
        t.eq((up["credential_id"], up["recalled"]), (cred[name], False),
             f"{name}: the credential reached the district")
        r, _ = hood.council("mandate", "new", "--credential", cred[name], "--instruction",
                            f"decision={local[name]},parent-proposal={pd},binding,"
                            f"choice={winner[name]}", key=hood.convener_key)
        mandate[name] = r["mandate"]
        text, _ = hood.council("mandate", "accept", mandate[name], key=members[name][0],
                               json_out=False)
        t.check("accepted: seq" in text, f"{name}: the delegate accepts the mandate")
    t.eq(winner, {"Riverside": 0, "Hillside": 1}, "Riverside says tram, Hillside bus")

    def ballots(n):
        v, _ = district.council("proposal", "show", pd)
        return v if v["ballots"] == n else None
    district.wait_for(lambda: ballots(2), "both mandates as ballots at the district")

    rd = members["Riverside"][0]
    t.eq(refused(district, "delegate", "vote", pd, "Bus", key=rd), (1, "MANDATE_VIOLATION"),
         "delegate vote against the binding instruction")
    t.eq(refused(district, "delegate", "vote", pd, "Bus", "--credential", cred["Riverside"],
                 key=rd), (1, "MANDATE_VIOLATION"), "the same, credential named")
    t.eq(refused(district, "delegate", "vote", pd2, "yes", key=rd), (1, "MANDATE_VIOLATION"),
         "delegate vote on a proposal the mandate does not name")
    t.eq(refused(district, "delegate", "vote", pd, "Tram", "--credential", cred["Hillside"],
                 key=rd)[0], 2, "delegate vote under another delegate's credential (local)")
    t.eq(refused(river, "delegate", "vote", local["Riverside"], "Tram", key=rd)[0], 2,
         "delegate vote at a node without child credentials (local)")
    text, _ = district.council("delegate", "vote", pd, "Tram", key=rd, json_out=False)
    t.check("accepted: seq" in text and "Choice:     Tram" in text and river.key in text,
            "delegate vote as mandated, human")
    vote_id = text.split("record ")[-1].strip()

    set_clocks(nodes, district.now + 1000)
    d = decision(district, pd)
    t.eq(d["counts"], [ROLL["Riverside"], ROLL["Hillside"]], "district counts: the weighted sum")
    t.eq((d["roll"], d["winner"], d["passed"], d["ballots"]), (8, 1, True, 2),
         "district decision: roll 8, bus wins")
    contrib = {c["member"]: (c["choices"], c["weight"], c["via"]) for c in d["contributions"]}
    t.eq(contrib, {river.key: ([0], 3, vote_id),
                   hill.key: ([1], 5, mandate["Hillside"])}, "contributions")
    text, _ = district.council("decision", "show", pd, json_out=False)
    t.check("Councils:   2 council ballots" in text and "Riverside" in text
            and "weight 3" in text and "weight 5" in text, "decision show, human: contributions")
    t.check("8 people" in text, "decision show, human: the people spoken for")

    def decided(h):
        pl = h.council("parent", "proposals")[0]["proposals"]
        return [p for p in pl if p["id"] == pd and p.get("decision")]
    (pp,) = river.wait_for(lambda: decided(river), "the district's decision at Riverside")
    t.eq((pp["state"], pp["decision"]["counts"]), ("CLOSED", [3, 5]),
         "parent proposals: the district's decision")
    text, _ = river.council("parent", "proposals", json_out=False)
    t.check("decided: PASSED, winner: Bus" in text and "Tram 3, Bus 5" in text,
            "parent proposals, human: the decision")

    # ---- 3. a captured child: Hillside's node is down ----
    hill_url = hill.url
    hill.stop()
    hm = members["Hillside"]
    hd = pubkey(hm[0])
    via = ["--via", district.url, "--node-key", hill.key]

    def recall(k, arg, *extra, json_out=True, check=True):
        cmd = [COUNCIL, "recall", arg, "--node", hill_url, *via, *extra, "--key", k]
        if json_out:
            cmd.append("--json")
        return run(cmd, check=check)

    rc, out, err = run([COUNCIL, "recall", cred["Hillside"], "--node", hill_url, "--key", hm[1]],
                       check=False)
    t.eq(rc, 2, "without --via the stopped node cannot be reached")
    rc, out, _ = recall(hm[1], cred["Hillside"])
    t.eq(rc, 0, "recall vote 1 via the district")
    t.check('"record_id"' in out, "recall --via --json: the Receipt")
    rc, out, _ = recall(hm[2], hd, json_out=False)    # the delegate's key, resolved at the parent
    t.check(rc == 0 and f"Sent to:    {district.url}" in out and "stays in office" in out,
            f"recall vote 2 via the district, human: {out!r}")
    rc, out, _ = recall(members["Riverside"][1], cred["Hillside"], check=False)
    t.eq(rc, 1, "a member of another council cannot vote to recall")
    # Nor can the district's own members, a sibling council among them:
    # Hillside's delegate answers to Hillside's members.
    sib = keygen(os.path.join(district.dir, "sibling.key"))
    district.council("member", "add", pubkey(sib), "--name", "Sibling", "--council",
                     key=district.convener_key)
    t.eq(refused(district, "recall", cred["Hillside"], key=sib), (1, "WRONG_NODE"),
         "a member of the district cannot vote to recall a child council's delegate")
    rc, out, _ = recall(hm[3], cred["Hillside"], "--via-key", river.key, check=False)
    t.eq(rc, 1, "--via-key not the parent's: nothing sent")
    v = credential_at(district, hd, hill.key)
    t.eq(v["recalled"], False, "2 of 5: still in office at the district")
    rc, out, _ = recall(hm[3], cred["Hillside"], "--via-key", district.key, json_out=False)
    t.check(rc == 0 and "the delegate is recalled at the parent" in out,
            f"recall vote 3 via the district: recalled, human: {out!r}")
    rc, out, _ = run([COUNCIL, "delegate", "list", "--node", district.url, "--json"])
    (v,) = [x for x in json.loads(out)["delegates"] if x["credential_id"] == cred["Hillside"]]
    t.eq((v["recalled"], v["issuer"]), (True, hill.key),
         "council delegate list at the district: recalled")
    recalls = district.council("recall", "list")[0]["recalls"]
    t.eq([(x["credential"], x["delegate"], x["votes"], x["roll"]) for x in recalls],
         [(cred["Hillside"], hd, 3, 5)], "the district's recall: 3 of Hillside's 5")
    t.eq(refused(district, "delegate", "vote", pd2, "yes", "--credential", cred["Hillside"],
                 key=hm[0]), (1, "CREDENTIAL_REVOKED"),
         "the recalled delegate cannot vote at the district")
    t.eq(refused(district, "delegate", "vote", pd2, "yes", key=hm[0])[0], 2,
         "without --credential: no live credential to pick (local)")
    rc, out, _ = recall(hm[4], cred["Hillside"], check=False)
    t.eq(rc, 1, "no recall vote after the recall")

    # A convener fixes a name: add, remove, add again within one second (the
    # test clock stands still). The third roll update is a record of its
    # own, so the district has K on Riverside's roll and takes K's vote.
    k = keygen(os.path.join(river.dir, "k.key"))
    river.council("member", "add", pubkey(k), "--name", "Kay", key=river.convener_key)
    river.council("member", "remove", pubkey(k), key=river.convener_key)
    river.council("member", "add", pubkey(k), "--name", "Kai", key=river.convener_key)
    river.wait_for(lambda: river.council("federation")[0]["outbox"] == 0, "Riverside's outbox drained")
    rc, out, err = run([COUNCIL, "recall", cred["Riverside"], "--node", river.url, "--via",
                        district.url, "--node-key", river.key, "--key", k, "--json"], check=False)
    t.eq(rc, 0, f"a member re-added in the same second votes at the district: {out!r} {err!r}")

    for n in (district, river):
        v, rc = n.council("verify")
        t.eq(v and v.get("ok"), True, f"council verify {n.name}")
t.finish()
