"""Files that loaders read as values: `.netrc` (requests, pip), `.env` (python-dotenv, a
shell's `set -a`), a notebook cell (nbformat, IPython) — issue 12 case 5: a redaction marker
there is not "no secret", it is a wrong value that the loader sends or sets.

Client facts:
- requests 2.x `sessions.Session.prepare_request`: with `trust_env` and no `auth=`, it calls
  `utils.get_netrc_auth(url)`, and the netrc login/password become a `Basic` Authorization
  header that replaces one given in `headers=`. pip vendors the same code
  (`pip._vendor.requests.utils.get_netrc_auth`).
- python-dotenv 1.x: `dotenv_values` parses, `load_dotenv(override=True)` and
  `dotenv run` (cli.py: `run_command` with `override=True` by default) replace variables
  already in the environment; `set_key` writes `KEY='value'` (quote mode "always").
- nbformat 5 `v4.new_code_cell`/`write`/`validate`; IPython `InteractiveShell.run_cell` runs a
  cell as Jupyter would.

Programs run under the `hfguard exec` command the fix's note names for the file (what a user
who follows the fix types): here the only token is in the file, so it may be a slot other than
the default one (`exec --name …`)."""

import pytest

import json

from home import Checks

HUB_URL = "https://huggingface.co/api/whoami-v2"
INDEX_URL = "https://pypi.corp.example/simple/"

# What requests would send to the Hub with an explicit bearer token in headers=.
SENT_AUTH = (
    "import os, requests;"
    " s = requests.Session();"
    " h = {'Authorization': 'Bearer ' + os.environ.get('HF_TOKEN', '')};"
    f" print(s.prepare_request(requests.Request('GET', '{HUB_URL}', headers=h)).headers['Authorization'])"
)


def netrc_auth(home, url: str, *, pip: bool = False) -> list | None:
    module = "pip._vendor.requests.utils" if pip else "requests.utils"
    out = home.value(f"import json; from {module} import get_netrc_auth;"
                     f" print(json.dumps(get_netrc_auth('{url}')))")
    return json.loads(out) if out and not out.startswith("<failed") else out


@pytest.mark.matrix('case 5: `.netrc` for huggingface.co and a private package index', 'requests', 'pip')
def test_case5_netrc_sends_no_marker_and_keeps_the_package_index_working(home):
    """After the fix nothing a netrc parser could send to huggingface.co is left (so the
    bearer token from `exec` is what requests sends), and the private package index that pip
    and requests can only reach through `.netrc` keeps its entry in a 0600 file."""
    t = home.token(user="alice", display="laptop")
    index_password = home.token(prefix="Pw", length=20)
    home.write(".netrc", f"machine huggingface.co\n  login hf_user\n  password {t}\n"
                         f"machine pypi.corp.example\n  login ci\n  password {index_password}\n")
    assert netrc_auth(home, HUB_URL) == ["hf_user", t]
    before = home.snapshot()

    told = home.exec_told(home.fix(), ".netrc")

    c = Checks(home)
    c.same(home.files_holding(t), [], "files still holding the Hub token")
    c.same(netrc_auth(home, HUB_URL), None, "requests' netrc credentials for huggingface.co")
    c.same(home.value(SENT_AUTH, exec_=told or True), f"Bearer {t}",
           f"the Authorization requests sends to the Hub under exec {' '.join(told)}")
    c.same(netrc_auth(home, INDEX_URL), ["ci", index_password], "requests' netrc credentials for the index")
    c.same(netrc_auth(home, INDEX_URL, pip=True), ["ci", index_password], "pip's netrc credentials for the index")
    c.same(oct(home.mode(".netrc")), oct(0o600), ".netrc's mode")
    c.done()

    home.undo_all()
    home.assert_restored(before)


