#!/usr/bin/python3
"""Makes tests/data/cinder_posix_backup/ with the real Cinder's posix backup driver.

It loads cinder/backup/chunkeddriver.py and cinder/backup/drivers/posix.py, unchanged, from a
Cinder source tree (a checkout, or a bare git directory read with `git show`) and runs them over
a 2 MiB patterned image: a full backup (zlib), an incremental (zstd) after some blocks changed,
and an incremental of that (bz2) after more changed (one of them to zeros). Each driver writes
its objects, _sha256file and _metadata as Cinder does; manifest.json records the backups and the
SHA-256 of the image at each point. The generator then restores every chain with Cinder's own
restore() and checks the bytes.

What it stubs: the parts of the `cinder` package the two modules import (exception, i18n,
objects, utils, volume_utils, interface, backup.driver) and oslo_service.loopingcall, with
minimal fakes; oslo.config, oslo.log, oslo.utils are Debian's (python3-oslo.*), zstd is Debian's
python3-zstd. No database: a Backup is a small object with the fields the drivers touch.

  make_cinder_fixture.py [--cinder GIT_DIR_OR_TREE] [--out DIR]
  make_cinder_fixture.py --check-restore MANIFEST_DIR  # restores a backup WE wrote with Cinder's code

With --check-restore, MANIFEST_DIR holds manifest.json in the same form (written by the unit test
tool or by hand) and store/; the chains are restored with Cinder's restore() and compared.
"""
import argparse
import contextlib
import datetime
import hashlib
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import types

DEFAULT_CINDER = '/work/.mirror/openstack+cinder/repo'
IMAGE_SIZE = 2 * 1024 * 1024
FILE_SIZE = 262144
SHA_BLOCK = 32768
VOLUME_ID = '3f1c2b7a-5d4e-4c8b-9a1f-0e2d3c4b5a69'
IDS = ['a7e3c1d2-4b5f-4e6a-8c9d-0f1e2d3c4b5a',
       'b8f4d2e3-5c6a-4f7b-9dae-1a2f3e4d5c6b',
       'c9a5e3f4-6d7b-4a8c-8ebf-2b3a4f5e6d7c']
META_JSON = json.dumps({'version': 2,
                        'volume-base-metadata': {'id': VOLUME_ID, 'size': 1, 'display_name': 'fixture',
                                                 'display_description': None, 'bootable': False},
                        'volume-metadata': {'purpose': 'interop'}})


def read_source(cinder, path):
    if os.path.isdir(os.path.join(cinder, 'cinder')):
        with open(os.path.join(cinder, path)) as f:
            return f.read()
    return subprocess.run(['git', '--git-dir', cinder, 'show', 'HEAD:' + path], check=True,
                          capture_output=True, text=True).stdout


