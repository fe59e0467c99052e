// A volume driver from outside the library: registered by this program, checked by the driver
// conformance suite, then used by an embedded volume service.
//
//   custom_driver STATE_DIR
//
// Prints the suite's report, creates a 1 GiB volume on a backend of the "plain" driver
// (examples/plain_driver/), snapshots it, and deletes both. Exits 0 when everything passed.
#include <cinder/driver_conformance.h>
#include <cinder/service.h>
#include <cinder/volume_manager.h>

#include <chrono>
#include <iostream>
#include <thread>

#include "plain_driver/plain_driver.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: custom_driver STATE_DIR\n";
    return 2;
  }
  const std::string state = argv[1];
  cinder::DriverRegistry drivers;
  cinder::RegisterBuiltinDrivers(&drivers);
  plain::RegisterPlainDriver(&drivers);

  // The conformance suite, on a backend section as cinder.conf would give it.
  cinder::BackendOptions backend;
  backend.name = "plain-1";
  backend.volume_driver = "plain";
  backend.driver_options["plain_directory"] = state + "/conformance";
  auto report = cinder::RunDriverConformance([&] {
    return cinder::OpenDriver(drivers, cinder::DriverContext{backend, state});
  });
  std::cout << report.ToString();
  if (!report.ok()) return 1;

  // The same driver behind a volume service.
  cinder::Options options = cinder::DefaultOptions(state);
  backend.driver_options["plain_directory"] = state + "/volumes";
  options.backends = {backend};
  if (auto st = cinder::DbSync(options); !st.ok()) {
    std::cerr << st.ToString() << "\n";
    return 1;
  }
  auto manager = cinder::VolumeManager::Open({options, &drivers});
  if (!manager.ok()) {
    std::cerr << manager.status().ToString() << "\n";
    return 1;
  }
  cinder::VolumeManager& volumes = **manager;
  auto ctx = cinder::RequestContext::Admin("example", "example");
  cinder::VolumeCreate create;
  create.size = 1;
  create.name = "on-plain";
  auto vol = volumes.CreateVolume(ctx, create);
  if (!vol.ok()) {
    std::cerr << vol.status().ToString() << "\n";
    return 1;
  }
  while (volumes.GetVolume(ctx, vol->id)->status == "creating")
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  auto made = volumes.GetVolume(ctx, vol->id);
  std::cout << "volume " << made->id << " is " << made->status << " on " << made->host << ", at "
            << *volumes.LocalPath(ctx, made->id) << "\n";
  // Pools are named after volume_backend_name, by default the section's name (Cinder's default).
  const bool ok = made->status == "available" && made->host.find("@plain-1#plain-1") != std::string::npos;
  if (auto st = volumes.DeleteVolume(ctx, made->id, false, false); !st.ok()) {
    std::cerr << st.ToString() << "\n";
    return 1;
  }
  volumes.Drain();
  return ok && !volumes.GetVolume(ctx, made->id).ok() ? 0 : 1;
}
