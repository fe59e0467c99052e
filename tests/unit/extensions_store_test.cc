// The store's side of the smaller API extensions, on SQLite and PostgreSQL: volume image
// metadata (and the glance_metadata list filter), volume type encryption, a host's usage.
#include <doctest/doctest.h>

#include "common/util.h"
#include "db/store.h"
#include "test_util.h"

namespace cinder {

namespace {

Volume NewVolume(const std::string& project, int64_t size, const std::string& host, const std::string& type_id = "") {
  Volume v;
  v.id = NewUuid();
  v.size = size;
  v.status = "available";
  v.project_id = project;
  v.user_id = "u";
  v.availability_zone = "nova";
  v.host = host;
  v.volume_type_id = type_id;
  v.created_at = NowIso();
  return v;
}

}  // namespace

TEST_CASE("image metadata: set merges, busy volumes refuse, the filter and deletes follow it") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto opened = Store::Open(url);
    REQUIRE(opened.ok());
    Store& s = **opened;
    REQUIRE(s.Migrate().ok());
    Volume a = NewVolume("p1", 1, "h@b#p"), b = NewVolume("p1", 1, "h@b#p");
    REQUIRE(s.InsertVolume(a).ok());
    REQUIRE(s.InsertVolume(b).ok());
    const std::vector<std::string> busy = {"maintenance", "uploading"};
    CHECK(s.GetVolumeImageMetadata(a.id)->empty());
    REQUIRE(s.SetVolumeImageMetadata(a.id, {{"image_name", "cirros"}, {"os", "linux"}}, busy).ok());
    REQUIRE(s.SetVolumeImageMetadata(a.id, {{"os", "bsd"}}, busy).ok());
    CHECK(*s.GetVolumeImageMetadata(a.id) == Metadata{{"image_name", "cirros"}, {"os", "bsd"}});
    REQUIRE(s.SetVolumeImageMetadata(b.id, {{"image_name", "fedora"}}, busy).ok());
    auto both = s.ListVolumeImageMetadata({a.id, b.id, "nope"});
    REQUIRE(both.ok());
    CHECK(both->size() == 2);
    CHECK(both->at(b.id) == Metadata{{"image_name", "fedora"}});

    VolumeListQuery q;
    q.glance_metadata = {{"image_name", "cirros"}};
    auto listed = s.ListVolumes(q, std::string("p1"), 1000);
    REQUIRE(listed.ok());
    REQUIRE(listed->volumes.size() == 1);
    CHECK(listed->volumes[0].id == a.id);
    q.glance_metadata = {{"image_name", "cirros"}, {"os", "linux"}};
    CHECK(s.ListVolumes(q, std::string("p1"), 1000)->volumes.empty());

    REQUIRE(*s.CasVolumeStatus(a.id, {"available"}, "maintenance"));
    Status st = s.SetVolumeImageMetadata(a.id, {{"k", "v"}}, busy);
    CHECK(st.code() == Code::kFailedPrecondition);
    CHECK(st.message() == "Invalid volume: Updating volume metadata is not allowed for volumes in maintenance status.");
    auto del = s.DeleteVolumeImageMetadataKey(a.id, "os", busy);
    CHECK(del.status().message() ==
          "Invalid volume: Deleting volume metadata is not allowed for volumes in maintenance status.");
    REQUIRE(*s.CasVolumeStatus(a.id, {"maintenance"}, "available"));
    CHECK(*s.DeleteVolumeImageMetadataKey(a.id, "os", busy));
    CHECK_FALSE(*s.DeleteVolumeImageMetadataKey(a.id, "os", busy));
    CHECK(s.SetVolumeImageMetadata("no-such-volume", {{"k", "v"}}, busy).code() == Code::kNotFound);

    REQUIRE(*s.SoftDeleteVolume(b.id, "available"));
    CHECK(s.GetVolumeImageMetadata(b.id)->empty());

    // A bootable volume's snapshot keeps a copy; volumes made from either inherit it.
    REQUIRE(*s.UpdateVolume(a.id, {{"bootable", std::optional<std::string>("1")}}, std::nullopt));
    Snapshot sn;
    sn.id = NewUuid();
    sn.volume_id = a.id;
    sn.status = "available";
    sn.size = 1;
    sn.project_id = "p1";
    sn.user_id = "u";
    sn.created_at = NowIso();
    REQUIRE(*s.InsertSnapshot(sn, {"available"}));
    REQUIRE(s.SetVolumeImageMetadata(a.id, {{"image_name", "later"}}, busy).ok());
    Volume clone = NewVolume("p1", 1, "h@b#p"), restored = NewVolume("p1", 1, "h@b#p");
    clone.source_volid = a.id;
    restored.snapshot_id = sn.id;
    REQUIRE(s.InsertVolume(clone).ok());
    REQUIRE(s.InsertVolume(restored).ok());
    CHECK(*s.GetVolumeImageMetadata(clone.id) == Metadata{{"image_name", "later"}});
    CHECK(*s.GetVolumeImageMetadata(restored.id) == Metadata{{"image_name", "cirros"}});
    CHECK(s.GetVolume(restored.id, std::nullopt)->bootable);
  }
}