def install_stubs():
    """The modules chunkeddriver.py and posix.py import, as small fakes."""
    def module(name, **attrs):
        m = types.ModuleType(name)
        m.__dict__.update(attrs)
        sys.modules[name] = m
        parent, _, child = name.rpartition('.')
        if parent:
            setattr(sys.modules[parent], child, m)
        return m

    from oslo_config import cfg
    cfg.CONF.register_opts([cfg.IntOpt('backup_timer_interval', default=120),
                            cfg.IntOpt('backup_object_number_per_notification', default=10),
                            cfg.StrOpt('storage_availability_zone', default='nova')])

    class FixedIntervalLoopingCall:
        def __init__(self, f):
            pass

        def start(self, interval):
            pass

        def stop(self):
            pass

    module('oslo_service')
    module('oslo_service.loopingcall', FixedIntervalLoopingCall=FixedIntervalLoopingCall)

    module('cinder')
    module('cinder.backup')
    module('cinder.backup.drivers')
    module('cinder.volume')

    class CinderException(Exception):
        def __init__(self, message=None, **kw):
            super().__init__(message or repr(kw))

    exc = module('cinder.exception')
    for n in ('InvalidBackup', 'InvalidVolume', 'BackupRestoreCancel', 'ConfigNotFound',
              'BackupMetadataUnsupportedVersion', 'BackupOperationError'):
        setattr(exc, n, type(n, (CinderException,), {}))
    module('cinder.i18n', _=lambda s: s)
    module('cinder.interface', backupdriver=lambda cls: cls)
    module('cinder.utils', tpool_wrap=lambda f: f, cooperative_yield=lambda: None)

    def is_all_zero(chunk):
        return not any(bytes(chunk))

    module('cinder.volume.volume_utils', is_all_zero=is_all_zero,
           notify_about_backup_usage=lambda *a, **k: None)

    class BackupStatus:
        CREATING, AVAILABLE, DELETING, DELETED, ERROR, RESTORING = (
            'creating', 'available', 'deleting', 'deleted', 'error', 'restoring')

    module('cinder.objects')
    module('cinder.objects.fields', BackupStatus=BackupStatus)
    registry = {}

    class Backup:
        """The fields of objects.Backup the chunked driver reads and writes."""

        def __init__(self, **kw):
            self.__dict__.update(kw)
            registry[self.id] = self

        def __getitem__(self, k):
            return getattr(self, k)

        def save(self):
            pass

        def refresh(self):
            pass

        @contextlib.contextmanager
        def as_read_deleted(self):
            yield

        @classmethod
        def get_by_id(cls, context, backup_id):
            return registry[backup_id]

    sys.modules['cinder.objects'].Backup = Backup
    sys.modules['cinder.objects'].fields = sys.modules['cinder.objects.fields']

    class BackupDriver:
        def __init__(self, context):
            self.context = context
            self.db = types.SimpleNamespace(volume_get=lambda ctx, vid: {'size': 1, 'id': vid})

        def get_metadata(self, volume_id):
            return META_JSON

        def put_metadata(self, volume_id, json_metadata):
            pass

    module('cinder.backup.driver', BackupDriver=BackupDriver)
    return Backup


def load_drivers(cinder):
    tmp = tempfile.mkdtemp()
    for rel, name in (('cinder/backup/chunkeddriver.py', 'cinder.backup.chunkeddriver'),
                      ('cinder/backup/drivers/posix.py', 'cinder.backup.drivers.posix')):
        path = os.path.join(tmp, os.path.basename(rel))
        with open(path, 'w') as f:
            f.write(read_source(cinder, rel))
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod
        parent, _, child = name.rpartition('.')
        setattr(sys.modules[parent], child, mod)
        spec.loader.exec_module(mod)
    shutil.rmtree(tmp)
    return sys.modules['cinder.backup.drivers.posix']


def make_image():
    """2 MiB: text-like runs (compress well), random bytes (do not), zeros, 4 bits a byte."""
    rng = random.Random(14)
    img = bytearray()
    words = [b'cinder ', b'backup ', b'volume ', b'chunk ', b'sha256 ', b'object ']
    while len(img) < 1024 * 1024:
        img += rng.choice(words)
    img = img[:1024 * 1024]
    img += bytes(rng.getrandbits(8) for _ in range(128 * 1024))
    img += bytes(640 * 1024)  # zeros
    img += bytes(rng.getrandbits(4) for _ in range(IMAGE_SIZE - len(img)))  # 4 bits a byte
    return img


def backup(posix, Backup, root, image, algorithm, idx, parent_id, when):
    from oslo_config import cfg
    from oslo_utils import timeutils
    cfg.CONF.set_override('backup_compression_algorithm', algorithm)
    cfg.CONF.set_override('backup_file_size', FILE_SIZE)
    cfg.CONF.set_override('backup_sha_block_size_bytes', SHA_BLOCK)
    cfg.CONF.set_override('backup_posix_path', root)
    timeutils.set_time_override(when)
    drv = posix.PosixBackupDriver(context=None)
    b = Backup(id=IDS[idx], volume_id=VOLUME_ID, container=None, service_metadata=None,
               parent_id=parent_id, display_name='fixture-%d' % idx,
               display_description='made by the real Cinder posix driver' if idx == 0 else None,
               created_at=when.replace(tzinfo=datetime.timezone.utc), size=1, status='creating',
               object_count=0)
    vol = tempfile.NamedTemporaryFile()
    vol.write(image)
    vol.flush()
    with open(vol.name, 'rb') as f:
        drv.backup(b, f)
    b.status = 'available'
    timeutils.clear_time_override()
    return b


