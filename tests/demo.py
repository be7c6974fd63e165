"""demo.py: a three-level Councilnet federation on this machine, narrated.

    python3 tests/demo.py BUILD_DIR [--keep]        (make demo runs it)

One city council, two districts, four neighborhoods: seven councild
processes on 127.0.0.1 (free ports, the machine's real clock), driven only
through the `council` client. Neighborhoods decide a local question and
elect their delegates; the districts draw their city delegate by lot among
the neighborhood delegates; a city question goes down, mandates come up,
each level weighs the people its member councils speak for; then the
members of one neighborhood recall their delegate, who sits at the city.
Everything is stopped at the end (also on Ctrl-C or an error); the data
folders are removed unless --keep is given."""
import argparse
import glob
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time

HERE = os.path.dirname(os.path.abspath(__file__))
WINDOW_LOCAL = 4          # seconds: the neighborhoods' first votes
WINDOW_LOT = 3            # the districts' draw
WINDOW_HOOD = 4           # then, from the moment the city asks: neighborhoods vote,
WINDOW_DISTRICT = 7       # districts decide on their neighborhoods' mandates,
WINDOW_CITY = 10          # and the city on its districts'
TRAM, BUS = 0, 1

# Districts and their neighborhoods; each member's tram-or-bus vote.
CITY = "City council"
DISTRICTS = {
    "District West": {"Riverside": "TTB", "Old Town": "TBBBB"},
    "District East": {"Hillside": "TTTB", "Harbour": "TTTTBB"},
}
NAMES = ["Alice", "Bruno", "Chen", "Dalia", "Emeka", "Fatima", "Goran", "Hana", "Ivo",
         "Jana", "Kofi", "Lena", "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa"]

START = time.monotonic()
COUNCIL = "council"


def parse_args():
    ap = argparse.ArgumentParser(description="Run the Councilnet federation demo.")
    ap.add_argument("build", help="the build folder holding councild and council")
    ap.add_argument("--keep", action="store_true", help="keep the data folders afterwards")
    return ap.parse_args()


# ---- narration ----

def elapsed():
    return time.monotonic() - START


def step(title):
    print(f"\n[{elapsed():5.1f} s] == {title} ==", flush=True)


def say(text):
    for para in textwrap.dedent(text).strip().split("\n\n"):
        print(textwrap.fill(" ".join(para.split()), width=78, initial_indent="  ",
                            subsequent_indent="  "))
    sys.stdout.flush()


def short(s):
    """Shorten 64-hex-digit keys and ids in a shown command line."""
    return re.sub(r"\b([0-9a-f]{8})[0-9a-f]{56}\b", r"\1…", s)


def show_cmd(args):
    words = []
    for a in args:
        a = short(a)
        words.append(f"'{a}'" if (" " in a or not a) else a)
    print("    $ council " + " ".join(words))


def show_out(text, limit=40):
    lines = text.rstrip("\n").split("\n") if text.strip() else []
    for line in lines[:limit]:
        print("      " + line)
    if len(lines) > limit:
        print(f"      ... ({len(lines) - limit} more lines)")
    sys.stdout.flush()


class Failed(Exception):
    pass


def council(node, *args, key=None, json_out=False, show=False, check=True, node_key=None,
            cwd=None):
    """Run `council ARGS --node URL`; return (stdout, exit status) or the
    parsed JSON with --json."""
    cmd = [*args, "--node", node.url]
    if node_key:
        cmd += ["--node-key", node_key]
    if key:
        cmd += ["--key", key]
    if json_out:
        cmd.append("--json")
    if show:
        show_cmd(cmd)
    # the members' clients keep every receipt, one folder per node
    receipts = os.path.join(node.dir, "receipts")
    os.makedirs(receipts, exist_ok=True)
    env = dict(os.environ, COUNCIL_RECEIPTS=receipts)
    p = subprocess.run([COUNCIL, *cmd], capture_output=True, text=True, timeout=60, env=env,
                       cwd=cwd)
    if check and p.returncode != 0:
        raise Failed(f"council {short(' '.join(cmd))} exited {p.returncode}:\n"
                     f"{p.stdout}{p.stderr}")
    if show:
        show_out(p.stdout + (p.stderr if p.returncode else ""))
    if json_out:
        return (json.loads(p.stdout) if p.stdout.strip() else None), p.returncode
    return p.stdout, p.returncode


