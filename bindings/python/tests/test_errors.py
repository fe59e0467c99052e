"""Cinder's errors as Python exceptions: the hierarchy, the codes, the messages."""
import pytest

import cinder


def test_hierarchy():
    for name, bases in {
        "InvalidInput": (cinder.Error, ValueError),
        "InvalidState": (cinder.InvalidInput,),
        "NotFound": (cinder.Error, LookupError),
        "Conflict": (cinder.Error,),
        "NotAuthorized": (cinder.Error, PermissionError),
        "NotAuthenticated": (cinder.NotAuthorized,),
        "OverQuota": (cinder.Error,),
        "NotSupported": (cinder.Error, NotImplementedError),
        "Timeout": (cinder.Error, TimeoutError),
        "Unavailable": (cinder.Error,),
        "InternalError": (cinder.Error,),
        "OperationFailed": (cinder.Error,),
    }.items():
        cls = getattr(cinder, name)
        assert all(issubclass(cls, b) for b in bases), name
        assert cls.__module__ == "cinder" and cls.__doc__
    assert issubclass(cinder.Error, Exception)


def test_not_found(svc):
    with pytest.raises(cinder.NotFound) as e:
        svc.get_volume("8c1d1a5c-0000-4000-8000-000000000000")
    assert str(e.value) == "Volume 8c1d1a5c-0000-4000-8000-000000000000 could not be found."
    assert (e.value.code, e.value.http_status) == ("NotFound", 404)
    with pytest.raises(cinder.NotFound, match="could not be found"):
        svc.get_snapshot("nope")
    with pytest.raises(cinder.NotFound):
        svc.create_volume(1, volume_type="no-such-type")
    with pytest.raises(LookupError):  # a NotFound is a LookupError too
        svc.get_backup("nope")


def test_invalid_input(svc):
    with pytest.raises(cinder.InvalidInput) as e:
        svc.create_volume(size=-1)
    assert str(e.value) == "Invalid input received: Volume size '-1' must be an integer and greater than 0."
    assert (e.value.code, e.value.http_status) == ("InvalidArgument", 400)
    with pytest.raises(ValueError):
        svc.create_volume(size=1, name="x" * 256)
    vol = svc.create_volume(1).wait()
    with pytest.raises(cinder.InvalidInput, match="New size for extend must be greater than current size"):
        vol.extend(1)
    with pytest.raises(cinder.InvalidInput, match="sort direction"):
        list(svc.volumes(sort="name:sideways"))
    with pytest.raises(cinder.InvalidInput, match="must be one line"):
        cinder.open(state_path="/tmp/unused", host="a\nb")
    with pytest.raises(cinder.InvalidInput, match="unknown option"):
        cinder.open(state_path="/tmp/unused", no_such_option=1)


def test_invalid_state(svc):
    vol = svc.create_volume(1).wait()
    vol.create_snapshot().wait()
    with pytest.raises(cinder.InvalidState) as e:
        vol.delete()
    assert e.value.code == "FailedPrecondition" and e.value.http_status == 400
    assert "Volume status must be available or error" in str(e.value) or "snapshots" in str(e.value)


def test_over_quota(svc):
    svc.set_quotas(volumes=1)
    svc.create_volume(1)
    with pytest.raises(cinder.OverQuota) as e:
        svc.create_volume(1)
    assert str(e.value) == "Maximum number of volumes allowed (1) exceeded for quota 'volumes'."
    assert (e.value.code, e.value.http_status) == ("ResourceExhausted", 413)
    svc.set_quotas(volumes=10, gigabytes=3)
    with pytest.raises(cinder.OverQuota, match="gigabytes"):
        svc.create_volume(5)


def test_conflict(svc):
    svc.create_volume_type("gold")
    with pytest.raises(cinder.Conflict, match="Volume Type gold already exists."):
        svc.create_volume_type("gold")


def test_operation_failed_says_why(svc):
    svc.create_volume_type("nowhere", extra_specs={"volume_backend_name": "no-such-backend"})
    vol = svc.create_volume(1, volume_type="nowhere")
    with pytest.raises(cinder.OperationFailed) as e:
        vol.wait(timeout=30)
    assert vol.status == "error"
    assert (e.value.status, e.value.resource_id) == ("error", vol.id)
    assert e.value.user_message == "schedule allocate volume:Could not find any available weighted backend."
    assert str(e.value) == f"Volume {vol.id} is error: {e.value.user_message}"
    assert svc.messages(vol.id)[0]["user_message"] == e.value.user_message


def test_wait_timeout(svc):
    vol = svc.create_volume(1).wait()
    vol.reset_status("extending")  # nothing will move it on
    with pytest.raises(cinder.Timeout, match="still extending"):
        vol.wait(timeout=0.05)
    with pytest.raises(TimeoutError):
        vol.wait(timeout=0)
    with pytest.raises(cinder.InvalidInput):
        vol.wait(timeout=-1)
