"""deploy.sh's decisions, run against stand-ins for docker and kubectl that record what they are asked.

No cluster or container engine runs here, so the stand-ins answer like them (a digest after a
push, a rollout that fails when told to) while `kubectl kustomize` is the real one: the
manifests the script applies are the ones it really builds.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
KUBECTL = Path(sys.executable).parent / "kubectl"
DIGEST = "sha256:" + "ab" * 32

FAKE_DOCKER = f"""#!/usr/bin/env bash
echo "docker $*" >> "$CALLS"
if [ "$1" = inspect ]; then echo "registry.test/vigia/vigia@{DIGEST}"; fi
"""
FAKE_KUBECTL = f"""#!/usr/bin/env bash
if [ "$1" = kustomize ]; then exec "{KUBECTL}" "$@"; fi
echo "kubectl $*" >> "$CALLS"
if [[ " $* " == *" apply -f - "* ]]; then cat >> "$APPLIED"; fi
if [[ " $* " == *" rollout status deployment/$FAIL_ROLLOUT "* ]]; then exit 1; fi
"""


@pytest.fixture
def release(tmp_path: Path) -> Path:
    """A committed copy of the deployment files, as the script expects to run from."""
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "deploy", work / "deploy", ignore=shutil.ignore_patterns(".release"))
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@example.org"]
    subprocess.run([*git, "init", "-q"], cwd=work, check=True)
    subprocess.run([*git, "add", "."], cwd=work, check=True)
    subprocess.run([*git, "commit", "-qm", "release"], cwd=work, check=True)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in (("docker", FAKE_DOCKER), ("kubectl", FAKE_KUBECTL)):
        (bin_dir / name).write_text(body)
        (bin_dir / name).chmod(0o755)
    return work


def deploy(work: Path, *args: str, fail: str = "none") -> tuple[int, list[str], list[dict]]:
    calls, applied = work.parent / "calls", work.parent / "applied"
    env = {
        **os.environ, "PATH": f"{work.parent / 'bin'}:{os.environ['PATH']}", "CALLS": str(calls),
        "APPLIED": str(applied), "FAIL_ROLLOUT": fail, "VIGIA_REGISTRY": "registry.test/vigia",
    }  # fmt: skip
    done = subprocess.run(["bash", "deploy/deploy.sh", *args], cwd=work, env=env, capture_output=True, text=True)
    lines = calls.read_text().splitlines() if calls.exists() else []
    docs = [d for d in yaml.safe_load_all(applied.read_text()) if d] if applied.exists() else []
    return done.returncode, lines, docs


def images(docs: list[dict]) -> set[str]:
    return {
        c["image"]
        for d in docs
        if d["kind"] in {"Deployment", "Job"}
        for c in d["spec"]["template"]["spec"]["containers"]
    }


def test_a_release_is_built_pushed_pinned_by_digest_migrated_and_waited_for(release: Path) -> None:
    code, calls, docs = deploy(release)
    assert code == 0
    revision = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=release, capture_output=True, text=True)
    tag = f"registry.test/vigia/vigia:{revision.stdout.strip()}"
    assert calls[0] == f"docker build --file deploy/Dockerfile --tag {tag} ."
    assert calls[1] == f"docker push {tag}"
    assert images(docs) == {f"registry.test/vigia/vigia@{DIGEST}"}
    kubectl = [c for c in calls if c.startswith("kubectl")]
    assert kubectl.index("kubectl --namespace vigia delete job/migrate --ignore-not-found") < kubectl.index(
        "kubectl --namespace vigia apply -f -"
    )
    waited = [c.split()[-3] for c in kubectl if " rollout status " in c]
    assert waited == [
        "deployment/bridge",
        "deployment/stream",
        "deployment/inference",
        "deployment/notifier",
        "deployment/api",
    ]
    assert not [c for c in kubectl if "rollout undo" in c]


def test_a_failed_rollout_rolls_every_service_back(release: Path) -> None:
    code, calls, _ = deploy(release, fail="inference")
    assert code == 1
    undone = [c.split()[-1] for c in calls if "rollout undo" in c]
    assert undone == [
        "deployment/bridge",
        "deployment/stream",
        "deployment/inference",
        "deployment/notifier",
        "deployment/api",
    ]


def test_a_canary_takes_its_share_and_only_the_api(release: Path) -> None:
    code, _, docs = deploy(release, "--canary", "15")
    assert code == 0
    assert {(d["kind"], d["metadata"]["name"]) for d in docs} == {
        ("Deployment", "api-canary"), ("Service", "api-canary"), ("Ingress", "api-canary"),
    }  # fmt: skip
    ingress = next(d for d in docs if d["kind"] == "Ingress")
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/canary-weight"] == "15"
    assert images(docs) == {f"registry.test/vigia/vigia@{DIGEST}"}


def test_a_canary_that_never_gets_ready_is_taken_away(release: Path) -> None:
    code, calls, _ = deploy(release, "--canary", "10", fail="api-canary")
    assert code == 1
    assert calls[-1].endswith("delete ingress/api-canary service/api-canary deployment/api-canary --ignore-not-found")


def test_a_dirty_tree_or_a_bad_weight_is_refused(release: Path) -> None:
    assert deploy(release, "--canary", "90")[0] == 2
    (release / "deploy" / "Dockerfile").write_text("changed\n")
    code, calls, _ = deploy(release)
    assert code == 1
    assert calls == []


def test_the_scripts_are_shellcheck_clean() -> None:
    shellcheck = shutil.which("shellcheck")
    assert shellcheck, "shellcheck is installed by deploy/local/install-system.sh"
    scripts = ["deploy/deploy.sh", "deploy/local/install-system.sh", ".ci/run"]
    result = subprocess.run([shellcheck, *scripts], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout
