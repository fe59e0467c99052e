"""The embedded service's REST API, with the stock `cinder` client, sees what Python does and
the other way round: one service, two front doors."""
import os
import shutil
import subprocess

import pytest

import cinder


def run_cinder(endpoint, project, *args):
    cmd = ["cinder", "--os-auth-type", "noauth", "--os-endpoint", f"{endpoint}/v3/{project}",
           "--os-user-id", "cinderlib", "--os-project-id", project, "--os-volume-api-version", "3.70", *args]
    env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=env)
    assert res.returncode == 0, f"{args}: {res.stdout}{res.stderr}"
    return res.stdout


@pytest.mark.skipif(not shutil.which("cinder"), reason="the stock cinder client is not installed")
def test_stock_client_against_the_embedded_api(svc):
    vol = svc.create_volume(1, name="from-python").wait()
    out = run_cinder(svc.endpoint, svc.project_id, "show", vol.id)
    assert "from-python" in out and "available" in out
    out = run_cinder(svc.endpoint, svc.project_id, "create", "--name", "from-client", "2")
    new_id = next(line.split("|")[2].strip() for line in out.splitlines() if line.startswith("| id "))
    made = svc.get_volume(new_id).wait(timeout=30)
    assert (made.name, made.size, made.status) == ("from-client", 2, "available")
    run_cinder(svc.endpoint, svc.project_id, "extend", new_id, "3")
    assert made.wait(timeout=30).size == 3
    run_cinder(svc.endpoint, svc.project_id, "delete", new_id)
    assert made.wait(timeout=30).status == "deleted"
    with pytest.raises(cinder.NotFound):
        svc.get_volume(new_id)


def test_metrics_text_is_what_get_metrics_answers(svc):
    svc.create_volume(1, name="counted").wait()
    text = svc.metrics_text()
    assert text.endswith("\n")
    assert 'cinder_scheduler_placements_total{backend="' in text
    assert ('cinder_rpc_client_requests_total{topic="cinder-scheduler",method="create_volume",kind="cast",'
            'outcome="OK"}') in text
    assert "# TYPE cinder_pool_free_capacity_gib gauge" in text
