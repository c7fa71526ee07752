"""hfguard run the README's way, from a build folder (issue 12 case 9): start-up files and
`~/.gitconfig` got `…/target/release/hfguard`; after `cargo clean` new shells printed errors
and git prompted for a password. When the running hfguard lives in a build folder, the plan
says so and installs it (`hfguard install`) before writing lookups; nothing names `target/`."""

import pytest

import shutil

from home import Checks


@pytest.mark.matrix('case 9: hfguard run from `target/release`, then `cargo clean`', 'hf', 'git', 'bash')
def test_case9_lookups_survive_cargo_clean(bare_home, hfguard_copy):
    """A fresh account: no `~/.local/bin` yet (the install makes it)."""
    home = bare_home
    clone = home.path("src/hfguard")
    built = clone / "target/release/hfguard"
    built.parent.mkdir(parents=True)
    shutil.copy2(hfguard_copy, built)
    home.bin = built
    t = home.token(user="alice", display="laptop")
    home.git("config", "--global", "credential.helper", "store")
    home.hub_login(t, git=True)
    home.write(".bashrc", f"export HF_TOKEN={t}\n")

    r = home.fix()

    c = Checks(home)
    c.that("install" in r.out, f"the plan does not offer to install hfguard:\n{r.out}")
    c.that(r.code != 0 or not r.err.strip(), f"fix exited 0 although a step failed:\n{r.err}")
    naming = [p for p in home.files_holding("/target/") if not p.startswith("src/hfguard/")]
    c.same(naming, [], "files naming a build folder")
    shutil.rmtree(clone / "target")  # cargo clean
    value, errors = home.new_shell("bash")
    c.same(value, t, "HF_TOKEN in a new bash after cargo clean")
    c.same(errors, [], "what a new bash printed after cargo clean")
    c.same((home.credential_fill() or {}).get("password"), t, "git's password after cargo clean")
    c.done()
