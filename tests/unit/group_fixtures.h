// What the group and group snapshot tests share: personas, and volumes and groups written
// straight to the store.
#ifndef CINDER_TESTS_UNIT_GROUP_FIXTURES_H_
#define CINDER_TESTS_UNIT_GROUP_FIXTURES_H_

#include <doctest/doctest.h>

#include <optional>
#include <string>

#include "cinder/context.h"
#include "cinder/volume.h"
#include "common/util.h"
#include "db/store.h"

namespace cinder::group_fixtures {

// A request context of `project` with the roles Keystone gives an admin, a member or a reader.
inline RequestContext Persona(const std::string& project, const std::string& role) {
  RequestContext ctx;
  ctx.user_id = role + "-of-" + project;
  ctx.project_id = project;
  if (role == "admin") ctx.roles = {"admin", "member", "reader"};
  if (role == "member") ctx.roles = {"member", "reader"};
  if (role == "reader") ctx.roles = {"reader"};
  ctx.is_admin = role == "admin";
  return ctx;
}

// A 1 GiB volume of `project` on h@b#p, in `group_id` when given; returns its id.
inline std::string StoreVolume(Store& s, const std::string& project, const std::string& type_id,
                               const std::optional<std::string>& group_id = std::nullopt,
                               const std::string& status = "available") {
  Volume v;
  v.id = NewUuid();
  v.size = 1;
  v.status = status;
  v.project_id = project;
  v.user_id = "u";
  v.availability_zone = "nova";
  v.host = "h@b#p";
  v.volume_type_id = type_id;
  v.group_id = group_id;
  v.created_at = NowIso();
  REQUIRE(s.InsertVolume(v).ok());
  return v.id;
}

// A group of `project` on h@b#p of group type `type_id` and volume type `vt` (not stored).
inline VolumeGroup NewGroup(const std::string& project, const std::string& type_id, const std::string& vt,
                            const std::string& status = "available") {
  VolumeGroup g;
  g.id = NewUuid();
  g.name = "g";
  g.status = status;
  g.availability_zone = "nova";
  g.host = "h@b#p";
  g.project_id = project;
  g.user_id = "u";
  g.group_type_id = type_id;
  g.volume_type_ids = {vt};
  g.created_at = NowIso();
  return g;
}

}  // namespace cinder::group_fixtures

#endif  // CINDER_TESTS_UNIT_GROUP_FIXTURES_H_