def cinder_restore(posix, Backup, root, backup_obj, size, volume_is_new):
    from oslo_config import cfg
    cfg.CONF.set_override('backup_posix_path', root)
    drv = posix.PosixBackupDriver(context=None)
    backup_obj.status = 'restoring'
    with tempfile.NamedTemporaryFile() as out:
        out.truncate(size)
        with open(out.name, 'r+b') as f:
            drv.restore(backup_obj, VOLUME_ID, f, volume_is_new)
        with open(out.name, 'rb') as f:
            data = f.read()
    backup_obj.status = 'available'
    return data


def generate(args):
    Backup = install_stubs()
    posix = load_drivers(args.cinder)
    out = os.path.abspath(args.out)
    store = os.path.join(out, 'store')
    shutil.rmtree(store, ignore_errors=True)
    os.makedirs(store)
    images = [make_image()]
    img = bytearray(images[0])
    # Incremental 1: three blocks of text and one random block change.
    for blk in (1, 2, 20, 33):
        img[blk * SHA_BLOCK:blk * SHA_BLOCK + 100] = b'X' * 100
    images.append(bytes(img))
    # Incremental 2: one block becomes zeros (Cinder's new-volume restore keeps the old bytes
    # there), one zero block gets data, the last block changes.
    img[2 * SHA_BLOCK:3 * SHA_BLOCK] = bytes(SHA_BLOCK)
    img[45 * SHA_BLOCK:45 * SHA_BLOCK + 7] = b'written'
    img[-5:] = b'tail!'
    images.append(bytes(img))
    algos = ['zlib', 'zstd', 'bz2']
    base = datetime.datetime(2026, 12, 7, 10, 0, 0)
    backups = []
    for i, algo in enumerate(algos):
        parent = backups[-1].id if backups else None
        backups.append(backup(posix, Backup, store, images[i], algo, i, parent,
                              base + datetime.timedelta(minutes=i, seconds=7)))
    manifest = {'volume_id': VOLUME_ID, 'size': IMAGE_SIZE, 'sha_block_size': SHA_BLOCK,
                'backup_file_size': FILE_SIZE, 'backups': []}
    for i, b in enumerate(backups):
        manifest['backups'].append({'id': b.id, 'container': b.container,
                                    'service_metadata': b.service_metadata, 'parent_id': b.parent_id,
                                    'compression': algos[i], 'object_count': b.object_count,
                                    'image_sha256': hashlib.sha256(images[i]).hexdigest()})
        # Cinder's own restore of the chain onto an existing (non-new) volume is exact.
        got = cinder_restore(posix, Backup, store, b, IMAGE_SIZE, volume_is_new=False)
        assert got == images[i], 'Cinder restore of %s differs' % b.id
    with open(os.path.join(out, 'manifest.json'), 'w') as f:
        json.dump(manifest, f, sort_keys=True, indent=2)
        f.write('\n')
    print('wrote', out)


def check_restore(args):
    """Restores the chains of a store we wrote with Cinder's restore() and checks the bytes."""
    Backup = install_stubs()
    posix = load_drivers(args.cinder)
    d = os.path.abspath(args.check_restore)
    with open(os.path.join(d, 'manifest.json')) as f:
        manifest = json.load(f)
    store = os.path.join(d, 'store')
    for b in manifest['backups']:
        Backup(id=b['id'], volume_id=manifest['volume_id'], container=b['container'],
               service_metadata=b['service_metadata'], parent_id=b['parent_id'], status='available')
    ok = True
    for b in manifest['backups']:
        data = cinder_restore(posix, Backup, store, Backup.get_by_id(None, b['id']), manifest['size'], False)
        same = hashlib.sha256(data).hexdigest() == b['image_sha256']
        ok = ok and same
        print(b['id'], 'OK' if same else 'DIFFERS')
    sys.exit(0 if ok else 1)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--cinder', default=DEFAULT_CINDER)
    p.add_argument('--out', default=os.path.join(os.path.dirname(__file__), '..', 'data', 'cinder_posix_backup'))
    p.add_argument('--check-restore')
    args = p.parse_args()
    if args.check_restore:
        check_restore(args)
    else:
        generate(args)


if __name__ == '__main__':
    main()
