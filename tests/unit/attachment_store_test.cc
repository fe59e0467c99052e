// Attachments in the store, on real SQLite and PostgreSQL: the reserve compare-and-swap (one
// winner among racing reservations), Cinder's volume_detached recompute, the legacy attach, and
// what recovery looks for.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "common/util.h"
#include "db/store.h"
#include "test_util.h"

namespace cinder {

namespace {

std::string NewVolume(Store& s, bool multiattach = false) {
  Volume v;
  v.id = NewUuid();
  v.size = 1;
  v.status = "available";
  v.project_id = "p";
  v.user_id = "u";
  v.availability_zone = "nova";
  v.host = "h@b#p";
  v.multiattach = multiattach;
  v.created_at = NowIso();
  REQUIRE(s.InsertVolume(v).ok());
  return v.id;
}

Volume Get(Store& s, const std::string& id) {
  auto v = s.GetVolume(id, std::nullopt);
  REQUIRE(v.ok());
  return *v;
}

}  // namespace

TEST_CASE("racing reservations of one volume: exactly one wins, the others hear its status") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    const std::string id = NewVolume(*s);
    std::atomic<int> won{0}, lost{0};
    std::vector<std::thread> threads;
    for (int i = 0; i < 16; ++i) {
      threads.emplace_back([&, i] {
        Store::AttachmentReserve r;
        r.volume_id = id;
        r.instance_uuid = NewUuid();
        auto a = s->ReserveAttachment(r);
        if (a.ok()) {
          ++won;
        } else {
          CHECK(a.status().code() == Code::kFailedPrecondition);
          CHECK(a.status().message() == "Invalid volume: Volume " + id +
                                            " status must be available or downloading to reserve, but the current "
                                            "status is reserved.");
          ++lost;
        }
      });
    }
    for (auto& t : threads) t.join();
    CHECK(won == 1);
    CHECK(lost == 15);
    CHECK(s->AttachmentsOfVolume(id)->size() == 1);
    CHECK(Get(*s, id).status == "reserved");
  }
}

TEST_CASE("attachments: connect, complete, and the status a detach leaves (Cinder's volume_detached)") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    const std::string id = NewVolume(*s, /*multiattach=*/true);
    Store::AttachmentReserve r;
    r.volume_id = id;
    r.instance_uuid = NewUuid();
    r.connector = R"({"initiator": "iqn.x"})";
    auto a1 = s->ReserveAttachment(r);
    REQUIRE(a1.ok());
    CHECK(a1->connection_info == "{}");
    // A reserved attachment with a connector is what recovery fails after a crash.
    CHECK(s->InterruptedConnects("h@", IsoSecondsAgo(-60))->size() == 1);
    CHECK(s->InterruptedConnects("other@", IsoSecondsAgo(-60))->empty());
    Store::AttachmentConnection c{a1->id, id,         *r.connector, R"({"driver_volume_type": "iscsi"})",
                                  "h1",   "/dev/vdb", "rw"};
    REQUIRE(*s->AttachmentConnected(c));
    CHECK(Get(*s, id).status == "attaching");
    CHECK(s->InterruptedConnects("h@", IsoSecondsAgo(-60))->empty());
    CHECK(*s->VolumesNeedingExport("h@") == std::vector<std::string>{id});
    REQUIRE(*s->CompleteAttachment(a1->id));
    Volume v = Get(*s, id);
    CHECK(v.status == "in-use");
    CHECK(v.attach_status == "attached");
    REQUIRE(v.attachments.size() == 1);
    CHECK(v.attachments[0].mountpoint == "/dev/vdb");
    // A multiattach volume takes a second one while in-use.
    r.instance_uuid = NewUuid();
    r.connector.reset();
    auto a2 = s->ReserveAttachment(r);
    REQUIRE(a2.ok());
    CHECK(Get(*s, id).status == "reserved");
    // The first goes: what remains is reserved, so the volume is "reserved".
    auto left = s->DetachAttachment(id, a1->id);
    REQUIRE(left.ok());
    CHECK(left->size() == 1);
    CHECK(Get(*s, id).status == "reserved");
    CHECK(s->VolumesNeedingExport("h@")->empty());  // a plain reservation needs no export
    // A detach that expects a status the attachment no longer has changes nothing.
    CHECK(s->DetachAttachment(id, a2->id, {"attaching"}).status().code() == Code::kAborted);
    REQUIRE(s->DetachAttachment(id, a2->id).ok());
    v = Get(*s, id);
    CHECK(v.status == "available");
    CHECK(v.attach_status == "detached");
    CHECK(s->GetAttachment(a2->id, std::nullopt).status().message() ==
          "Volume attachment could not be found with filter: attachment_id = " + a2->id + ".");
  }
}

TEST_CASE("the legacy attach: one row attached, the same instance again, a second refused, read-only refused") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = testing::OpenMigratedStore(url);
    const std::string id = NewVolume(*s);
    Store::LegacyAttachRequest r{id, NewUuid(), std::nullopt, "/dev/vdb", "rw"};
    auto a = s->LegacyAttach(r);
    REQUIRE(a.ok());
    Volume v = Get(*s, id);
    CHECK(v.status == "in-use");
    CHECK(v.attached_mode == "rw");
    CHECK(v.readonly == "False");
    auto again = s->LegacyAttach(r);
    REQUIRE(again.ok());
    CHECK(again->id == a->id);
    r.instance_uuid = NewUuid();
    CHECK(s->LegacyAttach(r).status().message() ==
          "Invalid volume: volume is already attached and multiple attachments are not enabled");
    REQUIRE(s->DetachAttachment(id, a->id).ok());
    v = Get(*s, id);
    CHECK(v.status == "available");
    CHECK(!v.attached_mode);
    REQUIRE(*s->CasVolumeStatus(id, {"available"}, "available", {{"admin_readonly", "True"}}));
    CHECK(s->LegacyAttach(r).status().message() ==
          "Invalid volume: Invalid attaching mode 'rw' for volume " + id + ".");
    r.mode = "ro";
    CHECK(s->LegacyAttach(r).ok());
    CHECK(s->GetVolumeExport(id)->readonly);
  }
}

}  // namespace cinder
