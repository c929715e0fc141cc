"""A normal (not editable) install works without the source checkout: `pip install --no-deps .` into a
fresh virtual environment that borrows the heavy packages (torch, transformers, ...) of this one,
then `blogbot ask` on the demo blog from another directory, with the config that ships in the package."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from helpers import REPO

pytestmark = pytest.mark.slow


def _run(args: list, **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(args, capture_output=True, text=True, timeout=600, **kwargs)
    assert done.returncode == 0, (args, done.stdout[-2000:], done.stderr[-3000:])
    return done


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The `bin/` folder of a venv holding blogbot installed from a copy of the source tree."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    # A copy of what git tracks and of untracked files it does not ignore: no .venv, build or caches.
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=REPO, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for name in filter(None, files):
        src = REPO / name
        if src.is_symlink() or src.is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            if src.is_symlink():
                os.symlink(os.readlink(src), source / name)
            else:
                shutil.copy2(src, source / name)
    venv = work / "venv"
    # No pip or setuptools of its own: this environment's (newer) ones are used, through the .pth below.
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)])
    # This environment's packages, after the new one's own: the installed blogbot comes first.
    site = Path(_run([str(venv / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]
                     ).stdout.strip())
    (site / "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _run([sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--quiet", "--no-deps",
          "--no-build-isolation", "--disable-pip-version-check", str(source)])
    shutil.rmtree(source)        # the installed package must not need it
    return venv / "bin"


def test_a_normal_install_answers_from_another_directory(installed, demo_index, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BLOGBOT_")}
    env["HF_HUB_OFFLINE"] = "1"
    where = _run([str(installed / "python"), "-c", "import knowledge.settings as s; print(s.config_dir())"],
                 cwd=elsewhere, env=env).stdout.strip()
    assert str(REPO) not in where and "site-packages" in where, where
    done = _run([str(installed / "blogbot"), "ask", "What is reciprocal rank fusion?", "--json",
                 "--data-dir", str(demo_index)], cwd=elsewhere, env=env)
    answer = json.loads(done.stdout)
    assert not answer["abstained"] and answer["citations"], answer
    assert "fusion" in answer["answer"].lower()
