"""Issue 12's "Done when": on a home holding the credential kinds an ML engineer has, side by
side, `fix --all --yes` exits 0, a rescan reports no plaintext secret a fix exists for, each
real client gets the credential it had before, and `undo --all` restores every file byte for
byte with its mode. The single scenarios are in the other modules; this one checks that they
hold together (one token in many places, several providers in one start-up file)."""

import json
import secrets
import string

import pytest

from home import Checks
from test_loaders import INDEX_URL, NOTEBOOK, RUN_NOTEBOOK, netrc_auth
from test_other_providers import BOTO


def openai_key() -> str:
    alphabet = string.ascii_letters + string.digits
    part = lambda n: "".join(secrets.choice(alphabet) for _ in range(n))  # noqa: E731
    return f"sk-proj-{part(40)}T3BlbkFJ{part(40)}"


@pytest.mark.matrix("every kind together: hub login, git, start-up file, .netrc, .env, notebook, AWS",
                    "hf", "git", "bash", "requests", "dotenv", "nbformat", "ipython", "botocore")
def test_every_client_keeps_its_credential_and_fix_all_exits_0(home):
    t = home.token(user="alice", display="laptop")
    openai = home.secret(openai_key())
    index_password = home.token(prefix="Pw", length=20)
    aws_id = home.secret("AKIA" + "".join(secrets.choice(string.ascii_uppercase + "234567") for _ in range(16)))
    aws_secret = home.secret("".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(40)))
    home.git("config", "--global", "credential.helper", "store")
    home.hub_login(t, git=True)
    home.write(".bashrc", f"export HF_TOKEN={t}\nexport OPENAI_API_KEY={openai}\n")
    home.write(".netrc", f"machine pypi.corp.example\n  login ci\n  password {index_password}\n")
    home.path("proj").mkdir()
    home.write("proj/.env", f"HF_TOKEN={t}\nBATCH=8\n")
    home.python(NOTEBOOK, env={"HFG_T": t})
    home.write(".aws/credentials", f"[default]\naws_access_key_id = {aws_id}\naws_secret_access_key = {aws_secret}\n")
    aws_env = {"AWS_EC2_METADATA_DISABLED": "true"}
    before = home.snapshot()

    r = home.fix()

    c = Checks(home)
    c.same(r.code, 0, "fix --all's exit status")
    c.same(home.fixable_left(), [], "findings a fix exists for, left after fix --all")
    c.same(home.files_holding(t, openai), [], "files still holding the Hub or OpenAI token")
    c.same(home.hub_get_token(exec_=True), t, "huggingface_hub under exec")
    c.same((home.credential_fill() or {}).get("password"), t, "git's password for huggingface.co")
    c.same(home.new_shell("bash")[0], t, "HF_TOKEN in a new bash")
    c.same(home.new_shell("bash", "OPENAI_API_KEY")[0], openai, "OPENAI_API_KEY in a new bash")
    c.same(netrc_auth(home, INDEX_URL), ["ci", index_password], "requests' netrc credentials for the index")
    c.same(home.value("import os; from dotenv import load_dotenv;"
                      " load_dotenv('proj/.env', override=True); print(os.environ['HF_TOKEN'])",
                      exec_=True), t, "HF_TOKEN after load_dotenv(override=True) under exec")
    c.same(home.value(RUN_NOTEBOOK, exec_=True, env={"HF_HOME": str(home.scratch / "hf-home")}), t,
           "the token the notebook's login() got under exec")
    c.same(json.loads(home.value(BOTO, env=aws_env) or "null"), [aws_id, aws_secret, "shared-credentials-file"],
           "what botocore reads")
    c.done()

    home.undo_all()
    home.assert_restored(before)