TEST_CASE("encryption: one per type, refused while volumes have the type, gone with the type") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto opened = Store::Open(url);
    REQUIRE(opened.ok());
    Store& s = **opened;
    REQUIRE(s.Migrate().ok());
    VolumeType t;
    t.id = NewUuid();
    t.name = "enc";
    t.created_at = NowIso();
    REQUIRE(s.CreateVolumeType(t).ok());
    CHECK_FALSE(s.GetVolumeTypeEncryption(t.id)->has_value());
    VolumeTypeEncryptionUpdate u;
    u.provider = "luks";
    u.control_location = "front-end";
    u.key_size.emplace(256);
    auto made = s.CreateVolumeTypeEncryption(t.id, u);
    REQUIRE(made.ok());
    CHECK(IsUuid(made->encryption_id));
    CHECK(s.CreateVolumeTypeEncryption(t.id, u).status().message() ==
          "Volume type encryption for type " + t.id + " already exists.");
    VolumeTypeEncryptionUpdate change;
    change.cipher.emplace("aes-xts-plain64");
    change.key_size.emplace(std::nullopt);
    REQUIRE(s.UpdateVolumeTypeEncryption(t.id, change).ok());
    auto got = s.GetVolumeTypeEncryption(t.id);
    REQUIRE(got.ok());
    REQUIRE(got->has_value());
    CHECK((*got)->provider == "luks");
    CHECK((*got)->cipher == std::optional<std::string>("aes-xts-plain64"));
    CHECK_FALSE((*got)->key_size.has_value());
    CHECK((*got)->updated_at.has_value());

    Volume v = NewVolume("p1", 1, "h@b#p", t.id);
    REQUIRE(s.InsertVolume(v).ok());
    CHECK(s.UpdateVolumeTypeEncryption(t.id, change).message() ==
          "Cannot update encryption specs. Volume type in use.");
    CHECK(s.DeleteVolumeTypeEncryption(t.id).message() == "Cannot delete encryption specs. Volume type in use.");
    REQUIRE(*s.SoftDeleteVolume(v.id, "available"));
    REQUIRE(s.DeleteVolumeTypeEncryption(t.id).ok());
    CHECK(s.DeleteVolumeTypeEncryption(t.id).message() ==
          "Volume type encryption for type " + t.id + " does not exist.");
    CHECK(s.UpdateVolumeTypeEncryption(t.id, change).code() == Code::kNotFound);
    REQUIRE(s.CreateVolumeTypeEncryption(t.id, u).ok());
    REQUIRE(s.DeleteVolumeType(t.id).ok());
    CHECK(s.GetVolumeTypeEncryption(t.id)->has_value() == false);
    CHECK(s.CreateVolumeTypeEncryption(t.id, u).status().code() == Code::kNotFound);
  }
}

TEST_CASE("a host's usage: the total, then each project, its pools counted, other hosts not") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto opened = Store::Open(url);
    REQUIRE(opened.ok());
    Store& s = **opened;
    REQUIRE(s.Migrate().ok());
    Volume a = NewVolume("p1", 1, "h@b#p1"), b = NewVolume("p2", 2, "h@b#p2"), c = NewVolume("p2", 4, "h@b"),
           d = NewVolume("p1", 8, "h@bb#p1");
    for (const Volume* v : {&a, &b, &c, &d}) REQUIRE(s.InsertVolume(*v).ok());
    Snapshot sn;
    sn.id = NewUuid();
    sn.volume_id = b.id;
    sn.status = "available";
    sn.size = 2;
    sn.project_id = "p2";
    sn.user_id = "u";
    sn.created_at = NowIso();
    REQUIRE(*s.InsertSnapshot(sn, {"available"}));
    auto usage = s.HostVolumeUsage("h@b");
    REQUIRE(usage.ok());
    REQUIRE(usage->size() == 3);
    CHECK((*usage)[0].project == "(total)");
    CHECK((*usage)[0].volume_count == 3);
    CHECK((*usage)[0].total_volume_gb == 7);
    CHECK((*usage)[0].snapshot_count == 1);
    CHECK((*usage)[0].total_snapshot_gb == 2);
    CHECK((*usage)[1].project == "p1");
    CHECK((*usage)[1].total_volume_gb == 1);
    CHECK((*usage)[2].project == "p2");
    CHECK((*usage)[2].volume_count == 2);
    CHECK((*usage)[2].snapshot_count == 1);
    CHECK(s.HostVolumeUsage("nowhere")->size() == 1);
  }
}

}  // namespace cinder
