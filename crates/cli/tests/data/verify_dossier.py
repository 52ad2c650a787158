#!/usr/bin/env python3
# Checks an incasso dossier events.json (from `incasso case export`) independently of incasso:
# recomputes every hash of the chain (format incasso-dossier-event-v1, see docs/dossier.md).
# Usage: python3 verify_dossier.py events.json
import hashlib, json, sys

def canonical(v):
    return json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False)

def field(name, value):
    b = value.encode()
    return name.encode() + b" " + str(len(b)).encode() + b":" + b + b"\n"

log = json.load(open(sys.argv[1]))
prev = "0" * 64
for i, e in enumerate(log["events"], 1):
    enc = b"incasso-dossier-event-v1\n" + b"".join(field(n, v) for n, v in [
        ("tenant", str(e["tenant"])), ("case", str(e["case"])), ("seq", str(e["seq"])),
        ("on", e["on"]), ("kind", e["kind"]), ("text", e["text"]),
        ("payload", canonical(e["payload"])), ("document", e["document"] or ""), ("prev", prev)])
    h = hashlib.sha256(enc).hexdigest()
    if e["seq"] != i or e["prev"] != prev or e["hash"] != h:
        sys.exit(f"broken at event {e['seq']}")
    prev = h
if prev != log["head"]:
    sys.exit(f"head {prev} differs from the stated head {log['head']}")
print("OK", len(log["events"]), "events, head", prev)
