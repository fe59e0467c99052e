// The volume list cache (db/list_cache.h) against real SQLite and a real PostgreSQL: every
// change a list shows is seen by the next list, through one Store and across two Stores on one
// database (two API processes), and never an older list than a change committed before it.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/util.h"
#include "db/list_cache.h"
#include "db/store.h"
#include "test_util.h"

namespace cinder {

namespace {

std::unique_ptr<Store> Open(const std::string& url, bool migrate = true) {
  auto s = Store::Open(url);
  REQUIRE_MESSAGE(s.ok(), s.status().ToString());
  if (migrate) REQUIRE((*s)->Migrate().ok());
  return std::move(s).value();
}

std::string AddVolume(Store& s, const std::string& project, const std::string& name, const std::string& type_id = "",
                      bool multiattach = false) {
  Volume v;
  v.id = NewUuid();
  v.has_name = true;
  v.name = name;
  v.size = 1;
  v.status = "available";
  v.attach_status = "detached";
  v.project_id = project;
  v.user_id = "u";
  v.availability_zone = "nova";
  v.host = "h@b#p";
  v.volume_type_id = type_id;
  v.multiattach = multiattach;
  v.created_at = NowIso();
  REQUIRE(s.InsertVolume(v).ok());
  return v.id;
}

VolumeList List(Store& s, const std::string& project, const VolumeListQuery& q = {}) {
  auto l = s.ListVolumes(q, project, 1000);
  REQUIRE_MESSAGE(l.ok(), l.status().ToString());
  return std::move(l).value();
}

const Volume* Find(const VolumeList& l, const std::string& id) {
  for (const Volume& v : l.volumes) {
    if (v.id == id) return &v;
  }
  return nullptr;
}

// Lists `project` twice (the second must be answered by the cache), runs `change`, and returns
// the next list, which must have been read again.
VolumeList ListAroundChange(Store& s, const std::string& project, const std::function<void()>& change) {
  List(s, project);
  const auto before = s.GetListCacheStats();
  List(s, project);
  CHECK(s.GetListCacheStats().hits == before.hits + 1);
  const int64_t generation = *s.ListGeneration(project);
  change();
  CHECK(*s.ListGeneration(project) > generation);
  const auto misses = s.GetListCacheStats().misses;
  VolumeList after = List(s, project);
  CHECK(s.GetListCacheStats().misses == misses + 1);
  return after;
}

}  // namespace

TEST_CASE("list cache: every kind of change is seen by the next list") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto s = Open(url);
    const std::string p = "p1";
    VolumeType gold;
    gold.id = NewUuid();
    gold.name = "gold";
    gold.is_public = true;
    gold.created_at = NowIso();
    REQUIRE(s->CreateVolumeType(gold).ok());
    std::string id;

    VolumeList l = ListAroundChange(*s, p, [&] { id = AddVolume(*s, p, "a", gold.id, /*multiattach=*/true); });
    REQUIRE(Find(l, id));

    l = ListAroundChange(*s, p, [&] { REQUIRE(*s->CasVolumeStatus(id, {"available"}, "error")); });
    CHECK(Find(l, id)->status == "error");
    REQUIRE(*s->CasVolumeStatus(id, {"error"}, "available"));

    l = ListAroundChange(*s, p, [&] { REQUIRE(*s->UpdateVolume(id, {{"display_name", std::string("b")}}, {})); });
    CHECK(Find(l, id)->name == "b");

    l = ListAroundChange(*s, p, [&] { REQUIRE(s->SetVolumeMetadata(id, {{"k", "v"}}, false).ok()); });
    CHECK(Find(l, id)->metadata == Metadata{{"k", "v"}});
    l = ListAroundChange(*s, p, [&] { REQUIRE(*s->DeleteVolumeMetadataKey(id, "k")); });
    CHECK(Find(l, id)->metadata.empty());

    // An attachment: reserved, connected, completed (the list shows it), detached.
    Store::AttachmentReserve r;
    r.volume_id = id;
    r.instance_uuid = NewUuid();
    r.connector = R"({"initiator": "iqn.x"})";
    Attachment a;
    l = ListAroundChange(*s, p, [&] {
      auto got = s->ReserveAttachment(r);
      REQUIRE(got.ok());
      a = *got;
    });
    CHECK(Find(l, id)->status == "reserved");
    l = ListAroundChange(*s, p, [&] {
      Store::AttachmentConnection c{a.id, id, *r.connector, "{}", "h1", "/dev/vdb", "rw"};
      REQUIRE(*s->AttachmentConnected(c));
    });
    CHECK(Find(l, id)->status == "attaching");
    l = ListAroundChange(*s, p, [&] { REQUIRE(*s->CompleteAttachment(a.id)); });
    CHECK(Find(l, id)->status == "in-use");
    REQUIRE(Find(l, id)->attachments.size() == 1);
    CHECK(Find(l, id)->attachments[0].mountpoint == "/dev/vdb");
    l = ListAroundChange(*s, p, [&] { REQUIRE(s->DetachAttachment(id, a.id).ok()); });
    CHECK(Find(l, id)->status == "available");
    CHECK(Find(l, id)->attachments.empty());

