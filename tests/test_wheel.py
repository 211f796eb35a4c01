"""The wheel carries schemas/ and templates/, so planforge works outside this repository."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from .conftest import REPO


@pytest.mark.slow
def test_wheel_works_outside_the_repository(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir",
                    str(dist), str(REPO)], check=True, capture_output=True)
    wheel = next(dist.glob("planforge-*.whl"))
    env_dir = tmp_path / "venv"
    # The dependencies are those of the environment running the tests, reached through a .pth
    # line: not the base interpreter's site-packages, which may lack them or hold other versions.
    # A .pth line adds only that folder, so the editable install's hook there is not loaded and
    # planforge itself comes from the wheel. What is tested is planforge's own files.
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = env_dir / "bin" / "python"
    where_site = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = subprocess.run([str(python), "-c", where_site], check=True, capture_output=True,
                          text=True).stdout.strip()
    Path(site, "test-dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([str(python), "-m", "pip", "install", "--no-deps", "--no-index", "--quiet",
                    str(wheel)], check=True, capture_output=True)
    planforge = env_dir / "bin" / "planforge"
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    schema = subprocess.run([str(planforge), "schema", "project"], cwd=elsewhere, check=True,
                            capture_output=True, text=True)
    assert json.loads(schema.stdout)["title"]

    # init copies the CI recipe, so the wheel must carry it.
    subprocess.run([str(planforge), "init", "--ci", "github"], cwd=elsewhere, check=True,
                   capture_output=True)
    assert (elsewhere / ".github/workflows/planforge.yml").is_file()
    subprocess.run([str(planforge), "new", "demo"], cwd=elsewhere, check=True,
                   capture_output=True)
    # Not --strict: the skeleton's placeholder addresses are warnings until replaced.
    checked = subprocess.run([str(planforge), "validate"], cwd=elsewhere,
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    brief = subprocess.run([str(planforge), "render", "brief", "demo"], cwd=elsewhere,
                           capture_output=True, text=True)
    assert brief.returncode == 0, brief.stderr
    assert "Demo" in brief.stdout
    where = subprocess.run([str(python), "-c", "import planforge; print(planforge.__file__)"],
                           cwd=elsewhere, check=True, capture_output=True, text=True).stdout
    assert str(env_dir) in where
