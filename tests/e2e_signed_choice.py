"""e2e_signed_choice: what a member signs comes from signed records, not from
a node's unsigned views, even through a dishonest node (a proxy on
127.0.0.1 in front of the real one, with the real node's key pinned).

- The proxy lists a proposal's options in reverse order. `council vote ID
  Alpha` still signs Alpha: the client reads the options from the proposal
  record itself, checked to be ID.
- The proxy answers another proposal's record for ID: the client refuses it
  and signs nothing.
- The proxy lists another delegate's credential under a delegate's key:
  `council recall DELEGATE_KEY` refuses it and signs nothing.
- The same person is also a delegate of another assembly (a second real
  node): the proxy lists that council's credential under the key and serves
  its record from the other node. `council recall DELEGATE_KEY` refuses it
  and signs nothing.
- The proxy lists a budget round's projects in reverse order: `council
  budget vote ROUND alpha` still approves alpha, read from the round as its
  owner signed it."""
import ctypes
import hashlib
import ctypes.util
import http.server
import os
import sys
import threading
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from cnet import COUNCIL, Checks, Workdir, keygen, pb_enc, pb_parse, pubkey, run  # noqa: E402

t = Checks("e2e_signed_choice")

with Workdir() as w:
    node = w.node("Riverside").start()
    ms = [keygen(os.path.join(w.path, f"m{i}.key")) for i in range(4)]
    for i, k in enumerate(ms):
        node.council("member", "add", pubkey(k), "--name", f"m{i}", key=node.convener_key)
    pick, _ = node.council("proposal", "new", "--title", "Pick", "--options", "one-of:Alpha,Beta",
                           "--opens", str(node.now), "--duration", "100", key=ms[0])
    other, _ = node.council("proposal", "new", "--title", "Other", "--options",
                            "one-of:Beta,Alpha", "--opens", str(node.now), "--duration", "100",
                            key=ms[0])
    pid, oid = pick["record_id"], other["record_id"]
    # two delegates, drawn by lot among two volunteers
    sel, _ = node.council("proposal", "new", "--title", "Delegates", "--select", "lot", "--seats",
                          "2", "--parent", "cd" * 32, "--opens", str(node.now), "--duration", "100",
                          "--term-days", "30",
                          key=node.convener_key)
    for k in ms[:2]:
        node.council("volunteer", sel["record_id"], key=k)
    pb = os.path.join(w.path, "parks.pb")
    with open(pb, "w") as f:
        f.write("META\nkey;value\nbudget;100\nvote_type;approval\nPROJECTS\nproject_id;cost\n"
                "alpha;10\nbeta;20\nVOTES\nvoter_id;vote\n")
    rid = node.council("budget", "import", pb, "--title", "Parks", "--opens", str(node.now),
                       "--duration", "100", key=node.convener_key)[0]["record_id"]

    mode = {"m": ""}
    swap = {}                   # credential id -> the one to list instead
    foreign = {}                # "id" listed for "instead", its record from "url"
    forged = {}                 # "id" listed for "instead", its envelope "env"
    posted = []                 # paths of the records sent in mode "foreign"

    class Liar(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def relay(self, body=None):
            path = self.path
            if mode["m"] == "other-record" and path == f"/v1/records/{pid}":
                path = f"/v1/records/{oid}"
            url = node.url
            if mode["m"] == "forged" and path == f"/v1/records/{forged['id']}":
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(forged["env"])))
                self.end_headers()
                self.wfile.write(forged["env"])
                return
            if mode["m"] == "forged" and self.command == "POST":
                posted.append(path)
            if mode["m"] == "foreign" and path == f"/v1/records/{foreign['id']}":
                url = foreign["url"]        # the other council's signed credential
            if mode["m"] == "foreign" and self.command == "POST":
                posted.append(path)
            req = urllib.request.Request(url + path, data=body, method=self.command,
                                         headers={"Content-Type": "application/x-protobuf"})
            try:
                with urllib.request.urlopen(req) as r:
                    status, data = r.status, r.read()
            except urllib.error.HTTPError as e:
                status, data = e.code, e.read()
            if self.path.startswith("/v1/proposals/"):
                # ProposalView.proposal (4): its options (6) in reverse order
                out = []
                for num, wt, v in pb_parse(data):
                    if num == 4:
                        p = pb_parse(v)
                        opts = [f for f in p if f[0] == 6]
                        v = pb_enc([f for f in p if f[0] != 6] + opts[::-1])
                    out.append((num, wt, v))
                data = pb_enc(out)
            if self.path == "/v1/budget":
                # each RoundView's round (2): its projects (5) in reverse order
                views = []
                for num, wt, v in pb_parse(data):
                    fields = []
                    for vn, vw, vv in pb_parse(v):
                        if vn == 2:
                            r = pb_parse(vv)
                            projs = [f for f in r if f[0] == 5]
                            if mode["m"] == "extra-project":   # a list it cannot show signed
                                projs = projs + projs[:1]
                            vv = pb_enc([f for f in r if f[0] != 5] + projs[::-1])
                        fields.append((vn, vw, vv))
                    views.append((num, wt, pb_enc(fields)))
                data = pb_enc(views)
            if self.path == "/v1/delegates" and swap:
                # each delegate listed with the other's credential id
                a, b = (bytes.fromhex(x) for x in swap["ids"])
                data = data.replace(a, b"\0" * 32).replace(b, a).replace(b"\0" * 32, b)
            if self.path == "/v1/delegates" and mode["m"] in ("foreign", "forged"):
                # the delegate's own view (issuer: this node), the other
                # council's credential id in it, or a forged one's
                other = foreign if mode["m"] == "foreign" else forged
                data = data.replace(bytes.fromhex(other["instead"]),
                                    bytes.fromhex(other["id"]))
            self.send_response(status)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.relay()

        def do_POST(self):
            self.relay(self.rfile.read(int(self.headers["Content-Length"])))

    liar = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Liar)
    threading.Thread(target=liar.serve_forever, daemon=True).start()
    via = ["--node", f"http://127.0.0.1:{liar.server_address[1]}", "--node-key", node.key]

    rc, _, err = run([COUNCIL, "vote", pid, "Alpha", *via, "--key", ms[1]], check=False)
    t.eq(rc, 0, f"a vote through the proxy is sent: {err!r}")
    mode["m"] = "other-record"
    rc, _, err = run([COUNCIL, "vote", pid, "Alpha", *via, "--key", ms[2]], check=False)
    t.check(rc != 0 and "another record than the one asked" in err,
            f"another proposal's record for ID is refused: {rc} {err!r}")
    mode["m"] = ""
    mode["m"] = "extra-project"
    rc, _, err = run([COUNCIL, "budget", "vote", rid, "alpha", *via, "--key", ms[1]], check=False)
    t.check(rc != 0 and "no signed list" in err,
            f"a project list the node cannot show signed is refused: {rc} {err!r}")
    mode["m"] = ""
    rc, _, err = run([COUNCIL, "budget", "vote", rid, "alpha", *via, "--key", ms[1]], check=False)
    t.eq(rc, 0, f"a budget ballot through the proxy is sent: {err!r}")
    view, _ = node.council("proposal", "show", pid)
    t.eq(view["ballots"], 1, "the refused vote was never signed")
    node.set_clock(node.now + 101)
    d = node.wait_for(lambda: node.council("decision", "show", pid, check=False)[0]
                      if node.council("decision", "show", pid, check=False)[1] == 0 else None,
                      "the decision")
    t.eq(d["counts"][:2], [1, 0], "the ballot is for Alpha, as the member said, not Beta")
    alloc = node.wait_for(lambda: (lambda rs: rs[0].get("allocation") if rs else None)(
        node.council("budget", "rounds")[0].get("rounds", [])), "the allocation")
    t.eq([(p["id"], p.get("votes", 0)) for p in alloc["projects"]], [("alpha", 1), ("beta", 0)],
         "the budget ballot approves alpha, as the member said")

    # recall by a delegate's key, the proxy listing the other's credential
    creds = node.wait_for(lambda: (lambda l: l if len(l) == 2 else None)(
        node.council("delegate", "list")[0].get("delegates", [])), "two credentials")
    swap["ids"] = [c["credential_id"] for c in creds]
    target = creds[0]["credential"]["delegate"]
    rc, _, err = run([COUNCIL, "recall", target, *via, "--key", ms[3]], check=False)
    t.check(rc != 0 and "credential of another delegate" in err,
            f"a recall by key is not signed against another delegate's credential: {rc} {err!r}")
    after = node.council("delegate", "list")[0]["delegates"]
    t.eq([c.get("recall_votes", 0) for c in after], [0, 0], "no recall vote was signed")

    # The same person, elected delegate by another assembly: a credential for
    # the same key, issued by another council (to the same parent).
    swap.clear()
    hill = w.node("Hillside").start()
    dk = next(k for k in ms if pubkey(k) == target)
    h1 = keygen(os.path.join(w.path, "h1.key"))
    for name, k in (("dana", dk), ("hal", h1)):
        hill.council("member", "add", pubkey(k), "--name", name, key=hill.convener_key)
    hsel = hill.council("proposal", "new", "--title", "Delegate", "--select", "vote",
                        "--parent", "cd" * 32, "--candidate", f"{target}:dana",
                        "--candidate", f"{pubkey(h1)}:hal", "--opens", str(hill.now),
                        "--duration", "100", "--term-days", "30",
                        key=hill.convener_key)[0]["record_id"]
    for k in (dk, h1):
        hill.council("vote", hsel, "dana", key=k)
    hill.set_clock(hill.now + 101)
    (hcred,) = hill.wait_for(lambda: hill.council("delegate", "list")[0].get("delegates"),
                             "the other assembly's credential")
    t.eq((hcred["credential"]["delegate"], hcred["credential"]["node"]), (target, hill.key),
         "the same key is a delegate of the other assembly, by its credential")
    foreign.update(id=hcred["credential_id"], url=hill.url,
                   instead=next(c["credential_id"] for c in creds
                                if c["credential"]["delegate"] == target))
    mode["m"] = "foreign"
    rc, _, err = run([COUNCIL, "recall", target, *via, "--key", ms[3]], check=False)
    mode["m"] = ""
    t.check(rc != 0 and "credential issued by another council" in err,
            f"a recall by key is not signed against another council's credential: {rc} {err!r}")
    t.eq(posted, [], "no recall vote was sent")
    after = node.council("delegate", "list")[0]["delegates"]
    t.eq([c.get("recall_votes", 0) for c in after], [0, 0], "no recall vote was counted here")
    t.eq(hill.council("delegate", "list")[0]["delegates"][0].get("recall_votes", 0), 0,
         "nor at the other assembly")

    # A credential naming this council and the delegate, as its body says,
    # but signed by another key: anyone can write such a body.
    real = urllib.request.urlopen(f"{node.url}/v1/records/{foreign['instead']}").read()
    body = next(v for num, _, v in pb_parse(real) if num == 3)
    sodium = ctypes.CDLL(ctypes.util.find_library("sodium"))
    t.check(sodium.sodium_init() >= 0, "libsodium for the forger")
    fpk, fsk, sig = (ctypes.create_string_buffer(n) for n in (32, 64, 64))
    sodium.crypto_sign_keypair(fpk, fsk)
    msg = b"councilnet/1/credential\0" + body
    sodium.crypto_sign_detached(sig, None, msg, ctypes.c_ulonglong(len(msg)), fsk)
    env = pb_enc([(1, 0, 1), (2, 2, b"credential"), (3, 2, body), (4, 2, fpk.raw),
                  (5, 2, sig.raw)])
    fid = hashlib.blake2b(env, digest_size=32).hexdigest()
    forged.update(id=fid, env=env, instead=foreign["instead"])
    mode["m"] = "forged"
    posted.clear()
    rc, _, err = run([COUNCIL, "recall", target, *via, "--key", ms[3]], check=False)
    mode["m"] = ""
    t.check(rc != 0 and "not signed by this council" in err,
            f"a recall by key is not signed against a credential another key signed: "
            f"{rc} {err!r}")
    t.eq(posted, [], "no recall vote was sent on the forged credential")
    liar.shutdown()
t.finish()
