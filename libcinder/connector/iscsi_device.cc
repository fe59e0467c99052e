// driver_volume_type "iscsi": one libiscsi 1.19 session per device.
//
// A libiscsi 1.19 context is not thread-safe, so every call on it is made under mu_. There is no
// I/O thread: a caller starts its commands, then drives the event loop itself until they are
// done (the "leader"); a caller arriving while another one leads only starts its commands, wakes
// the leader out of poll() (an eventfd) and waits on a condition variable, taking over the loop
// when the leader's own commands are done. At queue depth 1 an I/O thus costs no thread hop.
#include <errno.h>
#include <iscsi/iscsi.h>
#include <iscsi/scsi-lowlevel.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <map>
#include <mutex>

#include "connector/devices.h"

namespace cinder::connector {

namespace {

using Clock = std::chrono::steady_clock;

Status DeadlineExceeded(std::string m) { return {Code::kDeadlineExceeded, std::move(m)}; }

// Removes `secret` from a message (libiscsi's errors never carry the CHAP password, but nothing
// built from them may, whatever a future version says).
std::string Redact(std::string m, const std::string& secret) {
  if (secret.empty()) return m;
  for (size_t p; (p = m.find(secret)) != std::string::npos;) m.replace(p, secret.size(), "***");
  return m;
}

class IscsiDevice;

// The commands one caller waits for.
struct Batch {
  int pending = 0;
  std::condition_variable cv;  // its caller waits here while another caller leads
};

// One SCSI command. Its address is the callback's private data: it stays put until completion.
struct Op {
  enum Kind { kRead, kWrite, kFlush16, kFlush10, kCapacity };
  Kind kind = kRead;
  uint64_t lba = 0;
  uint32_t bytes = 0;
  scsi_iovec iov{};
  // What it belongs to: a request of the batch (middle part) or an edge block (>= 0).
  size_t request = 0;
  int edge = -1;
  int retries_left = 1;  // a UNIT ATTENTION (target re-created, LUN resized) is retried once
  Batch* batch = nullptr;
  IscsiDevice* device = nullptr;
  Status result;
  uint64_t capacity_blocks = 0;  // kCapacity
  uint32_t capacity_block_length = 0;
};

void OnCommandDone(iscsi_context* ctx, int status, void* command_data, void* private_data);

class IscsiDevice : public BlockDevice {
 public:
  IscsiDevice(iscsi_context* ctx, ConnectionInfo info, const ConnectorOptions& options, int wake_fd,
              uint32_t block_size, uint64_t blocks)
      : ctx_(ctx),
        info_(std::move(info)),
        options_(options),
        wake_fd_(wake_fd),
        block_size_(block_size),
        size_(blocks * block_size) {
    max_blocks_ = static_cast<uint32_t>(std::max<size_t>(options_.max_transfer_bytes / block_size_, 1));
    describe_ = "iscsi " + info_.portal + " " + info_.iqn + " lun " + std::to_string(info_.lun);
  }

  ~IscsiDevice() override {
    std::lock_guard<std::mutex> l(mu_);
    iscsi_set_timeout(ctx_, 2);
    if (iscsi_is_logged_in(ctx_)) iscsi_logout_sync(ctx_);
    iscsi_destroy_context(ctx_);
    close(wake_fd_);
  }

  Result<uint64_t> Size() override {
    Op op;
    op.kind = Op::kCapacity;
    std::unique_lock<std::mutex> l(mu_);
    Run(l, &op, 1);
    if (!op.result.ok()) return op.result;
    size_ = op.capacity_blocks * op.capacity_block_length;
    return size_;
  }
  uint32_t BlockSize() const override { return block_size_; }
  bool ReadOnly() const override { return info_.read_only; }
  std::string Describe() const override { return describe_; }

