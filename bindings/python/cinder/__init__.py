"""libcinder as a Python library: Cinder's block storage in your process (docs/python.md).

    import cinder
    with cinder.open(state_path="/tmp/state") as svc:
        vol = svc.create_volume(size=1, name="data").wait()
        snap = vol.create_snapshot(name="s1").wait()
        copy = snap.create_volume(name="copy").wait()

Everything is the extension module cinder._cinder (C++, over libcinder.so).
"""
from ._cinder import *  # noqa: F401,F403
from ._cinder import __version__, configure_logging, open  # noqa: F401

__all__ = [
    "open", "configure_logging", "Service", "Volume", "Snapshot", "Backup", "VolumeType", "QosSpecs", "Quota", "VolumeFile",
    "GroupType", "Group", "GroupSnapshot", "Transfer", "Identity",
    "VolumeIterator", "SnapshotIterator", "BackupIterator", "GroupIterator", "GroupSnapshotIterator",
    "Error", "InvalidInput", "InvalidState", "NotFound", "Conflict", "NotAuthorized", "NotAuthenticated",
    "OverQuota", "NotSupported", "Timeout", "Unavailable", "InternalError", "OperationFailed",
]