    // A type renamed: the name every list of its volumes shows.
    CHECK(Find(List(*s, p), id)->volume_type_name == "gold");
    l = ListAroundChange(*s, p, [&] { REQUIRE(s->UpdateVolumeType(gold.id, std::string("platinum"), {}, {}).ok()); });
    CHECK(Find(l, id)->volume_type_name == "platinum");

    // A transfer accepted moves the volume from p1's lists to p2's.
    const std::string p2 = "p2";
    CHECK(List(*s, p2).volumes.empty());
    List(*s, p2);
    Transfer t;
    t.id = NewUuid();
    t.volume_id = id;
    t.source_project_id = p;
    t.no_snapshots = true;
    REQUIRE(s->CreateTransfer(t, "salt", "hash").ok());
    l = ListAroundChange(*s, p, [&] { REQUIRE(s->AcceptTransfer(t.id, p2, "u2", {}, true, {}, 1, gold.id).ok()); });
    CHECK_FALSE(Find(l, id));
    l = List(*s, p2);
    REQUIRE(Find(l, id));
    CHECK(Find(l, id)->status == "available");

    // A soft delete.
    REQUIRE(*s->CasVolumeStatus(id, {"available"}, "deleting"));
    CHECK(Find(List(*s, p2), id));
    l = ListAroundChange(*s, p2, [&] { REQUIRE(*s->SoftDeleteVolume(id, "deleting")); });
    CHECK_FALSE(Find(l, id));

    // Filters, sort, paging and counts are part of what is kept: each its own answer.
    const std::string x = AddVolume(*s, p, "x");
    const std::string y = AddVolume(*s, p, "y");
    VolumeListQuery by_name;
    by_name.name = "x";
    by_name.with_count = true;
    for (int i = 0; i < 2; ++i) {
      l = List(*s, p, by_name);
      REQUIRE(l.volumes.size() == 1);
      CHECK(l.volumes[0].id == x);
      CHECK(l.count == 1);
    }
    VolumeListQuery page;
    page.limit = 1;
    page.sort = {{"name", true}};
    for (int i = 0; i < 2; ++i) {
      l = List(*s, p, page);
      REQUIRE(l.volumes.size() == 1);
      CHECK(l.volumes[0].id == x);
      CHECK(l.more);
    }
    page.marker = x;
    l = List(*s, p, page);
    REQUIRE(l.volumes.size() == 1);
    CHECK(l.volumes[0].id == y);
    CHECK_FALSE(l.more);
    // Every project's list (all_tenants) is read each time.
    const auto st = s->GetListCacheStats();
    auto all = s->ListVolumes({}, std::nullopt, 1000);
    REQUIRE(all.ok());
    CHECK(all->volumes.size() == 2);
    CHECK(s->GetListCacheStats().hits == st.hits);
    CHECK(s->GetListCacheStats().misses == st.misses);
  }
}

TEST_CASE("list cache: two stores on one database (two API processes) see each other's changes") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto a = Open(url);
    auto b = Open(url, /*migrate=*/false);
    const std::string id = AddVolume(*a, "p", "one");
    for (int i = 0; i < 2; ++i) {
      CHECK(Find(List(*a, "p"), id)->name == "one");
      CHECK(Find(List(*b, "p"), id)->name == "one");
    }
    CHECK(a->GetListCacheStats().hits >= 1);
    CHECK(b->GetListCacheStats().hits >= 1);
    REQUIRE(*b->UpdateVolume(id, {{"display_name", std::string("two")}}, {}));
    CHECK(Find(List(*a, "p"), id)->name == "two");
    REQUIRE(a->SetVolumeMetadata(id, {{"k", "v"}}, false).ok());
    CHECK(Find(List(*b, "p"), id)->metadata == Metadata{{"k", "v"}});
    const std::string other = AddVolume(*b, "p", "three");
    CHECK(List(*a, "p").volumes.size() == 2);
    REQUIRE(*a->CasVolumeStatus(other, {"available"}, "deleting"));
    REQUIRE(*a->SoftDeleteVolume(other, "deleting"));
    CHECK(List(*b, "p").volumes.size() == 1);
  }
}

