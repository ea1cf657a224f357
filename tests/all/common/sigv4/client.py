"""A SigV4 client on Python's standard library only: signs with the AWS credentials in its
environment (inside the sandbox: the masked ones) and sends through the proxy the environment
names. `python3 client.py MODE URL_BASE` prints `MODE: STATUS`."""
import datetime, hashlib, hmac, os, sys, urllib.error, urllib.parse, urllib.request

mode, base = sys.argv[1], sys.argv[2]
parsed = urllib.parse.urlsplit(base)
host = parsed.netloc
env = os.environ
akid, secret = env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
if mode == "foreign":
    akid, secret = "AKIAFOREIGNKEY000000", "foreign-secret-not-masked"
now = datetime.datetime.now(datetime.timezone.utc)
amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")


def hm(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def sign(method, path, query, headers, payload_hash, service, region="us-east-1"):
    headers = {k.lower(): v for k, v in headers.items()}
    headers["host"] = host
    headers["x-amz-date"] = amz
    names = sorted(headers)
    canon = "".join(f"{k}:{' '.join(str(headers[k]).split())}\n" for k in names)
    pairs = sorted(q.split("=", 1) if "=" in q else [q, ""] for q in query.split("&") if q)
    cq = "&".join(f"{k}={v}" for k, v in pairs)
    creq = "\n".join([method, path, cq, canon, ";".join(names), payload_hash])
    scope = f"{day}/{region}/{service}/aws4_request"
    sts = "\n".join(["AWS4-HMAC-SHA256", amz, scope, hashlib.sha256(creq.encode()).hexdigest()])
    key = hm(hm(hm(hm(("AWS4" + secret).encode(), day), region), service), "aws4_request")
    sig = hmac.new(key, sts.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={akid}/{scope}, SignedHeaders={';'.join(names)}, Signature={sig}"
    )
    del headers["host"]
    return headers


def send(method, path, query, headers, body):
    url = f"{base}{path}" + (f"?{query}" if query else "")
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


body = b"hello s3, with a sentinel-free body"
token = env.get("AWS_SESSION_TOKEN", "")
if mode == "s3put":
    ph = hashlib.sha256(body).hexdigest()
    h = sign("PUT", "/bucket/key%20one", "", {"x-amz-content-sha256": ph, "x-amz-security-token": token,
             "content-type": "text/plain"}, ph, "s3")
    status = send("PUT", "/bucket/key%20one", "", h, body)
elif mode == "unsigned":
    h = sign("PUT", "/bucket/big", "", {"x-amz-content-sha256": "UNSIGNED-PAYLOAD",
             "x-amz-security-token": token}, "UNSIGNED-PAYLOAD", "s3")
    status = send("PUT", "/bucket/big", "", h, body)
elif mode == "streaming":
    h = sign("PUT", "/bucket/chunked", "", {"x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
             "x-amz-decoded-content-length": str(len(body))}, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "s3")
    status = send("PUT", "/bucket/chunked", "", h, body)
elif mode == "presigned":
    cred = urllib.parse.quote(f"{akid}/{day}/us-east-1/s3/aws4_request", safe="")
    q = (f"X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential={cred}&X-Amz-Date={amz}"
         "&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=" + "0" * 64)
    status = send("GET", "/bucket/presigned", q, {}, None)
elif mode == "sigv4a":
    h = {"x-amz-date": amz, "x-amz-region-set": "*", "authorization":
         f"AWS4-ECDSA-P256-SHA256 Credential={akid}/{day}/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"}
    status = send("GET", "/bucket/sigv4a", "", h, None)
elif mode == "foreign":
    h = sign("POST", "/foreign", "", {"content-type": "application/json"}, hashlib.sha256(b"{}").hexdigest(), "execute-api")
    status = send("POST", "/foreign", "", h, b"{}")
print(f"{mode}: {status}", flush=True)