def wait_for(pred, what, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.05)
    raise Failed(f"timed out waiting for {what}")


def sleep_until(t, why):
    left = t - time.time()
    if left > 0:
        print(f"  (waiting {left:.1f} s for {why})", flush=True)
        time.sleep(left)


# ---- the nodes ----

class Council:
    """One council: its councild (a cnet.Node on the real clock) and people."""

    def __init__(self, cnet, workdir, name, parent=None):
        self.name = name
        self.node = cnet.Node(workdir, name, clock_file=False)
        self.parent = parent
        self.members = []          # (name, key file, public key, tram-or-bus vote)

    @property
    def url(self):
        return self.node.url

    @property
    def key(self):
        return self.node.key

    @property
    def convener(self):
        return self.node.convener_key

    def run(self, *args, **kw):
        return council(self.node, *args, **kw)

    def get(self, *args, **kw):
        return council(self.node, *args, json_out=True, **kw)[0]


def decision(c, pid):
    def get():
        d, rc = council(c.node, "decision", "show", pid, json_out=True, check=False)
        return d if rc == 0 else None
    return wait_for(get, f"the decision at {c.name}")


def propose(c, author, *args):
    r = c.get("proposal", "new", *args, key=author)
    return r["record_id"], int(time.time())


def credential_of(c, delegate, issuer=None):
    for v in c.get("delegate", "list")["delegates"]:
        if v["credential"]["delegate"] == delegate and (issuer is None or v["issuer"] == issuer):
            return v
    return None


def main():
    global COUNCIL
    args = parse_args()
    build = os.path.abspath(args.build)
    os.environ["CN_COUNCILD"] = os.path.join(build, "councild")
    os.environ["CN_COUNCIL"] = COUNCIL = os.path.join(build, "council")
    for prog in (os.environ["CN_COUNCILD"], COUNCIL):
        if not os.access(prog, os.X_OK):
            sys.exit(f"demo: {prog} is missing; build first (make build)")
    sys.path.insert(0, HERE)
    import cnet                    # reads CN_COUNCILD and CN_COUNCIL at import

    workdir = tempfile.mkdtemp(prefix="councilnet-demo-")
    councils = []

    def on_term(signum, frame):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, signal.default_int_handler)   # even if started ignoring it
    status = 1
    try:
        run_demo(cnet, workdir, councils)
        status = 0
    except KeyboardInterrupt:
        print("\ndemo: interrupted", file=sys.stderr)
        status = 130
    except (Failed, cnet.Failure) as e:
        print(f"\ndemo: failed: {e}", file=sys.stderr)
    finally:
        for c in reversed(councils):
            try:
                c.node.stop()
            except Exception as e:     # keep stopping the others
                print(f"demo: stopping {c.name}: {e}", file=sys.stderr)
        print(f"\n[{elapsed():5.1f} s] all {len(councils)} nodes stopped.")
        if args.keep:
            print(f"The data folders are kept in {workdir}")
            print("(each council: data/node.db, data/node.key, councild.log, key files)")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
            print(f"Removed {workdir} (run with --keep to keep it).")
    return status