TEST_CASE("list cache: concurrent writers and cached readers never see a list older than a committed change") {
  testing::TempDir dir;
  for (const auto& url : testing::DatabaseUrls(dir.path())) {
    CAPTURE(url);
    auto writer_store = Open(url);
    auto reader_store = Open(url, /*migrate=*/false);
    const std::string renamed = AddVolume(*writer_store, "p", "0");
    const std::string tagged = AddVolume(*writer_store, "p", "t");
    AddVolume(*writer_store, "p", "still");
    // What each writer has committed so far: a reader that starts after a store returned
    // must see at least that.
    std::atomic<int> names{0};
    std::atomic<int> tags{0};
    std::atomic<bool> stop{false};
    std::atomic<int> stale{0};
    std::atomic<int> errors{0};
    std::atomic<int> lists{0};
    std::vector<std::thread> threads;
    threads.emplace_back([&] {
      for (int n = 1; !stop; ++n) {
        if (!writer_store->UpdateVolume(renamed, {{"display_name", std::to_string(n)}}, {}).ok()) ++errors;
        names = n;
      }
    });
    threads.emplace_back([&] {
      for (int n = 1; !stop; ++n) {
        if (!reader_store->SetVolumeMetadata(tagged, {{"n", std::to_string(n)}}, false).ok()) ++errors;
        tags = n;
      }
    });
    for (int r = 0; r < 3; ++r) {
      threads.emplace_back([&, r] {
        Store& s = r == 0 ? *writer_store : *reader_store;
        while (!stop) {
          const int want_name = names;
          const int want_tag = tags;
          auto l = s.ListVolumes({}, std::string("p"), 1000);
          if (!l.ok() || l->volumes.size() != 3) {
            ++errors;
            continue;
          }
          ++lists;
          for (const Volume& v : l->volumes) {
            if (v.id == renamed && std::stoi(v.name) < want_name) ++stale;
            if (v.id == tagged) {
              auto it = v.metadata.find("n");
              if ((it == v.metadata.end() ? 0 : std::stoi(it->second)) < want_tag) ++stale;
            }
          }
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::seconds(3));
    stop = true;
    for (auto& t : threads) t.join();
    CHECK(errors == 0);
    CHECK(stale == 0);
    CHECK(lists > 50);
    MESSAGE("lists: " << lists.load() << ", renames: " << names.load() << ", metadata sets: " << tags.load()
                      << ", hits: " << writer_store->GetListCacheStats().hits + reader_store->GetListCacheStats().hits);
  }
}

TEST_CASE("list cache: bounded in lists and volumes, least recently used first") {
  testing::TempDir dir;
  const std::string url = "sqlite:///" + dir.path() + "/c.sqlite";
  auto s = Open(url);
  for (int i = 0; i < 6; ++i) AddVolume(*s, "big", "v" + std::to_string(i));
  for (int i = 0; i < 3; ++i) AddVolume(*s, "p" + std::to_string(i), "v");
  s->SetListCacheLimits(2, 5);
  List(*s, "big");  // six volumes: more than the bound, not kept
  CHECK(s->GetListCacheStats().entries == 0);
  List(*s, "p0");
  List(*s, "p1");
  List(*s, "p0");  // p1 is now the least recently used
  List(*s, "p2");
  auto st = s->GetListCacheStats();
  CHECK(st.entries == 2);
  CHECK(st.volumes == 2);
  List(*s, "p0");
  CHECK(s->GetListCacheStats().hits == st.hits + 1);
  List(*s, "p1");
  CHECK(s->GetListCacheStats().misses == st.misses + 1);
  s->SetListCacheLimits(0, 0);  // off
  List(*s, "p0");
  List(*s, "p0");
  CHECK(s->GetListCacheStats().entries == 0);
  CHECK(s->GetListCacheStats().hits == st.hits + 1);
}

TEST_CASE("list cache keys tell every parameter apart") {
  VolumeListQuery a;
  VolumeListQuery b;
  CHECK(db::ListCacheKey("p", a, 10) == db::ListCacheKey("p", b, 10));
  CHECK(db::ListCacheKey("p", a, 10) != db::ListCacheKey("p", a, 11));
  CHECK(db::ListCacheKey("p", a, 10) != db::ListCacheKey("q", a, 10));
  b.name = "";
  CHECK(db::ListCacheKey("p", a, 10) != db::ListCacheKey("p", b, 10));
  b = {};
  b.status = "x";
  VolumeListQuery c;
  c.availability_zone = "x";
  CHECK(db::ListCacheKey("p", b, 10) != db::ListCacheKey("p", c, 10));
  b = {};
  b.metadata = {{"a", "b"}};
  c = {};
  c.metadata = {{"ab", ""}};
  CHECK(db::ListCacheKey("p", b, 10) != db::ListCacheKey("p", c, 10));
  b = {};
  b.sort = {{"name", true}};
  c = {};
  c.sort = {{"name", false}};
  CHECK(db::ListCacheKey("p", b, 10) != db::ListCacheKey("p", c, 10));
  b = {};
  b.marker = "m";
  c = {};
  c.with_count = true;
  CHECK(db::ListCacheKey("p", b, 10) != db::ListCacheKey("p", a, 10));
  CHECK(db::ListCacheKey("p", c, 10) != db::ListCacheKey("p", a, 10));
}

}  // namespace cinder
