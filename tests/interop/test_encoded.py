"""Secrets stored base64-encoded (issue 12 case 11): a Kubernetes `Secret`'s `data:` value and
a Docker `auth` were left to the user ("edit the file by hand"). They are fixed in their
encoding: decoded, redacted or moved, re-encoded, with the file's layout kept (the manifest
stays valid YAML, the Docker config valid JSON).

Client facts: Docker's cli/config/configfile writes `auths.<host>.auth` =
base64("user:password"), indented with tabs; a Kubernetes `Secret` keeps each `data` value
base64-encoded (PyYAML reads the manifest as kubectl's YAML parser would)."""

import pytest

import base64
import json

import yaml

from home import Checks


def b64(s: str) -> str:
    return base64.b64encode(s.encode()).decode()


MANIFEST = """apiVersion: v1
kind: Secret
metadata:
  name: hf-token
  namespace: training
type: Opaque
data:
  HF_TOKEN: {value}
  WANDB_PROJECT: {project}
"""

DOCKER = '{{\n\t"auths": {{\n\t\t"registry.hf.space": {{\n\t\t\t"auth": "{auth}"\n\t\t}}\n\t}}\n}}'


@pytest.mark.matrix('case 11: base64 secrets (Kubernetes `Secret`, Docker `auth`)', 'pyyaml')
def test_case11_encoded_secrets_are_fixed_in_their_encoding(home):
    t = home.token(user="alice", display="laptop")
    home.write("deploy/hf-secret.yaml", MANIFEST.format(value=b64(t), project=b64("demo")))
    home.write(".docker/config.json", DOCKER.format(auth=b64(f"alice:{t}")), 0o600)
    home.path(".docker").chmod(0o700)
    before = home.snapshot()

    r = home.fix()

    c = Checks(home)
    c.that("by hand" not in r.out + r.err, f"a step was left to the user:\n{r}")
    c.same(home.files_holding(t, b64(t), b64(f"alice:{t}")), [], "files holding the token, plain or encoded")
    manifest = yaml.safe_load(home.read("deploy/hf-secret.yaml"))
    data = manifest.get("data") or {}
    c.same(sorted(data), ["HF_TOKEN", "WANDB_PROJECT"], "the Secret's data keys")
    c.same(base64.b64decode(data.get("WANDB_PROJECT", "")).decode(), "demo", "the other data value")
    c.that(t not in base64.b64decode(data.get("HF_TOKEN", "")).decode(errors="replace"),
           "the Secret's HF_TOKEN still decodes to the token")
    old_lines = MANIFEST.format(value=b64(t), project=b64("demo")).splitlines()
    new_lines = home.read("deploy/hf-secret.yaml").splitlines()
    c.same([a == b for a, b in zip(old_lines, new_lines)], [not l.startswith("  HF_TOKEN:") for l in old_lines],
           "which lines of the manifest changed")
    docker = json.loads(home.read(".docker/config.json"))  # still JSON
    auth = docker.get("auths", {}).get("registry.hf.space", {}).get("auth")
    if auth is not None:  # redacted in its encoding (a moved entry has no `auth` left)
        decoded = base64.b64decode(auth).decode(errors="replace")
        c.that(decoded.startswith("alice:") and t not in decoded,
               "the Docker auth is not `alice:` with the token redacted")
    c.same(home.fixable_left(), [], "findings left after fix --all")
    c.done()

    home.undo_all()
    home.assert_restored(before)
