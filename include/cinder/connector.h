// The connector: what os-brick does for Cinder. Given an attachment's connection_info, it opens
// the volume as a block device and reads and writes its bytes, in user space and without root:
//   - driver_volume_type "iscsi": over libiscsi (login with CHAP to target_portal/target_iqn/
//     target_lun, READ CAPACITY(16), READ(16)/WRITE(16), SYNCHRONIZE CACHE), several I/Os in
//     flight on one session;
//   - driver_volume_type "local": the file or device at device_path (pread/pwrite/fdatasync).
//
// Example:
//   auto dev = cinder::OpenConnection(connection_info_json);
//   if (!dev.ok()) return dev.status();
//   std::vector<char> buf(1 << 20);
//   CINDER_RETURN_IF_ERROR((*dev)->Read(0, buf.data(), buf.size()));
//
// This header needs only the standard library; libiscsi stays inside libcinder/connector/
// (link cinder_connector).
#ifndef CINDER_CONNECTOR_H_
#define CINDER_CONNECTOR_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cinder/status.h"

namespace cinder {

struct ConnectorOptions {
  // The iSCSI initiator name the session logs in with. Default (empty):
  // "iqn.2026-12.org.libcinder:<hostname>". tgt has no per-initiator ACL: CHAP is the access
  // control.
  std::string initiator_name;
  // How long the TCP connect and the login may take.
  int login_timeout_seconds = 10;
  // How long one SCSI command may take (libiscsi's task timeout); a batch that makes no progress
  // for this long fails with DeadlineExceeded.
  int io_timeout_seconds = 30;
  // How many times a dropped session is reconnected before its commands fail (libiscsi's default
  // is to retry forever).
  int reconnect_retries = 3;
  // Larger I/Os are split into SCSI commands of at most this many bytes (a multiple of the block
  // size).
  size_t max_transfer_bytes = 1 << 20;
};

// A volume opened through its connection_info. Safe for concurrent use from many threads: the
// I/Os of several callers are in flight together on one iSCSI session.
//
// Offsets and lengths need not be multiples of BlockSize(): the edge blocks of a misaligned
// write are read, patched and written back (slower; such writes are serialized against each
// other so two of them sharing a block do not lose either's bytes).
//
// Errors: InvalidArgument for an I/O past Size() (or a null buffer); PermissionDenied for a
// write to a read-only attachment (access_mode "ro", refused before anything is sent) or one the
// target refused (DATA PROTECT: a read-only LUN); Unavailable when the session is lost and not
// re-established; DeadlineExceeded when a command times out; Internal for other SCSI errors.
class BlockDevice {
 public:
  virtual ~BlockDevice() = default;

  // The volume's size in bytes, asked of the target again (it grows after an extend).
  virtual Result<uint64_t> Size() = 0;
  // The logical block size: 512 for tgt, 1 for "local".
  virtual uint32_t BlockSize() const = 0;
  // True when the attachment is read-only (access_mode "ro"): every write is refused.
  virtual bool ReadOnly() const = 0;
  // What was opened, for messages: "iscsi 127.0.0.1:3260 iqn.2010-10.org.openstack:volume-X
  // lun 1" or "local /path". Never carries credentials.
  virtual std::string Describe() const = 0;

  // Reads `len` bytes at `offset` into `buf`.
  virtual Status Read(uint64_t offset, void* buf, size_t len) = 0;
  // Writes `len` bytes of `buf` at `offset`. The data is durable only after Flush().
  virtual Status Write(uint64_t offset, const void* buf, size_t len) = 0;
  // Makes every completed write durable (SYNCHRONIZE CACHE; fdatasync for "local").
  virtual Status Flush() = 0;

  // One I/O of a batch. `buf` must stay valid until Submit returns; for a write it is only read.
  struct Request {
    bool write = false;
    uint64_t offset = 0;
    void* buf = nullptr;
    size_t len = 0;
    Status result;  // set by Submit
  };
  // Starts every request at once (queue depth = requests.size()) and returns when all are done.
  // Each request's `result` says how it went; returns the first failure, or OK. Requests of
  // one batch may complete in any order: overlapping writes in one batch have no defined order.
  virtual Status Submit(std::vector<Request>& requests) = 0;
};

// Opens the volume a connection_info describes. `connection_info_json` is JSON text in any of
// the forms Cinder hands out:
//   - flat, as an attachment's connection_info (3.27+):
//       {"driver_volume_type": "iscsi", "target_portal": "127.0.0.1:3260", "target_iqn": ...,
//        "target_lun": 1, "auth_method": "CHAP", "auth_username": ..., "auth_password": ...,
//        "access_mode": "rw"}
//   - legacy, as os-initialize_connection answers: {"driver_volume_type": "iscsi", "data": {...}}
//   - wrapped: {"connection_info": {...}} or a whole attachment {"attachment": {...}}.
// Keys used: target_portal (or the first of target_portals; a ",tpgt" suffix is ignored),
// target_iqn (target_iqns), target_lun (target_luns), auth_method ("CHAP" or absent),
// auth_username, auth_password, access_mode ("rw" or "ro"), device_path (local), volume_id
// and attachment_id (messages only); the rest is ignored.
// Errors: InvalidArgument for bad JSON, an unknown driver_volume_type or a missing key (the
// message names it); Unauthenticated when CHAP login fails (the message names the portal and
// the IQN, never the password); NotFound when the target or LUN does not exist (or the local
// file); Unavailable when the portal cannot be reached; DeadlineExceeded on a login timeout.
Result<std::unique_ptr<BlockDevice>> OpenConnection(const std::string& connection_info_json,
                                                    const ConnectorOptions& options = {});

// The default initiator name: "iqn.2026-12.org.libcinder:<hostname>".
std::string DefaultInitiatorName();

}  // namespace cinder

#endif  // CINDER_CONNECTOR_H_