  Status Read(uint64_t offset, void* buf, size_t len) override {
    Request r{false, offset, buf, len, Status()};
    return Execute(&r, 1);
  }
  Status Write(uint64_t offset, const void* buf, size_t len) override {
    Request r{true, offset, const_cast<void*>(buf), len, Status()};
    return Execute(&r, 1);
  }
  Status Flush() override {
    if (info_.read_only) return Status::OK();
    Op op;
    op.kind = Op::kFlush16;
    std::unique_lock<std::mutex> l(mu_);
    Run(l, &op, 1);
    return op.result;
  }
  Status Submit(std::vector<Request>& requests) override { return Execute(requests.data(), requests.size()); }

  // Called by libiscsi inside iscsi_service(), under mu_.
  void Complete(Op* op, int status, scsi_task* task);

 private:
  // A partial block of a misaligned request, staged in a bounce buffer.
  struct Patch {
    size_t request;
    uint32_t in_block;  // offset inside the block
    uint32_t len;
    char* user;
  };
  struct Edge {
    uint64_t lba;
    bool write;
    std::vector<Patch> patches;
    Status result;
  };

  Status Execute(Request* reqs, size_t n);
  Status Check(Request& r);
  // Starts `n` commands and drives the loop until all are done; each op's result is set.
  void Run(std::unique_lock<std::mutex>& l, Op* ops, size_t n);
  bool Start(Op* op);
  void Drive(std::unique_lock<std::mutex>& l, Batch& batch);
  void CancelAll(Status why);
  std::string Where() const { return info_.Subject() + " (" + describe_ + ")"; }

  iscsi_context* const ctx_;
  const ConnectionInfo info_;
  const ConnectorOptions options_;
  const int wake_fd_;
  const uint32_t block_size_;
  uint32_t max_blocks_;
  std::string describe_;

  std::mutex mu_;                   // guards ctx_ and everything below
  uint64_t size_;                   // bytes, as last read
  bool leading_ = false;            // a caller drives the loop
  bool polling_ = false;            // ... and sits in poll() without mu_
  int in_flight_ = 0;               // commands started and not yet completed
  uint64_t completions_ = 0;        // ever
  Clock::time_point progress_;      // last completion, or the start of a command on an idle session
  Status cancel_reason_;            // what CANCELLED completions report, while a cancel is under way
  Batch* current_batch_ = nullptr;  // the leader's
  std::vector<Batch*> waiting_;     // callers waiting for the leader (their batches)

