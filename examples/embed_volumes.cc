// Embedding libcinder: the volume service and its REST API inside your own program.
//
//   embed_volumes STATE_DIR
//
// Creates the database under STATE_DIR, starts the embedded service on a free loopback port,
// creates a 1 GiB volume through the C++ API, waits for it, extends it, and prints where its
// data lives and the endpoint the stock `cinder` client could use meanwhile.
#include <chrono>
#include <iostream>
#include <thread>

#include "cinder/service.h"
#include "cinder/volume_manager.h"

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: embed_volumes STATE_DIR\n";
    return 2;
  }
  cinder::Options options = cinder::DefaultOptions(argv[1]);  // SQLite + one file backend
  options.osapi_volume_listen_port = 0;                       // any free port
  if (auto st = cinder::DbSync(options); !st.ok()) {
    std::cerr << st.ToString() << "\n";
    return 1;
  }
  auto service = cinder::EmbeddedService::Start(options);
  if (!service.ok()) {
    std::cerr << service.status().ToString() << "\n";
    return 1;
  }
  std::cout << "REST API at " << (*service)->endpoint() << "/v3/\n";

  cinder::VolumeManager& volumes = (*service)->volumes();
  auto ctx = cinder::RequestContext::Admin("example", "example");
  cinder::VolumeCreate create;
  create.size = 1;
  create.name = "embedded";
  auto vol = volumes.CreateVolume(ctx, create);
  if (!vol.ok()) {
    std::cerr << vol.status().ToString() << "\n";
    return 1;
  }
  // Creation runs on the manager's workers; poll as a REST client would.
  while (volumes.GetVolume(ctx, vol->id)->status == "creating") {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (auto st = volumes.ExtendVolume(ctx, vol->id, 2); !st.ok()) {
    std::cerr << st.ToString() << "\n";
    return 1;
  }
  volumes.Drain();
  auto done = volumes.GetVolume(ctx, vol->id);
  std::cout << "volume " << done->id << " is " << done->status << ", " << done->size << " GiB, at "
            << *volumes.LocalPath(ctx, done->id) << "\n";
  (*service)->Stop();
  return done->status == "available" && done->size == 2 ? 0 : 1;
}
