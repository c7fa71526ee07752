"""git as the client: several huggingface.co accounts, and a token rotated after a fix
(issue 12 cases 3 and 4).

Client facts:
- git (credential.c): `git credential fill|approve` reads every `credential.helper` and
  `credential.<url>.helper` that matches, from the system, global and the repository's own
  config, in that order; an empty `helper =` resets the list gathered so far. `approve` calls
  `store` on every helper left; `fill` asks them in turn and takes the first answer. A remote
  URL `https://bob@huggingface.co/…` makes git ask with `username=bob`.
- huggingface_hub 2.4.0 `_login._set_active_token` → `utils/_git_credential.set_git_credential`
  runs `git credential approve` with `username=hf_user` whenever `list_credential_helpers()`
  finds a `credential.helper=` line, and logs "Your token has been saved in your configured
  git credential helpers (store)."."""

import pytest

from home import Checks, redacted


@pytest.mark.matrix("case 3: two huggingface.co accounts (`~/.git-credentials`, a Space's remote URL)", 'hf', 'git')
def test_case3_each_repository_keeps_its_account(home):
    """Issue 12 case 3: one huggingface.co token in `~/.git-credentials` (alice, from
    `hf auth login --add-to-git-credential`), another in a cloned Space's remote URL (bob).
    The repository's token took the global helper, the other stayed in plaintext, and every
    other huggingface.co repository then pushed as bob. A token from one repository's remote
    goes to that repository's own credential config."""
    alice = home.token(user="alice", display="laptop")
    bob = home.token()
    home.git("config", "--global", "credential.helper", "store")
    home.hub_login(alice, git=True)
    space = home.path("spaces/demo")
    model = home.path("models/m")
    for repo in (space, model):
        home.git("init", "-q", str(repo))
    home.git("remote", "add", "origin", f"https://bob:{bob}@huggingface.co/spaces/bob/demo", cwd=space)
    home.git("remote", "add", "origin", "https://huggingface.co/alice/m", cwd=model)
    before = home.snapshot()

    r = home.fix()

    c = Checks(home)
    c.same(home.files_holding(alice, bob), [], "files still holding a token")
    url = home.git("remote", "get-url", "origin", cwd=space).out.strip()
    c.same(url, "https://bob@huggingface.co/spaces/bob/demo", "the Space's remote URL")
    in_space = home.credential_fill(username="bob", cwd=space) or {}
    c.same(in_space.get("password"), bob, "git's password for bob in the Space")
    in_model = home.credential_fill(cwd=model) or {}
    c.same(in_model.get("password"), alice, "git's password in another huggingface.co repo")
    c.same(in_model.get("username"), "hf_user", "git's user in another huggingface.co repo")
    outside = home.credential_fill() or {}
    c.same(outside.get("password"), alice, "git's password outside any repository")
    c.same(home.fixable_left(), [], "findings left after fix --all")
    c.that(r.code == 0, f"fix --all exited {r.code}:\n{r.out}")
    c.done()

    home.undo_all()
    home.assert_restored(before)


@pytest.mark.matrix('case 4: a re-login with a new token after the fix', 'hf', 'git', 'bash')
def test_case4_a_new_login_after_the_fix_replaces_the_token(home):
    """Issue 12 case 4: after a fix, `hf auth login --token NEW --add-to-git-credential`
    said it saved NEW to git while hfguard's helper silently kept OLD; fixing again stored NEW
    under a second name, so `.bashrc`, `exec` and git still served OLD. Rotation is replacing
    a slot's value: the helper's `store` updates it (as git-credential-libsecret does), and
    the next fix offers to replace the stored token."""
    old = home.token(user="alice", display="laptop")
    home.git("config", "--global", "credential.helper", "store")
    home.hub_login(old, git=True)
    home.write(".bashrc", f"export HF_TOKEN={old}\n")
    first = home.snapshot()
    home.fix()
    assert home.credential_fill()["password"] == old

    new = home.token(user="alice", display="laptop")
    login = home.hub_login(new, git=True)
    assert "saved in your configured git credential helpers" in login.out + login.err

    c = Checks(home)
    c.same((home.credential_fill() or {}).get("password"), new,
           "git's password right after the re-login")
    relogin = home.snapshot()
    home.fix()
    c.same(home.files_holding(old, new), [], "files still holding a token")
    c.same((home.credential_fill() or {}).get("password"), new, "git's password")
    c.same(home.new_shell("bash")[0], new, "a new bash's HF_TOKEN")
    c.same(home.hub_get_token(exec_=True), new, "exec's HF_TOKEN")
    c.same(home.token_get(), new, "token get")
    slots = home.slots()
    c.that(all(s.get("redacted") != redacted(old) for s in slots),
           f"a slot still holds the revoked token {redacted(old)}: {slots}")
    c.that(any(redacted(old) in str(s.get("previous", "")) for s in slots),
           f"no slot remembers {redacted(old)} as the value it replaced: {slots}")
    c.done()

    # Undo the second fix: back to the re-login's files. Then the first: the token files it
    # removed were written anew by the re-login, so undo leaves them (and says so); the files
    # nobody touched since come back as they were before it.
    r = home.hfguard("undo", "--last")
    assert r.code == 0, r
    written_by_login = [".cache/huggingface/token", ".cache/huggingface/stored_tokens"]
    home.assert_restored(relogin, only=written_by_login + [".bashrc", ".gitconfig"])
    r = home.hfguard("undo", "--all")
    left = [line for line in r.err.splitlines() if "not restored" in line]
    assert r.code in (0, 1) and all(".cache/huggingface/" in line for line in left), r
    home.assert_restored(relogin, only=written_by_login)
    home.assert_restored(first, only=[".bashrc", ".gitconfig", ".git-credentials"])
