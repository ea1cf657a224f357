"""Verifies a recorded request's SigV4 signature against a credential, from the spec (not
from srt's signer): reads {"secret", "request": {"line", "headers": [[k, v]], "body_hex"}} on
stdin and prints OK or why not."""
import hashlib, hmac, json, sys, urllib.parse

d = json.load(sys.stdin)
secret, req = d["secret"], d["request"]
method, target, _ = req["line"].split(" ", 2)
headers = {}
for k, v in req["headers"]:
    headers.setdefault(k.lower(), []).append(v)
body = bytes.fromhex(req["body_hex"])
auth = headers["authorization"][0]
fields = dict(p.strip().split("=", 1) for p in auth.split(" ", 1)[1].split(","))
akid, day, region, service, term = fields["Credential"].split("/")
signed = fields["SignedHeaders"].split(";")
path, _, query = target.partition("?")


def enc(s, safe):
    return urllib.parse.quote(s, safe=safe)


if service == "s3":
    cpath = path
else:
    segs = []
    for s in path.split("/"):
        if s in ("", "."):
            continue
        if s == "..":
            segs and segs.pop()
        else:
            segs.append(s)
    norm = "/" + "/".join(segs) + ("/" if segs and path.endswith("/") else "")
    cpath = enc(norm, "/-_.~")
pairs = []
for q in query.split("&"):
    if not q:
        continue
    k, _, v = q.partition("=")
    pairs.append((enc(urllib.parse.unquote(k), "-_.~"), enc(urllib.parse.unquote(v), "-_.~")))
cq = "&".join(f"{k}={v}" for k, v in sorted(pairs))
canon = "".join(f"{n}:{','.join(' '.join(v.split()) for v in headers[n])}\n" for n in signed)
payload = headers.get("x-amz-content-sha256", [hashlib.sha256(body).hexdigest()])[0]
if payload not in ("UNSIGNED-PAYLOAD",) and payload != hashlib.sha256(body).hexdigest():
    print(f"x-amz-content-sha256 {payload} is not the body's hash")
    sys.exit(0)
creq = "\n".join([method, cpath, cq, canon, ";".join(signed), payload])
amz = headers["x-amz-date"][0]
scope = f"{day}/{region}/{service}/aws4_request"
sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])


def hm(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


key = hm(hm(hm(hm(("AWS4" + secret).encode(), day), region), service), "aws4_request")
want = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
print("OK" if want == fields["Signature"] else f"bad signature for:\n{creq}")
