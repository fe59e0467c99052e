// The capacity scheduler through its public interface.
#include <doctest/doctest.h>

#include "cinder/scheduler.h"

namespace cinder {

namespace {

PoolCapabilities Pool(const std::string& host, double free, const std::string& az = "nova") {
  PoolCapabilities p;
  p.host = host;
  p.availability_zone = az;
  p.total_capacity_gb = 100;
  p.free_capacity_gb = free;
  return p;
}

}  // namespace

TEST_CASE("the capacity scheduler picks the pool with the most room, and says why none fits") {
  auto s = NewCapacityScheduler();
  std::vector<PoolCapabilities> pools = {Pool("a@1#1", 50), Pool("b@1#1", 80), Pool("c@1#1", 70, "az2")};
  RequestSpec spec;
  spec.size = 10;
  CHECK(*s->SelectPool(spec, pools) == "b@1#1");
  spec.availability_zone = "az2";
  CHECK(*s->SelectPool(spec, pools) == "c@1#1");
  spec.availability_zone.clear();
  spec.exclude = {"b@1#1"};
  CHECK(*s->SelectPool(spec, pools) == "c@1#1");
  spec.exclude.clear();

  pools[1].placed_gb = 40;  // b had a burst since its report: 80 - 40 < 70
  CHECK(*s->SelectPool(spec, pools) == "c@1#1");
  pools[1].up = false;
  pools[2].enabled = false;
  CHECK(*s->SelectPool(spec, pools) == "a@1#1");

  spec.size = 60;
  CHECK(s->SelectPool(spec, pools).status().message() ==
        "Invalid input received: Requested volume size 60 GB is larger than the free capacity of "
        "every backend (largest: 50 GB).");
  pools[0].enabled = false;
  pools[1].enabled = false;
  CHECK(s->SelectPool(spec, pools).status().message() ==
        "Invalid input received: No valid backend was found: every backend's cinder-volume service is disabled.");
  pools[0].enabled = true;
  pools[0].up = false;
  CHECK(s->SelectPool(spec, pools).status().message() ==
        "Invalid input received: No valid backend was found: no cinder-volume service is up.");
}

}  // namespace cinder
