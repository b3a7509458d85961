"""`instcat db backup` / `restore`: a restored database answers exactly as before."""

import subprocess
import sys

from tests.conftest import Api

READS = [
    "/categories?limit=200",
    "/vendors?limit=200",
    "/products?limit=200",
    "/trials?limit=200",
    "/categories/hplc/market",
]


def _answers(api: Api, token: str) -> list[object]:
    return [api.get(path, token).json() for path in READS]


def _cli(settings, *args: str) -> subprocess.CompletedProcess[str]:
    env = {"INSTCAT_DATABASE_URL": settings.database_url, "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "instcat.cli", *args], capture_output=True, text=True, env=env
    )


def test_a_restored_backup_answers_the_same(seeded: Api, settings, tmp_path) -> None:
    reviewer = seeded.user("reviewer")
    before = _answers(seeded, reviewer)
    archive = tmp_path / "instcat.backup"

    made = _cli(settings, "db", "backup", str(archive))
    assert made.returncode == 0, made.stderr
    assert archive.stat().st_size > 0

    # Change things after the backup: a new vendor and an edited product.
    body = {"slug": "after-backup", "name_zh": "备份后", "name_en": "After", "country": "CN"}
    assert seeded.post("/vendors", seeded.admin_token, json=body).status_code == 201
    product = seeded.get("/products?limit=1").json()["items"][0]
    edit = seeded.patch(f"/products/{product['id']}", seeded.admin_token, json={"name": "renamed"})
    assert edit.status_code == 200
    assert _answers(seeded, reviewer) != before

    restored = _cli(settings, "db", "restore", "--yes", str(archive))
    assert restored.returncode == 0, restored.stderr
    assert _answers(seeded, reviewer) == before
    assert seeded.get("/vendors/after-backup").status_code == 404


def test_restore_refuses_a_missing_file(settings, tmp_path) -> None:
    result = _cli(settings, "db", "restore", "--yes", str(tmp_path / "nope.backup"))
    assert result.returncode != 0
    assert "does not exist" in result.stderr or "no backup file" in result.stderr
