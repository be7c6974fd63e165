"""End to end, participatory budgeting: a district and two neighborhoods,
real councild processes on 127.0.0.1 driven through `council`, clocks read
from files.
1. `council budget import` opens a round at the district from a small .pb
   (its votes ignored; proposers and need weights kept where the file names
   assemblies by node key); the round reaches both neighborhoods (`council
   budget rounds --node NEIGHBORHOOD`), which show it by index (`budget show`);
2. members vote with `council budget vote` (project ids or indices); a
   second ballot by the same member is refused with ALREADY_VOTED, a ballot
   naming an unknown project is refused locally (exit 2);
3. the clocks pass the close: each neighborhood sends its approval sets up,
   the district allocates with Equal Shares (`budget rounds --json`), a late
   ballot is refused with WINDOW_CLOSED; `council budget export` gives a .pb
   whose `council budget allocate --rule mes --json` equals the district's
   allocation project by project."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
from cnet import COUNCIL, Checks, Workdir, keygen, pubkey, run  # noqa: E402

t = Checks("e2e_budget")
ROLL = {"Riverside": 3, "Hillside": 4}
# Each member's approvals, as given on the command line (ids or indices).
BALLOTS = {
    "Riverside": [["park", "bikes"], ["0"], ["lights", "3"]],
    "Hillside": [["library", "lights"], ["1"], ["pool", "lights"], ["library", "park"]],
}
IDS = ["park", "library", "pool", "bikes", "lights"]
COSTS = [400, 300, 700, 200, 150]
VOTES = {"park": 3, "library": 3, "pool": 1, "bikes": 2, "lights": 3}


def refused(node, *args, key=None):
    """Run a command the node should refuse: (exit status, error name)."""
    out, rc = node.council(*args, key=key, check=False)
    return rc, out.get("name") if isinstance(out, dict) else None


def set_clocks(nodes, when):
    for n in nodes:
        n.set_clock(when)


def rounds(node):
    return node.council("budget", "rounds")[0].get("rounds", [])


with Workdir() as w:
    # ---- the client knows the commands ----
    rc, out, _ = run([COUNCIL, "help"])
    for cmd in ("budget import FILE.pb", "budget rounds", "budget show ROUND_ID",
                "budget vote ROUND_ID PROJECT...", "budget export ROUND_ID [--out FILE]"):
        t.check(cmd in out, f"council help lists {cmd!r}")
    for sub in ("import", "rounds", "show", "vote", "export"):
        rc, out, _ = run([COUNCIL, "budget", sub, "--help"], check=False)
        t.check(rc == 0 and out.startswith(f"Usage: council budget {sub}")
                and "--json" in out, f"council budget {sub} --help")
        rc, out, _ = run([COUNCIL, "help", "budget", sub], check=False)
        t.check(rc == 0 and out.startswith(f"Usage: council budget {sub}"),
                f"council help budget {sub}")
    rc, out, _ = run([COUNCIL, "budget", "import", "--help"])
    t.check("VOTES section is ignored" in out, "budget import --help: the file's votes are ignored")
    rc, out, _ = run([COUNCIL, "budget", "--help"])
    t.check("import rounds show vote export" in out, "council budget --help lists the subcommands")

    # ---- the federation ----
    district = w.node("District West").start()
    hoods = {name: w.node(name, now=district.now) for name in ROLL}
    nodes = [district, *hoods.values()]
    members = {}
    for name, hood in hoods.items():
        hood.start()
        district.council("member", "add", hood.key, "--name", name, "--council", key=district.convener_key)
    for name, hood in hoods.items():
        keys = []
        for i in range(ROLL[name] + 1):           # one more: a member who comes too late
            k = keygen(os.path.join(hood.dir, f"m{i}.key"))
            hood.council("member", "add", pubkey(k), "--name", f"{name} {i}",
                         key=hood.convener_key)
            keys.append(k)
        members[name] = keys
        hood.council("parent", "set", district.url, district.key, key=hood.convener_key)
    for hood in hoods.values():
        hood.wait_for(lambda h=hood: h.council("federation")[0]["outbox"] == 0,
                      "the roll sent to the district")
    river, hill = hoods["Riverside"], hoods["Hillside"]

    # ---- 1. the round, imported at the district ----
    pb = os.path.join(w.path, "district.pb")
    # One name carries U+009B, a C1 control: JSON and a file export keep it
    # as signed; only text for a terminal shows it as '?'.
    with open(pb, "w", encoding="utf-8") as f:
        f.write("META\nkey;value\ndescription;Streets and parks 2027\nnum_projects;5\n"
                "num_votes;2\nbudget;1000\nvote_type;approval\nrule;equalshares\n"
                f"assemblies;{river.key}:1,{hill.key}:1.5,schools:2\n"
                "PROJECTS\nproject_id;cost;name;proposer\n"
                f"park;400;Pocket park;{river.key}\n"
                f"library;300;Library hours;{hill.key}\n"
                "pool;700;Open-air pool;parks-dept\n"
                "bikes;200;Bike lanes \u009b;\n"
                f"lights;150;\"Street lights; east\";{hill.key}\n"
                "VOTES\nvoter_id;vote;assembly\n"
                f"v1;park,bikes;{river.key}\nv2;pool;schools\n")
    opens, closes = district.now, district.now + 100
    imp = ["budget", "import", pb, "--title", "District budget 2027", "--opens", str(opens),
           "--duration", "100", "--rule", "mes"]
    t.eq(refused(district, *imp, key=members["Riverside"][0])[0], 1,
         "budget import by a key that is no convener: refused")
    t.eq(refused(district, *imp[:-2], "--closes", str(closes), key=district.convener_key)[0],
         2, "--duration and --closes together: usage error")
    t.eq(refused(district, "budget", "import", pb + ".missing", "--title", "x", "--duration",
                 "100", key=district.convener_key)[0], 2, "budget import of a missing file")
    rc, text, err = run([COUNCIL, *imp, "--node", district.url, "--key", district.convener_key])
    lines = text.splitlines()
    rid = lines[0]
    t.check(len(rid) == 64 and lines[1].startswith("accepted: seq "),
            f"budget import, human: round id and seq: {text!r}")
    t.check("5 projects, total 1000, rule mes, need weights for 2 assemblies" in text
            and "2 votes are not imported" in text, f"budget import, human: summary: {text!r}")
    t.check('"schools"' in err and "not imported" in err,
            f"budget import warns of an assembly not named by key: {err!r}")

    (v,) = rounds(district)
    r = v["round"]
    t.eq((v["id"], v["owned"], r["title"], r["total"], r["rule"], r["opens"], r["closes"]),
         (rid, True, "District budget 2027", 1000, "EQUAL_SHARES", opens, closes),
         "budget rounds --json at the district: the round, owned")
    t.eq([(p["id"], p["title"], p["cost"], p["proposer"]) for p in r["projects"]],
         [("park", "Pocket park", 400, river.key), ("library", "Library hours", 300, hill.key),
          ("pool", "Open-air pool", 700, ""), ("bikes", "Bike lanes \u009b", 200, ""),
          ("lights", "Street lights; east", 150, hill.key)],
         "projects: id, name as title, cost, proposer only when a node key")
    t.eq([(n["assembly"], n["permille"]) for n in r["needs"]],
         [(river.key, 1000), (hill.key, 1500)], "need weights of the assemblies named by key")
    t.eq(r["node"], district.key, "the round names the district")

    for hood in hoods.values():
        (hv,) = hood.wait_for(lambda h=hood: rounds(h), "the district's round")
        t.eq((hv["id"], hv["owned"], hv["round"]["title"], len(hv["round"]["projects"])),
             (rid, False, "District budget 2027", 5), f"{hood.name}: the round, followed")
        text, _ = hood.council("budget", "rounds", json_out=False)
        t.check(rid in text and "followed" in text and "(open)" in text,
                f"{hood.name}: budget rounds, human: {text!r}")
    text, _ = district.council("budget", "rounds", json_out=False)
    t.check(rid in text and "owned" in text and "total      1000, 5 projects, rule mes" in text,
            f"district: budget rounds, human: {text!r}")
    text, _ = river.council("budget", "show", rid, json_out=False)
    t.check("    2  pool" in text and "    4  lights" in text and "Street lights; east" in text
            and "District budget 2027" in text and "weighs 1.500" in text,
            f"budget show, human: projects by index: {text!r}")
    sv, _ = river.council("budget", "show", rid)
    t.eq((sv["id"], sv["owned"]), (rid, False), "budget show --json: the RoundView")
    t.eq(refused(river, "budget", "show", "ab" * 32), (1, "NOT_FOUND"),
         "budget show of an unknown round")

    # ---- 2. ballots ----
    for name, hood in hoods.items():
        for i, approve in enumerate(BALLOTS[name]):
            if i == 0:
                text, _ = hood.council("budget", "vote", rid, *approve, key=members[name][i],
                                       json_out=False)
                t.check("accepted: seq" in text and "Approved:" in text,
                        f"{name}: budget vote, human: {text!r}")
            else:
                rec, _ = hood.council("budget", "vote", rid, *approve, key=members[name][i])
                t.check(len(rec["record_id"]) == 64, f"{name}: budget vote --json: the Receipt")
    rc, _, err = run([COUNCIL, "budget", "vote", rid, "lights", "--node", river.url,
                      "--key", members["Riverside"][0]], check=False)
    t.check(rc == 1 and "refused: ALREADY_VOTED" in err, f"second ballot, human: {err!r}")
    t.eq(refused(river, "budget", "vote", rid, "pool", key=members["Riverside"][0]),
         (1, "ALREADY_VOTED"), "a second ballot by the same member")
    late = members["Riverside"][ROLL["Riverside"]]
    t.eq(refused(river, "budget", "vote", rid, "skatepark", key=late)[0], 2,
         "a ballot naming an unknown project is refused locally")
    t.eq(refused(river, "budget", "vote", rid, "5", key=late)[0], 2,
         "an index beyond the round: refused locally")
    t.eq(refused(river, "budget", "vote", rid, "park", "0", key=late)[0], 2,
         "the same project twice (id and index): refused locally")
    t.eq(refused(river, "budget", "vote", "cd" * 32, "park", key=late), (1, "NOT_FOUND"),
         "a ballot in an unknown round")
    t.eq(refused(river, "budget", "vote", rid, key=late)[0], 2, "a ballot naming no project")

    # ---- 3. the close: approval sets go up, the district allocates ----
    set_clocks(nodes, closes)
    for hood in hoods.values():
        hood.wait_for(lambda h=hood: rounds(h)[0]["mandated"], "the approval sets sent up")
    t.eq(refused(river, "budget", "vote", rid, "park", key=late), (1, "WINDOW_CLOSED"),
         "a ballot after the close")
    (dv,) = district.wait_for(lambda: [x for x in rounds(district) if x.get("allocation")],
                              "the district's allocation")
    al = dv["allocation"]
    voters = sum(ROLL.values())
    t.eq((dv["profiles"], al["voters"], al["rule"], al["round"]), (2, voters, "EQUAL_SHARES", rid),
         "the allocation: both neighborhoods' profiles, every voter")
    t.eq([(p["id"], p["cost"], p["votes"]) for p in al["projects"]],
         [(i, c, VOTES[i]) for i, c in zip(IDS, COSTS)], "the allocation: votes per project")
    t.eq(al["spent"], sum(p["cost"] for p in al["projects"] if p["selected"]),
         "spent: the selected projects' costs")
    t.check(al["spent"] <= 1000 and any(p["selected"] for p in al["projects"]),
            "something is funded, within the budget")
    text, _ = district.council("budget", "rounds", json_out=False)
    t.check("(allocated)" in text and f"spent {al['spent']} of 1000, {voters} voters" in text,
            f"budget rounds, human: the allocation: {text!r}")
    text, _ = district.council("budget", "show", rid, json_out=False)
    t.check("allocation mes" in text and "price/voter" in text,
            f"budget show, human: the allocation: {text!r}")

    # The export, allocated offline, is the node's allocation.
    out_pb = os.path.join(w.path, "export.pb")
    ex, _ = district.council("budget", "export", rid, "--out", out_pb)
    with open(out_pb, encoding="utf-8") as f:
        exported = f.read()
    t.eq((ex["round"], ex["out"], ex["bytes"]), (rid, out_pb, len(exported.encode())),
         "budget export --out --json")
    text, _ = district.council("budget", "export", rid, json_out=False)
    t.eq(text, exported, "budget export to stdout: the same text, U+009B included")
    t.check("Bike lanes \u009b" in exported, "the export keeps the name as signed")
    ej, _ = district.council("budget", "export", rid)
    t.eq(ej["pb"], exported, "budget export --json: the same text")
    chk = json.loads(run([COUNCIL, "budget", "check", out_pb, "--json"])[1])
    t.eq((chk["budget"], chk["projects"], chk["voters"], chk["assemblies"], chk["need_weights"],
          chk["rule"]), (1000, 5, voters, 2, True, "equalshares"),
         "the export: budget, projects, voters, weighted assemblies, the round's rule")
    off = json.loads(run([COUNCIL, "budget", "allocate", out_pb, "--rule", "mes", "--json"])[1])
    # Without --rule, the rule the export names: the same allocation.
    t.eq(json.loads(run([COUNCIL, "budget", "allocate", out_pb, "--json"])[1]), off,
         "budget allocate takes the export's rule (equalshares: mes)")
    # A rule this client does not run is not guessed.
    other_pb = os.path.join(w.path, "add1.pb")
    with open(other_pb, "w", encoding="utf-8") as f:
        f.write(exported.replace("\nrule;equalshares\n", "\nrule;equalshares/add1\n", 1))
    rc, _, err = run([COUNCIL, "budget", "allocate", other_pb], check=False)
    t.check(rc == 2 and "equalshares/add1" in err and "--rule" in err,
            f"budget allocate refuses to guess an unknown rule: {rc} {err!r}")
    t.eq(off["spent"], al["spent"], "offline spent = the node's")
    t.eq(len(off["projects"]), len(al["projects"]), "offline: as many projects")
    for o, p in zip(off["projects"], al["projects"]):
        t.eq((o["id"], o["cost"], o["votes"], o["selected"], o["completion"]),
             (p["id"], p["cost"], p["votes"], p["selected"], p["completion"]),
             f"project {p['id']}: offline = node")
        if o["price"] is None:
            t.check(p["price"] == 0, f"project {p['id']}: no MES price at the node either")
        else:
            t.check(abs(o["price"] - p["price"]) <= 1e-9 * max(1.0, abs(p["price"])),
                    f"project {p['id']}: price {o['price']} = {p['price']}")

    # A neighborhood's export: its own members' ballots.
    rpb = os.path.join(w.path, "riverside.pb")
    river.council("budget", "export", rid, "--out", rpb, json_out=False)
    chk = json.loads(run([COUNCIL, "budget", "check", rpb, "--json"])[1])
    t.eq(chk["voters"], ROLL["Riverside"], "Riverside's export: its own voters")
    t.eq(refused(district, "budget", "export", "ef" * 32)[0], 1, "export of an unknown round")

    # A second round that takes project proposals from the neighborhoods
    # first (--proposals-close, at or before the vote opens).
    now = district.now
    imp2 = ["budget", "import", pb, "--title", "District budget 2028", "--opens",
            str(now + 500), "--duration", "100"]
    t.eq(refused(district, *imp2, "--proposals-close", str(now + 600),
                 key=district.convener_key)[0], 2,
         "--proposals-close after --opens: usage error")
    text, _ = district.council(*imp2, "--proposals-close", str(now + 200),
                               key=district.convener_key, json_out=False)
    t.check(f"child councils propose projects until {now + 200}" in text,
            f"budget import --proposals-close, human: {text!r}")
    (r2,) = [v["round"] for v in rounds(district) if v["round"]["title"] == "District budget 2028"]
    t.eq((r2["proposals_close"], r2["opens"]), (now + 200, now + 500),
         "the round carries its proposals window")

    # The export of a closed round is the profile it was allocated with,
    # whatever the roll has become since: a council gone, its voters too.
    district.council("member", "remove", river.key, key=district.convener_key)
    text, _ = district.council("budget", "export", rid, json_out=False)
    t.eq(text, exported, "after a child council leaves, the export still reproduces the allocation")

    for n in nodes:
        vv, _ = n.council("verify")
        t.eq(vv and vv.get("ok"), True, f"council verify {n.name}")
t.finish()