  std::mutex rmw_mu_;  // serializes misaligned writes (read, patch, write of edge blocks)
};

void OnCommandDone(iscsi_context*, int status, void* command_data, void* private_data) {
  Op* op = static_cast<Op*>(private_data);
  op->device->Complete(op, status, static_cast<scsi_task*>(command_data));
}

bool IscsiDevice::Start(Op* op) {
  op->device = this;
  scsi_task* task = nullptr;
  switch (op->kind) {
    case Op::kRead:
      task = iscsi_read16_iov_task(ctx_, info_.lun, op->lba, op->bytes, static_cast<int>(block_size_), 0, 0, 0, 0, 0,
                                   OnCommandDone, op, &op->iov, 1);
      break;
    case Op::kWrite:
      task = iscsi_write16_iov_task(ctx_, info_.lun, op->lba, nullptr, op->bytes, static_cast<int>(block_size_), 0, 0,
                                    0, 0, 0, OnCommandDone, op, &op->iov, 1);
      break;
    case Op::kFlush16: task = iscsi_synchronizecache16_task(ctx_, info_.lun, 0, 0, 0, 0, OnCommandDone, op); break;
    case Op::kFlush10: task = iscsi_synchronizecache10_task(ctx_, info_.lun, 0, 0, 0, 0, OnCommandDone, op); break;
    case Op::kCapacity: task = iscsi_readcapacity16_task(ctx_, info_.lun, OnCommandDone, op); break;
  }
  if (task == nullptr) {
    op->result =
        Unavailable("cannot send a SCSI command to " + Where() + ": " + Redact(iscsi_get_error(ctx_), info_.password));
    return false;
  }
  if (in_flight_++ == 0) progress_ = Clock::now();
  return true;
}

void IscsiDevice::Complete(Op* op, int status, scsi_task* task) {
  --in_flight_;
  ++completions_;
  Status result;
  bool retry = false;
  if (status == SCSI_STATUS_GOOD) {
    if (op->kind == Op::kCapacity && task != nullptr) {
      auto* rc = static_cast<scsi_readcapacity16*>(scsi_datain_unmarshall(task));
      if (rc == nullptr) {
        result = Internal("cannot parse READ CAPACITY(16) from " + Where());
      } else {
        op->capacity_blocks = rc->returned_lba + 1;
        op->capacity_block_length = rc->block_length;
      }
    }
  } else if (status == SCSI_STATUS_CHECK_CONDITION && task != nullptr) {
    auto key = task->sense.key;
    if (key == SCSI_SENSE_UNIT_ATTENTION && op->retries_left > 0) {
      --op->retries_left;
      retry = true;
    } else if (key == SCSI_SENSE_ILLEGAL_REQUEST && op->kind == Op::kFlush16) {
      op->kind = Op::kFlush10;  // a target without SYNCHRONIZE CACHE(16)
      retry = true;
    } else if (key == SCSI_SENSE_DATA_PROTECTION) {
      result = PermissionDenied(Where() + " is read-only: the target refused the write (DATA PROTECT)");
    } else {
      result = Internal("SCSI error from " + Where() + ": " + scsi_sense_key_str(key) + " (" +
                        scsi_sense_ascq_str(task->sense.ascq) + ")");
      if (key == SCSI_SENSE_ILLEGAL_REQUEST) result = InvalidArgument(result.message());
    }
  } else if (status == SCSI_STATUS_TIMEOUT) {
    result =
        DeadlineExceeded("no answer from " + Where() + " within " + std::to_string(options_.io_timeout_seconds) + " s");
  } else if (status == SCSI_STATUS_CANCELLED) {
    result = cancel_reason_.ok() ? Unavailable("the command to " + Where() + " was cancelled (session lost)")
                                 : cancel_reason_;
  } else if (status == SCSI_STATUS_CHECK_CONDITION || status == SCSI_STATUS_ERROR) {
    result = Unavailable("I/O to " + Where() + " failed: " + Redact(iscsi_get_error(ctx_), info_.password));
  } else {
    result = Internal("SCSI status " + std::to_string(status) + " from " + Where());
  }
  if (task != nullptr) scsi_free_scsi_task(task);
  if (retry && Start(op)) return;  // still pending, as the same op
  op->result = std::move(result);
  if (--op->batch->pending == 0 && op->batch != current_batch_) op->batch->cv.notify_one();
}

void IscsiDevice::CancelAll(Status why) {
  cancel_reason_ = std::move(why);
  iscsi_scsi_cancel_all_tasks(ctx_);  // every pending command completes, CANCELLED
  cancel_reason_ = Status::OK();
}

void IscsiDevice::Run(std::unique_lock<std::mutex>& l, Op* ops, size_t n) {
  Batch batch;
  for (size_t i = 0; i < n; ++i) {
    ops[i].batch = &batch;
    if (Start(&ops[i])) ++batch.pending;
  }
  if (batch.pending == 0) return;
  if (polling_) {  // the leader must see the new commands' writes
    uint64_t one = 1;
    (void)!write(wake_fd_, &one, sizeof(one));
  }
  Drive(l, batch);
}

void IscsiDevice::Drive(std::unique_lock<std::mutex>& l, Batch& batch) {
  const auto stall_limit = std::chrono::seconds(options_.io_timeout_seconds + 5);
  while (batch.pending > 0) {
    if (leading_) {
      waiting_.push_back(&batch);
      batch.cv.wait(l);
      waiting_.erase(std::find(waiting_.begin(), waiting_.end(), &batch));
      continue;
    }
    leading_ = true;
    current_batch_ = &batch;
    while (batch.pending > 0) {
      int events = iscsi_which_events(ctx_);
      pollfd fds[2] = {{iscsi_get_fd(ctx_), static_cast<short>(events), 0}, {wake_fd_, POLLIN, 0}};
      polling_ = true;
      l.unlock();
      // events == 0: a reconnect is pending; libiscsi asks for >= 100 ms. Otherwise wake up at
      // least once a second so libiscsi's timeouts are checked.
      int rc = poll(fds, 2, events == 0 ? 100 : 1000);
      l.lock();
      polling_ = false;
      if (rc > 0 && (fds[1].revents & POLLIN)) {
        uint64_t v;
        (void)!read(wake_fd_, &v, sizeof(v));
      }
      uint64_t before = completions_;
      if (iscsi_service(ctx_, rc > 0 ? fds[0].revents : 0) < 0) {
        CancelAll(
            Unavailable("the session to " + Where() + " failed: " + Redact(iscsi_get_error(ctx_), info_.password)));
      } else if (completions_ == before && in_flight_ > 0 && Clock::now() - progress_ > stall_limit) {
        CancelAll(DeadlineExceeded("no answer from " + Where() + " for " +
                                   std::to_string(options_.io_timeout_seconds + 5) +
                                   " s (target gone or reconnect failing)"));
      }
      if (completions_ != before) progress_ = Clock::now();
    }
    current_batch_ = nullptr;
    leading_ = false;
  }
  // Hand the loop over to a waiting caller (its batch may still be in flight).
  if (!leading_ && !waiting_.empty()) waiting_.front()->cv.notify_one();
}

Status IscsiDevice::Check(Request& r) {
  if (r.buf == nullptr && r.len > 0) return InvalidArgument("null buffer");
  if (r.write && info_.read_only) {
    return PermissionDenied(info_.Subject() + " is attached read-only (access_mode ro): writes are refused");
  }
  uint64_t size;
  {
    std::lock_guard<std::mutex> l(mu_);
    size = size_;
  }
  if (r.offset > size || r.len > size - r.offset) {
    auto fresh = Size();  // the volume may have been extended
    if (fresh.ok()) size = *fresh;
    if (r.offset > size || r.len > size - r.offset) {
      return InvalidArgument("I/O of " + std::to_string(r.len) + " bytes at offset " + std::to_string(r.offset) +
                             " is past the end of " + Where() + " (" + std::to_string(size) + " bytes)");
    }
  }
  return Status::OK();
}

Status IscsiDevice::Execute(Request* reqs, size_t n) {
  const uint64_t bs = block_size_;
  std::vector<Op> ops;
  std::vector<Edge> edges;
  std::map<uint64_t, int> write_edge_at;  // lba -> edge: patches of one block are merged
  // Plan: whole blocks go straight between the caller's buffer and the wire; partial blocks
  // through a bounce block each.
  size_t op_count = 0;
  for (size_t i = 0; i < n; ++i) {
    Request& r = reqs[i];
    r.result = Check(r);
    if (!r.result.ok() || r.len == 0) continue;
    op_count += (r.len / bs) / max_blocks_ + 3;
  }
  ops.reserve(op_count);
  auto add_middle = [&](size_t i, uint64_t lba, uint64_t blocks, char* p) {
    while (blocks > 0) {
      uint32_t b = static_cast<uint32_t>(std::min<uint64_t>(blocks, max_blocks_));
      Op& op = ops.emplace_back();
      op.kind = reqs[i].write ? Op::kWrite : Op::kRead;
      op.lba = lba;
      op.bytes = static_cast<uint32_t>(b * bs);
      op.iov = {p, op.bytes};
      op.request = i;
      lba += b;
      blocks -= b;
      p += op.bytes;
    }
  };
  auto add_edge = [&](size_t i, uint64_t lba, uint32_t in_block, uint32_t len, char* user) {
    bool write = reqs[i].write;
    if (write) {
      auto [it, fresh] = write_edge_at.emplace(lba, static_cast<int>(edges.size()));
      if (!fresh) {
        edges[it->second].patches.push_back({i, in_block, len, user});
        return;
      }
    }
    edges.push_back(Edge{lba, write, {{i, in_block, len, user}}, Status()});
  };
  bool misaligned_write = false;
  for (size_t i = 0; i < n; ++i) {
    Request& r = reqs[i];
    if (!r.result.ok() || r.len == 0) continue;
    char* p = static_cast<char*>(r.buf);
    uint64_t end = r.offset + r.len;
    uint64_t first = r.offset / bs, last = (end - 1) / bs;
    uint32_t head = static_cast<uint32_t>(r.offset % bs), tail = static_cast<uint32_t>(end % bs);
    if (head == 0 && tail == 0) {
      add_middle(i, first, last - first + 1, p);
      continue;
    }
    misaligned_write |= r.write;
    if (first == last) {
      add_edge(i, first, head, static_cast<uint32_t>(r.len), p);
      continue;
    }
    uint64_t mid_first = first, mid_end = last + 1;
    char* mid_p = p;
    if (head != 0) {
      add_edge(i, first, head, static_cast<uint32_t>(bs - head), p);
      mid_first = first + 1;
      mid_p = p + (bs - head);
    }
    if (tail != 0) {
      add_edge(i, last, 0, tail, p + (last * bs - r.offset));
      mid_end = last;
    }
    if (mid_end > mid_first) add_middle(i, mid_first, mid_end - mid_first, mid_p);
  }
  std::vector<char> bounce(edges.size() * bs);
  auto edge_op = [&](int e, bool write) -> Op& {
    Op& op = ops.emplace_back();
    op.kind = write ? Op::kWrite : Op::kRead;
    op.lba = edges[e].lba;
    op.bytes = static_cast<uint32_t>(bs);
    op.iov = {bounce.data() + e * bs, bs};
    op.edge = e;
    return op;
  };
  std::unique_lock<std::mutex> rmw;
  if (misaligned_write) {
    // Read the edge blocks of the misaligned writes first, then patch them.
    rmw = std::unique_lock<std::mutex>(rmw_mu_);
    std::vector<Op> reads;
    reads.reserve(edges.size());
    for (size_t e = 0; e < edges.size(); ++e) {
      if (!edges[e].write) continue;
      Op& op = reads.emplace_back();
      op.kind = Op::kRead;
      op.lba = edges[e].lba;
      op.bytes = static_cast<uint32_t>(bs);
      op.iov = {bounce.data() + e * bs, bs};
      op.edge = static_cast<int>(e);
    }
    {
      std::unique_lock<std::mutex> l(mu_);
      Run(l, reads.data(), reads.size());
    }
    for (Op& op : reads) {
      Edge& edge = edges[op.edge];
      edge.result = op.result;
      if (!op.result.ok()) continue;
      for (const Patch& pt : edge.patches) std::memcpy(bounce.data() + op.edge * bs + pt.in_block, pt.user, pt.len);
    }
  }
  for (size_t e = 0; e < edges.size(); ++e) {
    if (edges[e].result.ok()) edge_op(static_cast<int>(e), edges[e].write);
  }
  if (!ops.empty()) {
    std::unique_lock<std::mutex> l(mu_);
    Run(l, ops.data(), ops.size());
  }
  for (Op& op : ops) {
    if (op.edge < 0) {
      Request& r = reqs[op.request];
      if (r.result.ok() && !op.result.ok()) r.result = op.result;
      continue;
    }
    Edge& edge = edges[op.edge];
    edge.result = op.result;
    if (op.result.ok() && !edge.write) {
      for (const Patch& pt : edge.patches) std::memcpy(pt.user, bounce.data() + op.edge * bs + pt.in_block, pt.len);
    }
  }
  for (const Edge& edge : edges) {
    for (const Patch& pt : edge.patches) {
      if (reqs[pt.request].result.ok() && !edge.result.ok()) reqs[pt.request].result = edge.result;
    }
  }
  for (size_t i = 0; i < n; ++i) {
    if (!reqs[i].result.ok()) return reqs[i].result;
  }
  return Status::OK();
}

// Maps a failed login's libiscsi message to a Status naming the portal and IQN.
Status LoginError(const ConnectionInfo& info, const std::string& raw) {
  std::string what = "iSCSI login to " + info.portal + " target " + info.iqn + " lun " + std::to_string(info.lun);
  if (info.chap) what += " as CHAP user " + info.username;
  std::string msg = what + " failed: " + Redact(raw, info.password);
  auto has = [&](const char* s) { return raw.find(s) != std::string::npos; };
  if (has("Authentication failure") || has("(513)")) {
    return Unauthenticated(what + " failed: the target refused the CHAP credentials" +
                           (info.chap ? std::string() : std::string(" (none were given)")));
  }
  if (has("Authorization failure") || has("(514)")) return PermissionDenied(msg);
  if (has("Target not found") || has("(515)") || has("Target removed") || has("(516)")) return NotFound(msg);
  if (has("LOGICAL_UNIT_NOT_SUPPORTED") || has("LUN")) return NotFound(msg);
  if (has("imed out") || has("imeout")) return DeadlineExceeded(msg);
  return Unavailable(msg);
}

}  // namespace

Result<std::unique_ptr<BlockDevice>> OpenIscsiDevice(const ConnectionInfo& info, const ConnectorOptions& options) {
  std::string initiator = options.initiator_name.empty() ? DefaultInitiatorName() : options.initiator_name;
  iscsi_context* ctx = iscsi_create_context(initiator.c_str());
  if (ctx == nullptr) return Internal("cannot create an iSCSI context for initiator " + initiator);
  auto fail = [&](Status st) -> Result<std::unique_ptr<BlockDevice>> {
    iscsi_destroy_context(ctx);
    return st;
  };
  if (iscsi_set_targetname(ctx, info.iqn.c_str()) != 0 || iscsi_set_session_type(ctx, ISCSI_SESSION_NORMAL) != 0 ||
      iscsi_set_header_digest(ctx, ISCSI_HEADER_DIGEST_NONE) != 0) {
    return fail(InvalidArgument("iSCSI target " + info.iqn + ": " + iscsi_get_error(ctx)));
  }
  if (info.chap && iscsi_set_initiator_username_pwd(ctx, info.username.c_str(), info.password.c_str()) != 0) {
    return fail(InvalidArgument("cannot set the CHAP credentials of user " + info.username));
  }
  iscsi_set_timeout(ctx, options.login_timeout_seconds);
  iscsi_set_reconnect_max_retries(ctx, options.reconnect_retries);
  iscsi_set_no_ua_on_reconnect(ctx, 1);
  if (iscsi_full_connect_sync(ctx, info.portal.c_str(), info.lun) != 0) {
    return fail(LoginError(info, iscsi_get_error(ctx)));
  }
  iscsi_set_timeout(ctx, options.io_timeout_seconds);
  scsi_task* task = iscsi_readcapacity16_sync(ctx, info.lun);
  if (task == nullptr || task->status != SCSI_STATUS_GOOD) {
    std::string err = Redact(iscsi_get_error(ctx), info.password);
    if (task != nullptr) scsi_free_scsi_task(task);
    iscsi_logout_sync(ctx);
    return fail(Unavailable("READ CAPACITY(16) of " + info.iqn + " lun " + std::to_string(info.lun) + " at " +
                            info.portal + " failed: " + err));
  }
  auto* rc = static_cast<scsi_readcapacity16*>(scsi_datain_unmarshall(task));
  uint32_t block = rc != nullptr ? rc->block_length : 0;
  uint64_t blocks = rc != nullptr ? rc->returned_lba + 1 : 0;
  scsi_free_scsi_task(task);
  if (block == 0 || block > (1u << 16)) {
    iscsi_logout_sync(ctx);
    return fail(Internal("READ CAPACITY(16) of " + info.iqn + " gave a block size of " + std::to_string(block)));
  }
  int wake = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  if (wake < 0) {
    iscsi_logout_sync(ctx);
    return fail(Internal(std::string("eventfd: ") + std::strerror(errno)));
  }
  return std::unique_ptr<BlockDevice>(new IscsiDevice(ctx, info, options, wake, block, blocks));
}

}  // namespace cinder::connector