def run_demo(cnet, workdir, councils):
    print("Councilnet demo: a city, two districts, four neighborhoods, on 127.0.0.1.")
    print(f"Data folders: {workdir}/<council>/data (one SQLite log and node key each)")

    # ---- the federation ----
    step("Seven councils start")
    say("""Every council runs its own node: its own process, database and Ed25519
        key. A neighborhood's members are people; a district's members are its
        neighborhoods; the city's members are the districts.""")
    city = Council(cnet, workdir, CITY)
    councils.append(city)
    districts, hoods = {}, {}
    for dname, hs in DISTRICTS.items():
        d = Council(cnet, workdir, dname, parent=city)
        councils.append(d)
        districts[dname] = d
        for hname in hs:
            h = Council(cnet, workdir, hname, parent=d)
            councils.append(h)
            hoods[hname] = h
    for c in councils:
        c.node.start(extra=("--set", "follow_interval_ms=200"))
        print(f"  {c.name:14} {c.url}  node key {c.key[:16]}…  data in "
              f"{os.path.relpath(c.node.data, workdir)}")

    step("Each council joins its parent")
    say("""The parent's convener admits the child council's node key as a member;
        the child's convener names its parent with `council parent set`. From then
        on the child sends its roll (member keys only), its delegates'
        credentials, mandates and recall votes up, and follows the parent's log.""")
    for c in councils[1:]:
        c.parent.run("member", "add", c.key, "--name", c.name, "--council", key=c.parent.convener)
    names = iter(NAMES)
    for (dname, hs) in DISTRICTS.items():
        for hname, votes in hs.items():
            h = hoods[hname]
            for v in votes:
                person = next(names)
                k = cnet.keygen(os.path.join(h.node.dir, person.lower() + ".key"))
                h.run("member", "add", cnet.pubkey(k), "--name", person, key=h.convener)
                h.members.append((person, k, cnet.pubkey(k), TRAM if v == "T" else BUS))
            print(f"  {hname:10} ({dname}): " + ", ".join(m[0] for m in h.members))
    for c in councils[1:]:
        c.run("parent", "set", c.parent.url, c.parent.key, key=c.convener,
              show=c.name == "Riverside")
    river = hoods["Riverside"]
    wait_for(lambda: all(c.get("federation")["outbox"] == 0 for c in councils[1:]),
             "the rolls to go up")
    river.run("federation", show=True)
    say("""18 people in all. The city's roll holds the two districts; each district
        tells the city how many people it speaks for, as each neighborhood tells its
        district.""")
    city.run("member", "list", show=True)

    # ---- neighborhoods: a local question and a delegate ----
    step("Neighborhoods decide a local question and elect their delegates")
    say(f"""Each neighborhood votes on its own question, and elects by vote a delegate
        to its district (a selection: the candidates are two members; the term starts
        when the vote closes). Windows of {WINDOW_LOCAL} seconds here; days in real life,
        and a member's selection must stay open a day by default, so the conveners
        open these.""")
    local, elect = {}, {}
    closes = 0
    for hname, h in hoods.items():
        d = h.parent
        a, b = h.members[0], h.members[1]
        local[hname], t0 = propose(h, a[1], "--title", "Turn the empty lot into a garden?",
                                   "--duration", str(WINDOW_LOCAL))
        elect[hname], _ = propose(h, h.convener, "--title", f"Our delegate to {d.name}",
                                  "--select", "vote", "--parent", d.key,
                                  "--candidate", f"{a[2]}:{a[0]}",
                                  "--candidate", f"{b[2]}:{b[0]}",
                                  "--duration", str(WINDOW_LOCAL), "--term-days", "365")
        closes = max(closes, t0 + WINDOW_LOCAL)
        for i, (person, k, pk, _) in enumerate(h.members):
            h.run("vote", local[hname], "yes" if i != 1 else "no", key=k)
            h.run("vote", elect[hname], a[0] if i != len(h.members) - 1 else b[0], key=k)
    print("  every member voted on both.")
    sleep_until(closes + 0.3, "the windows to close")
    for hname, h in hoods.items():
        dl = decision(h, local[hname])
        ds = decision(h, elect[hname])
        who = next(m[0] for m in h.members if m[2] == ds["selected"][0])
        print(f"  {hname:10} garden: {'yes' if dl['passed'] else 'no'} "
              f"({dl['counts'][0]} yes, {dl['counts'][1]} no); delegate: {who}")
    h = river
    h.run("decision", "show", elect["Riverside"], show=True)
    dele = {hname: h.members[0] for hname, h in hoods.items()}     # elected, as above
    cred = {}
    for hname, h in hoods.items():
        cred[hname] = credential_of(h, dele[hname][2])["credential_id"]
        wait_for(lambda h=h, n=hname: credential_of(h.parent, dele[n][2], h.key),
                 f"{hname}'s credential at the district")
    say("""The node signs a credential for each delegate and forwards it to the
        district, which now knows the delegates its neighborhoods sent:""")
    west = districts["District West"]
    for v in west.get("delegate", "list")["delegates"]:
        issuer = next(c.name for c in councils if c.key == v["issuer"])
        who = next(m[0] for h in hoods.values() for m in h.members
                   if m[2] == v["credential"]["delegate"])
        print(f"  at {west.name}: {who}, credential {v['credential_id'][:16]}… "
              f"issued by {issuer}")

    # ---- districts: a city delegate by lot ----
    step("Districts draw their city delegate by lot")
    say(f"""Each district opens a draw among volunteers; the neighborhood delegates
        volunteer. When the {WINDOW_LOT}-second window closes the district draws one,
        with a seed anyone can recompute from the log and the node's signature of
        the lot, which nobody could know before the close.""")
    lot, closes = {}, 0
    for dname, d in districts.items():
        lot[dname], t0 = propose(d, d.convener, "--title", f"{dname}'s delegate to the city",
                                 "--select", "lot", "--seats", "1", "--parent", city.key,
                                 "--duration", str(WINDOW_LOT), "--term-days", "365")
        closes = max(closes, t0 + WINDOW_LOT)
        for hname in DISTRICTS[dname]:
            d.run("volunteer", lot[dname], key=dele[hname][1], show=(hname == "Riverside"))
    sleep_until(closes + 0.3, "the draws")
    city_dele, dcred = {}, {}
    for dname, d in districts.items():
        ds = decision(d, lot[dname])
        hname = next(n for n in DISTRICTS[dname] if dele[n][2] == ds["selected"][0])
        city_dele[dname] = hname
        print(f"  {dname}: drawn {dele[hname][0]} (delegate of {hname}) "
              f"among {len(ds['volunteers'])} volunteers")
        dcred[dname] = credential_of(d, dele[hname][2], "")["credential_id"]   # its own
    west.run("sortition", "verify", lot["District West"], show=True)
    for dname, d in districts.items():
        wait_for(lambda d=d, n=dname: credential_of(city, dele[city_dele[n]][2], d.key),
                 f"{dname}'s credential at the city")
    say("""A district's credential for a delegate of delegates derives from the one
        the neighborhood gave: if the neighborhood recalls that person, the city
        seat falls too.""")

    # ---- the city question goes down ----
    step("The city asks: tram or bus?")
    say("""The city's convener puts the question with --weight-by-roll: a
        district's ballot will weigh the people it speaks for. The districts follow
        the city's log and see it; each district puts the question to its
        neighborhoods, and each neighborhood to its members.""")
    now = int(time.time())
    pc, _ = propose(city, city.convener, "--title", "Tram line or bus lanes for the city?",
                    "--options", "one-of:Tram line,Bus lanes", "--threshold", "plurality",
                    "--weight-by-roll", "--closes", str(now + WINDOW_CITY))
    pd = {}
    for dname, d in districts.items():
        pd[dname], _ = propose(d, d.convener, "--title", "How should the district answer "
                               "the city: tram line or bus lanes?",
                               "--options", "one-of:Tram line,Bus lanes", "--threshold",
                               "plurality", "--weight-by-roll",
                               "--closes", str(now + WINDOW_DISTRICT))
    pn = {}
    for hname, h in hoods.items():
        pn[hname], _ = propose(h, h.members[0][1], "--title", "Tram line or bus lanes?",
                               "--options", "one-of:Tram line,Bus lanes",
                               "--threshold", "plurality", "--closes", str(now + WINDOW_HOOD))
    wait_for(lambda: any(p["id"] == pc for p in west.get("parent", "proposals")
                         .get("proposals", [])), "the city question at District West")
    west.run("parent", "proposals", show=True, check=True)
    wait_for(lambda: any(p["id"] == pd["District West"] for p in
                         river.get("parent", "proposals").get("proposals", [])),
             "the district question at Riverside")
    river.run("parent", "proposals", show=True)

    # ---- neighborhoods vote and mandate ----
    step("Neighborhoods vote, and bind their delegates")
    for hname, h in hoods.items():
        for person, k, pk, v in h.members:
            h.run("vote", pn[hname], "Tram line" if v == TRAM else "Bus lanes", key=k)
    print("  all 18 members voted.")
    sleep_until(now + WINDOW_HOOD + 0.3, "the neighborhoods' windows")
    hood_win = {}
    for hname, h in hoods.items():
        dn = decision(h, pn[hname])
        hood_win[hname] = dn["winner"]
        print(f"  {hname:10} {dn['counts'][0]} tram, {dn['counts'][1]} bus -> "
              f"{'tram line' if dn['winner'] == TRAM else 'bus lanes'}")
    say("""Each neighborhood's convener writes a binding mandate citing that decision
        and naming the district's question; the delegate countersigns it, and the
        signed bundle goes up. At the district it becomes the neighborhood's ballot,
        weighing its roll.""")
    for hname, h in hoods.items():
        show = hname == "Riverside"
        out, _ = h.run("mandate", "new", "--credential", cred[hname], "--instruction",
                       f"decision={pn[hname]},parent-proposal={pd[h.parent.name]},binding,"
                       f"choice={hood_win[hname]}", key=h.convener, show=show)
        mid = out.split("mandate ")[-1].strip()
        h.run("mandate", "accept", mid, key=dele[hname][1], show=show)
    for dname, d in districts.items():
        wait_for(lambda d=d, n=dname: d.get("proposal", "show", pd[n])["ballots"] == 2,
                 f"both mandates at {dname}")
    print("  both neighborhoods' ballots are in at each district.")

    # ---- districts decide and mandate their city delegate ----
    sleep_until(now + WINDOW_DISTRICT + 0.3, "the districts' windows")
    step("Districts decide from the mandates, and bind their city delegates")
    dist_win = {}
    for dname, d in districts.items():
        dd = decision(d, pd[dname])
        dist_win[dname] = dd["winner"]
        parts = ", ".join(
            f"{next(n for n in DISTRICTS[dname] if hoods[n].key == c['member'])} "
            f"{'tram' if c['choices'][0] == TRAM else 'bus'} x{c['weight']}"
            for c in dd["contributions"])
        print(f"  {dname}: tram {dd['counts'][0]}, bus {dd['counts'][1]} ({parts})")
    west.run("decision", "show", pd["District West"], show=True)
    for dname, d in districts.items():
        hname = city_dele[dname]
        out, _ = d.run("mandate", "new", "--credential", dcred[dname], "--instruction",
                       f"decision={pd[dname]},parent-proposal={pc},binding,"
                       f"choice={dist_win[dname]}", key=d.convener)
        mid = out.split("mandate ")[-1].strip()
        d.run("mandate", "accept", mid, key=dele[hname][1])
        print(f"  {dname}: {dele[hname][0]} carries "
              f"{'tram line' if dist_win[dname] == TRAM else 'bus lanes'} to the city")
    wait_for(lambda: city.get("proposal", "show", pc)["ballots"] == 2,
             "both districts' ballots at the city")
    wd = city_dele["District West"]
    other = "Tram line" if dist_win["District West"] == BUS else "Bus lanes"
    say(f"""A delegate carries the assembly's decision, nothing else. If
        {dele[wd][0]} tried to vote "{other}" at the city:""")
    city.run("delegate", "vote", pc, other, key=dele[wd][1], show=True, check=False)

    # ---- the city decides ----
    sleep_until(now + WINDOW_CITY + 0.3, "the city's window")
    step("The city decides")
    dc = decision(city, pc)
    city.run("decision", "show", pc, show=True)
    for c in dc["contributions"]:
        dname = next(n for n, d in districts.items() if d.key == c["member"])
        print(f"  {dname} answered {'tram line' if c['choices'][0] == TRAM else 'bus lanes'} "
              f"for {c['weight']} people")
    print(f"  The city: {'TRAM LINE' if dc['winner'] == TRAM else 'BUS LANES'} "
          f"({dc['counts'][0]} to {dc['counts'][1]}, of {dc['roll']} people).")

    # ---- recall ----
    hname = city_dele["District West"]
    h = hoods[hname]
    person, dkey_file, dkey, _ = dele[hname]
    step(f"{hname} recalls {person}")
    need = len(h.members) // 2 + 1
    say(f"""{person} sits for {hname} at District West, and for District West at the
        city. Any member of {hname} can sign a recall vote; when more than half of its
        roll of {len(h.members)} has voted ({need}), {hname} recalls {person}. The votes
        go up as they arrive, the district counts them against {hname}'s roll, and the
        credential at the city derives from it.""")
    voters = [m for m in h.members if m[2] != dkey][:need]
    for m in voters[:-1]:
        h.run("recall", dkey, key=m[1], show=(m is voters[0]))
    v = credential_of(city, dkey, west.key)
    print(f"  {need - 1} vote{'s' if need > 2 else ''} so far; at the city the credential is "
          f"{'void' if v['recalled'] else 'still live'}.")
    t0 = time.monotonic()
    h.run("recall", dkey, key=voters[-1][1], show=True)
    t_vote = time.monotonic()
    wait_for(lambda: credential_of(west, dkey, h.key)["recalled"], "the recall at the district")
    t_dist = time.monotonic()
    wait_for(lambda: credential_of(city, dkey, west.key)["recalled"], "the recall at the city")
    t_city = time.monotonic()
    print(f"  last recall vote accepted by {hname} after {1000 * (t_vote - t0):.0f} ms")
    print(f"  credential void at District West {1000 * (t_dist - t0):.0f} ms after it was sent")
    print(f"  credential void at the city      {1000 * (t_city - t0):.0f} ms after it was sent")
    print("  (times include the client polling the nodes)")
    for where, c in (("District West", west), ("the city", city)):
        for r in c.get("recall", "list")["recalls"]:
            signer = "by itself"
            if r["node"] != c.key:
                signer = "by " + next(x.name for x in councils if x.key == r["node"])
            why = (f"{r['votes']} of {r['roll']} recall votes" if r["roll"]
                   else "falls with the credential it derives from")
            print(f"  recall at {where}: credential {r['credential'][:16]}…, signed {signer}; "
                  f"{why}")
    say(f"""Every act under the recalled credential is refused now, at every level.
        {person} trying to vote at the city:""")
    city.run("delegate", "vote", pc, "Tram line", "--credential", dcred["District West"],
             key=dkey_file, show=True, check=False)
    for c in councils:
        v = c.get("verify")
        if not v.get("ok"):
            raise Failed(f"council verify at {c.name}: {v}")

    step("Receipts")
    say("""Every act above was answered with a receipt: the node's signature that the act is
        entry N of its log, sent only once it was on disk. The clients kept them
        (COUNCIL_RECEIPTS); anyone can check them later against the node's signed log.""")
    total = 0
    for c in councils:
        files = sorted(glob.glob(os.path.join(c.node.dir, "receipts", "*.receipt")))
        if not files:
            continue
        res, rc = council(c.node, "receipt", "check", *files, json_out=True, check=False)
        bad = [r for r in (res or {}).get("receipts", []) if not r["ok"]]
        if rc != 0 or bad:
            raise Failed(f"council receipt check at {c.name}: {bad or rc}")
        total += len(files)
    river = hoods["Riverside"]
    kept = os.path.join(river.node.dir, "receipts")
    river.run("receipt", "check", *sorted(os.listdir(kept))[:2], show=True, cwd=kept)
    print(f"  {total} receipts kept at {len(councils)} nodes, each signed by its node and found "
          "in its signed log.")
    step("Done")
    say(f"""All seven logs verify (`council verify`): each is a hash chain signed by its
        node. The demo took {elapsed():.0f} s.""")


if __name__ == "__main__":
    sys.exit(main())
