"""huggingface_hub 0.10.1, still pinned in many training images (issue 12 case 6).

Client facts (huggingface_hub 0.10.1):
- utils/_hf_folder.py `HfFolder.get_token`: `HUGGING_FACE_HUB_TOKEN`, else
  `~/.huggingface/token`. `HF_TOKEN` is never read.
- commands/user.py `_login` (what `huggingface-cli login` runs after its getpass prompt):
  whoami (faked), `HfApi.set_access_token` → hf_api.py `write_to_credential_store`, which
  pipes `url=https://huggingface.co username=hf_user password=T` into
  `git credential-store store` whatever helper is configured, then `HfFolder.save_token`
  writes `~/.huggingface/token` with the umask (0644).
- utils/_headers.py `build_hf_headers` sends `Bearer <HfFolder.get_token()>` through
  requests (so a `.netrc` entry for huggingface.co would replace it)."""

import pytest

from home import Checks

OLD_LOGIN = (
    "import os, fakehub; fakehub.install();"
    " from huggingface_hub import HfApi; from huggingface_hub.commands.user import _login;"
    " _login(HfApi(), token=os.environ['HFG_T'])"
)
OLD_TOKEN = "from huggingface_hub import HfFolder; print(HfFolder.get_token())"
OLD_HEADER = "from huggingface_hub.utils import build_hf_headers; print(build_hf_headers()['authorization'])"


def old_login(home):
    t = home.token(user="alice", display="laptop")
    r = home.python(OLD_LOGIN, old=True, env={"HFG_T": t})
    assert r.code == 0, r
    assert home.read(".huggingface/token") == t
    assert oct(home.mode(".huggingface/token")) == oct(0o644)
    assert home.read(".git-credentials") == f"https://hf_user:{t}@huggingface.co\n"
    return t


@pytest.mark.matrix('case 6: huggingface_hub 0.10 under `hfguard exec`', 'hub0', 'hf', 'git')
def test_case6_exec_reaches_the_old_client(home):
    """`exec` sets every variable the provider's clients read: for Hugging Face `HF_TOKEN`
    and `HUGGING_FACE_HUB_TOKEN` (it set only `HF_TOKEN`, which 0.10 never reads). The
    command is the one the fix's note gives for the old token file."""
    home.git("config", "--global", "credential.helper", "store")
    t = old_login(home)
    before = home.snapshot()

    told = home.exec_told(home.fix(), ".huggingface/token") or True

    c = Checks(home)
    c.same(home.files_holding(t), [], "files still holding the token")
    c.same(home.value(OLD_TOKEN, old=True), None, "HfFolder.get_token() without exec")
    c.same(home.value(OLD_TOKEN, old=True, exec_=told), t, "HfFolder.get_token() under exec")
    c.same(home.value(OLD_HEADER, old=True, exec_=told), f"Bearer {t}",
           "the header huggingface_hub 0.10 sends under exec")
    c.same(home.hub_get_token(exec_=told), t, "huggingface_hub 2.x get_token() under exec")
    c.same((home.credential_fill() or {}).get("password"), t, "git's password")
    c.done()

    home.undo_all()
    home.assert_restored(before)
    assert home.value(OLD_TOKEN, old=True) == t
