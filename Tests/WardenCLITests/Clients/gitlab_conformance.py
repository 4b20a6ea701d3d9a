"""python-gitlab (library and CLI) against a live Warden: the runners API v4 as the real client drives it.

Usage: WARDEN_URL=http://127.0.0.1:PORT WARDEN_TOKEN=<admin token> python gitlab_conformance.py
Exits non-zero with the failing check on the first mismatch.
"""
import json
import os
import subprocess
import sys
import tempfile

import gitlab

URL = os.environ["WARDEN_URL"]
TOKEN = os.environ["WARDEN_TOKEN"]


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", file=sys.stderr)
        sys.exit(1)
    print(f"ok: {what}")


gl = gitlab.Gitlab(URL, private_token=TOKEN)
gl.auth()
check(gl.user.username == "admin" and gl.user.is_admin, "GET /user answers the token's admin user")

group = gl.groups.create({"name": "acme", "path": "acme"})
project = gl.projects.create({"name": "app", "namespace_id": group.id})
other = gl.projects.create({"name": "site"})
check(project.path_with_namespace == "acme/app", "projects and groups created through python-gitlab")

instance_token = gl.http_post("/runners/reset_registration_token")["token"]
project_token = gl.http_post(f"/projects/{project.id}/runners/reset_registration_token")["token"]
group_token = gl.http_post(f"/groups/{group.id}/runners/reset_registration_token")["token"]

# Register 23 instance runners, one project runner, one group runner.
tokens = {}
for i in range(23):
    tags = ["linux", "docker"] if i % 2 == 0 else ["windows"]
    runner = gl.runners.create(
        {"token": instance_token, "description": f"shared-{i:02d}", "tag_list": tags, "run_untagged": False,
         "info": {"name": "gitlab-runner", "version": "17.0.0", "platform": "linux", "architecture": "amd64"}})
    tokens[runner.id] = runner.token
check(len(tokens) == 23 and all(t for t in tokens.values()), "23 runners registered, each with its token")
mine = gl.runners.create({"token": project_token, "description": "app-runner", "tag_list": "linux,arm", "locked": False,
                          "access_level": "ref_protected", "maximum_timeout": 3600})
groupie = gl.runners.create({"token": group_token, "description": "group-runner"})
try:
    gl.runners.create({"token": "not-a-registration-token"})
    check(False, "a bad registration token is refused")
except gitlab.GitlabCreateError as error:
    check(error.response_code == 403, "a bad registration token is refused with 403")

gl.runners.verify(mine.token)
try:
    gl.runners.verify("glrt-unknown")
    check(False, "an unknown runner token does not verify")
except gitlab.GitlabVerifyError as error:
    check(error.response_code == 403, "an unknown runner token does not verify (403)")

everything = gl.runners_all.list(get_all=True, per_page=10)
check(len(everything) == 25, f"GET /runners/all across pages of 10 finds 25 (found {len(everything)})")
page2 = gl.runners_all.list(page=2, per_page=10)
check(len(page2) == 10, "page 2 of 10")
linux = gl.runners_all.list(get_all=True, tag_list=["linux"])
check(sorted(r.description for r in linux) == sorted([f"shared-{i:02d}" for i in range(0, 23, 2)] + ["app-runner"]),
      "tag_list filter")
shared = gl.runners_all.list(get_all=True, type="instance_type", per_page=5)
check(len(shared) == 23, "type filter across pages of 5")
online = gl.runners_all.list(get_all=True, status="online")
check([r.id for r in online] == [mine.id], "status=online is the verified runner only")
never = gl.runners_all.list(get_all=True, status="never_contacted")
check(len(never) == 24, "status=never_contacted")
try:
    gl.runners_all.list(type="bogus_type")
    check(False, "a bad type is refused")
except gitlab.GitlabListError as error:
    check(error.response_code == 400, "a bad type is refused with 400")
owned = gl.runners.list(get_all=True)
check(sorted(r.id for r in owned) == sorted([mine.id, groupie.id]), "GET /runners lists the caller's project and group runners")

detail = gl.runners.get(mine.id)
check(detail.access_level == "ref_protected" and detail.maximum_timeout == 3600 and detail.tag_list == ["linux", "arm"],
      "runner details")
check(detail.projects[0]["path_with_namespace"] == "acme/app" and detail.runner_type == "project_type", "owner project")
check(detail.online and detail.contacted_at, "verify updated contacted_at")
detail.tag_list = ["linux", "gpu"]
detail.description = "app-runner-gpu"
detail.save()
again = gl.runners.get(mine.id)
check(again.tag_list == ["linux", "gpu"] and again.description == "app-runner-gpu", "update tags and description (PUT)")
check(again.jobs.list() == [], "jobs of a runner that ran none")

site = gl.projects.get(other.id, lazy=True)
site.runners.create({"runner_id": mine.id})
check(mine.id in [r.id for r in site.runners.list(get_all=True)], "runner enabled on a second project")
site.runners.delete(mine.id)
check(mine.id not in [r.id for r in site.runners.list(get_all=True)], "runner disabled on the second project")
group_runners = gl.groups.get(group.id, lazy=True).runners.list(get_all=True)
check(groupie.id in [r.id for r in group_runners] and mine.id in [r.id for r in group_runners], "group runners")

# The CLI: list with a filter, get, delete by id.
with tempfile.NamedTemporaryFile("w", suffix=".cfg", delete=False) as config:
    config.write(f"[global]\ndefault = warden\n\n[warden]\nurl = {URL}\nprivate_token = {TOKEN}\napi_version = 4\n")
cli = [os.path.join(os.path.dirname(sys.executable), "gitlab"), "-c", config.name, "-o", "json"]
listed = json.loads(subprocess.run(cli + ["runner-all", "list", "--type", "group_type"], check=True, capture_output=True, text=True).stdout)
check([r["id"] for r in listed] == [groupie.id], "gitlab CLI: runner-all list --type group_type")
shown = json.loads(subprocess.run(cli + ["runner", "get", "--id", str(mine.id)], check=True, capture_output=True, text=True).stdout)
check(shown["description"] == "app-runner-gpu", "gitlab CLI: runner get")
subprocess.run(cli + ["runner", "delete", "--id", str(groupie.id)], check=True, capture_output=True, text=True)

# Delete by id (library) and by token.
first = next(iter(tokens))
gl.runners.delete(first)
gl.http_delete("/runners", query_data={"token": tokens[list(tokens)[1]]})
try:
    gl.http_delete("/runners", query_data={"token": "glrt-unknown"})
    check(False, "deleting an unknown token is refused")
except gitlab.GitlabHttpError as error:
    check(error.response_code == 403, "deleting an unknown token is refused with 403")
remaining = gl.runners_all.list(get_all=True)
check(len(remaining) == 22, f"three runners deleted (by id, by the CLI, by token): {len(remaining)} left")
try:
    gl.runners.get(first)
    check(False, "a deleted runner is gone")
except gitlab.GitlabGetError as error:
    check(error.response_code == 404, "a deleted runner answers 404")
print("python-gitlab conformance: all checks passed")
