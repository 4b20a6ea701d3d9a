"""zuul-client (its CLI and its REST class) against a live Warden: the tenant API as the real client drives it.

Usage: WARDEN_URL=http://127.0.0.1:PORT WARDEN_TOKEN=<admin token> WARDEN_BIN=<warden> JWT_SECRET=<HS256 secret> \
       python zuul_conformance.py
The server must run with warden.tenant.auth.secret = JWT_SECRET (issuer and audience "warden").
Exits non-zero with the failing check on the first mismatch.
"""
import base64
import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import requests
from zuulclient.api import ZuulRESTClient, ZuulRESTException

URL = os.environ["WARDEN_URL"]
TOKEN = os.environ["WARDEN_TOKEN"]
WARDEN = os.environ["WARDEN_BIN"]
SECRET = os.environ["JWT_SECRET"]
ZUUL_CLIENT = os.path.join(os.path.dirname(sys.executable), "zuul-client")


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(sub, tenants, expires_in=3600, issuer="warden", audience="warden", secret=SECRET):
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = {"sub": sub, "iss": issuer, "aud": audience, "exp": int(time.time()) + expires_in, "iat": int(time.time()),
              "zuul": {"admin": tenants}}
    body = b64(json.dumps(claims).encode())
    signature = b64(hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest())
    return f"{header}.{body}.{signature}"


ADMIN = jwt("ada", ["example"])
OTHER = jwt("eve", ["elsewhere"])
warden = requests.Session()
warden.headers["Authorization"] = f"Bearer {TOKEN}"


def zc(*args, token=ADMIN, stdin=None):
    command = [ZUUL_CLIENT, "--zuul-url", URL]
    if token:
        command += ["--auth-token", token]
    done = subprocess.run(command + list(args), input=stdin, capture_output=True, text=True, timeout=120)
    return done.returncode, done.stdout + done.stderr


def admin_get(path, **params):
    reply = requests.get(f"{URL}/api/tenant/example/{path}", params=params, headers={"Authorization": f"Bearer {ADMIN}"})
    reply.raise_for_status()
    return reply.json()


def wait_for_buildsets(count):
    deadline = time.time() + 90
    while time.time() < deadline:
        sets = admin_get("buildsets", complete="true")
        if len(sets) >= count:
            return sets
        time.sleep(0.3)
    check(False, f"{count} buildsets completed in time")


# Set-up through Warden's admin routes: a tenant, a project in it, a pipeline, and a runner for it.
check(warden.post(f"{URL}/api/tenants", json={"name": "example"}).status_code == 201, "tenant created")
check(warden.post(f"{URL}/api/tenants", json={"name": "alpha"}).status_code == 201, "second tenant created")
group = warden.post(f"{URL}/api/v4/groups", json={"name": "acme"}).json()
project = warden.post(f"{URL}/api/v4/projects", json={"name": "app", "namespace_id": group["id"], "tenant": "example"}).json()
registration = warden.post(f"{URL}/api/v4/projects/{project['id']}/runners/reset_registration_token").json()["token"]
pipeline = warden.post(f"{URL}/api/pipelines", json={
    "project": "acme/app", "name": "check", "tags": ["zuul"],
    "parameters": ["change", "ref"],
    "plan": {"stages": [
        {"name": "lint", "image": "debian:12", "script": ["echo linting %ref% %change%"]},
        {"name": "unit", "image": "debian:12", "script": ["test '%change%' != '13'"]},
    ]}})