@pytest.mark.matrix('case 5: `.env` loaded with override (`load_dotenv`, `dotenv run`, `set -a`)', 'dotenv', 'bash')
def test_case5_dotenv_loaders_keep_the_token_from_exec(home):
    """A `.env` line is commented out with a note, not given a marker: every loader that
    overrides the environment then keeps `HF_TOKEN` from `hfguard exec`."""
    t = home.token(user="alice", display="laptop")
    proj = home.path("proj")
    proj.mkdir()
    home.python("import os; from dotenv import set_key;"
                " set_key('proj/.env', 'HF_TOKEN', os.environ['HFG_T']);"
                " set_key('proj/.env', 'WANDB_PROJECT', 'demo')", env={"HFG_T": t})
    assert home.read("proj/.env") == f"HF_TOKEN='{t}'\nWANDB_PROJECT='demo'\n"
    before = home.snapshot()

    told = home.exec_told(home.fix(), ".env")
    exec_argv = [str(home.bin), "exec", "--home", str(home.root), *told, "--"]

    c = Checks(home)
    c.same(home.files_holding(t), [], "files still holding the token")
    values = json.loads(home.value("import json; from dotenv import dotenv_values;"
                                   " print(json.dumps(dotenv_values('proj/.env')))"))
    c.same(values, {"WANDB_PROJECT": "demo"}, "dotenv_values of the fixed .env")
    body = home.read("proj/.env")
    c.that(any(line.startswith("#") and "HF_TOKEN" in line for line in body.splitlines()),
           f"the HF_TOKEN line is not commented out:\n{body}")
    c.same(home.value("import os; from dotenv import load_dotenv;"
                      " load_dotenv('proj/.env', override=True); print(os.environ['HF_TOKEN'])",
                      exec_=told or True), t, "HF_TOKEN after load_dotenv(override=True) under exec")
    r = home.run([*exec_argv, "dotenv", "-f", ".env", "run", "--", "sh", "-c", 'printf %s "$HF_TOKEN"'],
                 cwd=proj)
    c.same(r.out, t, f"HF_TOKEN under `dotenv run` under exec (exit {r.code})")
    r = home.run([*exec_argv, "bash", "-c", 'set -a; . ./.env; set +a; printf %s "$HF_TOKEN"'], cwd=proj)
    c.same(r.out, t, f"HF_TOKEN after `set -a; . ./.env` under exec (exit {r.code})")
    c.done()

    home.undo_all()
    home.assert_restored(before)


NOTEBOOK = """
import os, nbformat
from nbformat.v4 import new_notebook, new_code_cell
nb = new_notebook(cells=[
    new_code_cell('from huggingface_hub import login\\nlogin(token="' + os.environ['HFG_T'] + '")'),
    new_code_cell('print("training")'),
])
os.makedirs('nb', exist_ok=True)
nbformat.write(nb, 'nb/train.ipynb')
"""

# Runs the notebook's cells as Jupyter would (IPython), with only whoami faked, logging in to a
# scratch HF_HOME: prints the token `login()` was given.
RUN_NOTEBOOK = """
import contextlib, io, fakehub, nbformat
fakehub.install()
from IPython.core.interactiveshell import InteractiveShell
from huggingface_hub import constants
nb = nbformat.read('nb/train.ipynb', as_version=4)
nbformat.validate(nb)
shell = InteractiveShell.instance()
with contextlib.redirect_stdout(io.StringIO()):  # the cells' own output
    for cell in nb.cells:
        if cell.cell_type == 'code':
            shell.run_cell(cell.source).raise_error()
print(open(constants.HF_TOKEN_PATH).read())
"""


@pytest.mark.matrix('case 5: a notebook cell `login(token=…)`', 'nbformat', 'ipython', 'hf')
def test_case5_a_notebook_login_cell_still_logs_in_under_exec(home):
    """A notebook cell `login(token="hf_…")` becomes an environment lookup that works under
    `hfguard exec` (it became `login(token="[hfguard:redacted:…]")` and failed); the notebook
    stays valid."""
    t = home.token(user="alice", display="laptop")
    home.python(NOTEBOOK, env={"HFG_T": t})
    before = home.snapshot()

    told = home.exec_told(home.fix(), "train.ipynb")

    c = Checks(home)
    c.same(home.files_holding(t), [], "files still holding the token")
    c.same(home.files_holding("[hfguard:redacted"), [], "files holding a redaction marker")
    scratch_hub = str(home.scratch / "hf-home")
    c.same(home.value(RUN_NOTEBOOK, exec_=told or True, env={"HF_HOME": scratch_hub}), t,
           "the token the notebook's login() got under exec")
    c.done()

    home.undo_all()
    home.assert_restored(before)