check(pipeline.status_code == 201, "pipeline created")
work = tempfile.mkdtemp(prefix="warden-zuul-runner-")
runner = subprocess.Popen([WARDEN, "runner", "--server", URL, "--registration-token", registration, "--port", "0", "--tags", "zuul",
                           "--work", work, "--stage-timeout", "60"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
try:
    deadline = time.time() + 30
    while time.time() < deadline and not admin_get("nodes"):
        time.sleep(0.2)
    check(len(admin_get("nodes")) == 1, "the runner is a node of the tenant")

    # Info and tenants, as the client reads them before every command.
    client = ZuulRESTClient(URL, auth_token=ADMIN)
    check("tenant" not in client.info and client.info["capabilities"]["job_history"], "/api/info has no tenant")
    check(client.tenant_info("example").get("tenant") == "example", "/api/tenant/example/info names the tenant")
    check(requests.get(f"{URL}/api/tenant/nobody/info").status_code == 200, "info answers 200 for an unknown tenant")
    check([t["name"] for t in client.tenants()] == ["alpha", "example"], "tenants are listed sorted")
    missing = requests.get(f"{URL}/api/tenant/nobody/builds")
    check(missing.status_code == 404 and "Unknown tenant" in missing.text, "an unknown tenant is 404 with a page")

    # Authentication refusals.
    bare = requests.post(f"{URL}/api/tenant/example/project/acme/app/enqueue", json={"pipeline": "check", "change": "1,1"})
    check(bare.status_code == 401 and bare.json()["error"] == "MissingAuthError" and "WWW-Authenticate" in bare.headers,
          "no Authorization header: 401 MissingAuthError with WWW-Authenticate")
    expired = requests.post(f"{URL}/api/tenant/example/project/acme/app/enqueue", json={"pipeline": "check", "change": "1,1"},
                            headers={"Authorization": f"Bearer {jwt('ada', ['example'], expires_in=-60)}"})
    check(expired.status_code == 401 and expired.json()["error"] == "TokenExpiredError", "an expired token: 401 naming it")
    forged = requests.post(f"{URL}/api/tenant/example/project/acme/app/enqueue", json={"pipeline": "check", "change": "1,1"},
                           headers={"Authorization": f"Bearer {jwt('ada', ['*'], secret='x' * 40)}"})
    check(forged.status_code == 401, "a token signed with another key: 401")
    code, out = zc("enqueue", "--tenant", "example", "--pipeline", "check", "--project", "acme/app", "--change", "1,1", token=OTHER)
    check(code == 1 and "Insufficient privileges" in out, "a token for another tenant: 403 (enqueue)")

    # enqueue and builds
    code, out = zc("enqueue", "--tenant", "example", "--pipeline", "check", "--project", "acme/app", "--change", "12,1")
    check(code == 0, f"enqueue a change: {out}")
    wait_for_buildsets(1)
    code, out = zc("builds", "--tenant", "example", "--project", "acme/app", "--change", "12")
    check(code == 0 and "lint" in out and "unit" in out and out.count("SUCCESS") == 2, f"builds of change 12: {out}")
    code, out = zc("builds", "--tenant", "example", token=None)
    check(code == 0 and "lint" not in out, "builds of a non-public pipeline are not shown anonymously")
    code, out = zc("enqueue", "--tenant", "example", "--pipeline", "nightly", "--project", "acme/app", "--change", "12,1")
    check(code == 1 and "nightly" in out, "enqueue to an unknown pipeline is refused")
    both = requests.post(f"{URL}/api/tenant/example/project/acme/app/enqueue",
                         json={"pipeline": "check", "change": "1,1", "ref": "refs/heads/main"}, headers={"Authorization": f"Bearer {ADMIN}"})
    check(both.status_code == 400, "change and ref together: 400")

    # autohold: the failing build of change 13 holds its runner
    code, out = zc("autohold", "--tenant", "example", "--project", "acme/app", "--job", "unit", "--change", "13",
                   "--reason", "debugging unit", "--count", "1")
    check(code == 0, f"autohold: {out}")
    code, out = zc("autohold-list", "--tenant", "example", token=None)
    check(code == 0 and "debugging unit" in out, "autohold-list shows the request")
    hold_id = admin_get("autohold")[0]["id"]
    code, out = zc("enqueue", "--tenant", "example", "--pipeline", "check", "--project", "acme/app", "--change", "13,1")
    check(code == 0, "enqueue change 13")
    wait_for_buildsets(2)
    code, out = zc("builds", "--tenant", "example", "--held")
    check(code == 0 and "unit" in out and "FAILURE" in out and "lint" not in out, f"builds --held: {out}")
    code, out = zc("autohold-info", "--tenant", "example", hold_id)
    check(code == 0 and "Current Count: 1" in out and "runner-" in out, f"autohold-info: {out}")
    code, out = zc("node-list", "--tenant", "example")
    check(code == 0 and "hold" in out, f"node-list shows the held runner: {out}")
    code, out = zc("enqueue", "--tenant", "example", "--pipeline", "check", "--project", "acme/app", "--change", "14,1")
    check(code == 1 and "no healthy runner" in out, "with its only runner held, the pipeline cannot run")
    node = admin_get("nodes")[0]["id"]
    code, out = zc("node-set-state", "--tenant", "example", node, "used")
    check(code == 0 and admin_get("nodes")[0]["state"] == "ready", "node-set-state used lets the runner run again")
    code, out = zc("autohold-delete", "--tenant", "example", hold_id)
    check(code == 0 and admin_get("autohold") == [], "autohold-delete")

    # enqueue-ref, build-info and its job output
    code, out = zc("enqueue-ref", "--tenant", "example", "--pipeline", "check", "--project", "acme/app", "--ref", "refs/heads/main",
                   "--oldrev", "0" * 40, "--newrev", "a" * 40)
    check(code == 0, f"enqueue-ref: {out}")
    sets = wait_for_buildsets(3)
    check(sets[0]["ref"] == "refs/heads/main" and sets[0]["newrev"] == "a" * 40 and sets[0]["result"] == "SUCCESS",
          "the newest buildset is the ref's")
    builds = admin_get("builds", ref="refs/heads/main", job_name="lint")
    check(len(builds) == 1 and re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d", builds[0]["start_time"]) and builds[0]["log_url"],
          f"build times have no zone and there is a log_url: {builds}")
    code, out = zc("build-info", "--tenant", "example", "--uuid", builds[0]["uuid"])
    check(code == 0 and "Result: SUCCESS" in out and "New Rev: " + "a" * 40 in out, f"build-info: {out}")
    code, out = zc("build-info", "--tenant", "example", "--uuid", builds[0]["uuid"], "--show-job-output")
    check(code == 0 and "linting refs/heads/main" in out and "unit" not in out, f"build-info --show-job-output: {out}")
    check(requests.get(f"{URL}/api/tenant/example/build/nope", headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 404,
          "an unknown build is 404")

    # dequeue, promote, manage-events
    code, out = zc("dequeue", "--tenant", "example", "--pipeline", "check", "--project", "acme/app", "--change", "99,1")
    check(code == 1 and "not in pipeline" in out, "dequeue of a change that is not enqueued is refused")
    slow = warden.post(f"{URL}/api/pipelines", json={
        "project": "acme/app", "name": "slow", "tags": ["zuul"],
        "plan": {"stages": [{"name": "wait", "image": "debian:12", "script": ["sleep 30"]}]}})
    check(slow.status_code == 201, "a slow pipeline created")
    code, out = zc("enqueue", "--tenant", "example", "--pipeline", "slow", "--project", "acme/app", "--change", "70,1")
    check(code == 0, "enqueue change 70 in the slow pipeline")
    code, out = zc("dequeue", "--tenant", "example", "--pipeline", "slow", "--project", "acme/app", "--change", "70,1")
    check(code == 0, f"dequeue stops the running change: {out}")
    sets = wait_for_buildsets(4)
    check(sets[0]["pipeline"] == "slow" and sets[0]["result"] == "DEQUEUED", "the dequeued buildset is DEQUEUED")
    code, out = zc("promote", "--tenant", "example", "--pipeline", "check", "--changes", "12,1")
    check(code == 0, f"promote: {out}")
    code, out = zc("promote", "--tenant", "example", "--pipeline", "gate", "--changes", "12,1")
    check(code == 1, "promote in an unknown pipeline is refused")
    code, out = zc("manage-events", "--tenant", "example", "pause-trigger", "--reason", "maintenance")
    check(code == 0 and admin_get("tenant-status")["state"]["trigger_queue_paused"], "manage-events pause-trigger")
    code, out = zc("enqueue", "--tenant", "example", "--pipeline", "check", "--project", "acme/app", "--change", "15,1")
    check(code == 1 and "maintenance" in out, "a paused tenant takes no runs")
    code, out = zc("manage-events", "--tenant", "example", "normal")
    check(code == 0 and not admin_get("tenant-status")["state"]["trigger_queue_paused"], "manage-events normal")

    # nodeset requests
    code, out = zc("nodeset-request-list", "--tenant", "example")
    check(code == 0, "nodeset-request-list")
    code, out = zc("nodeset-request-delete", "--tenant", "example", "123")
    check(code == 1 and "not found" in out, "nodeset-request-delete of an unknown request is refused")

    # keys and encrypt
    key = requests.get(f"{URL}/api/tenant/example/key/acme/app.pub")
    check(key.status_code == 200 and key.text.startswith("-----BEGIN PUBLIC KEY-----"), "the project key is a PEM public key")
    check(requests.get(f"{URL}/api/tenant/example/key/acme/app.pub").text == key.text, "the project key stays the same")
    ssh = requests.get(f"{URL}/api/tenant/example/project-ssh-key/acme/app.pub").text
    check(ssh.startswith("ssh-ed25519 "), "the project SSH key is an OpenSSH public key")
    check(requests.get(f"{URL}/api/tenant/example/tenant-ssh-key/ssh.pub").text.startswith("ssh-ed25519 "), "the tenant SSH key")
    code, out = zc("encrypt", "--tenant", "example", "--project", "acme/app", "--secret-name", "db", "--field-name", "password",
                   token=None, stdin="s3cret")
    check(code == 0 and "!encrypted/pkcs1-oaep" in out, f"encrypt with the project key through openssl: {out}")

    # job graph
    code, out = zc("job-graph", "--tenant", "example", "--pipeline", "check", "--project", "acme/app", "--branch", "main", token=None)
    check(code == 0 and "lint" in out and "unit" in out, f"job-graph: {out}")
    graph = requests.get(f"{URL}/api/tenant/example/pipeline/check/project/acme/app/branch/main/freeze-jobs").json()
    check(graph == [{"name": "lint", "dependencies": []}, {"name": "unit", "dependencies": [{"name": "lint", "soft": False}]}],
          "freeze-jobs: each stage depends on the one before")
    code, out = zc("freeze-job", "--tenant", "example", "--pipeline", "check", "--project", "acme/app", "--branch", "main",
                   "--job", "unit", token=None)
    check(code == 0 and "Vars:" in out and "debian:12" in out, f"freeze-job: {out}")
    try:
        ZuulRESTClient(URL).freeze_job("example", "check", "acme/app", "main", "deploy")
        check(False, "an unknown job is refused")
    except ZuulRESTException:
        check(True, "an unknown job is refused")
finally:
    runner.terminate()
    runner.wait()

print("all checks passed")
