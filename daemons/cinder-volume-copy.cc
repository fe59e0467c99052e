// cinder-volume-copy: copies a volume's bytes to or from a file or standard input/output through
// its connection_info (libcinder/cmd/volume_copy_main.cc; docs/connector.md).
#include <string>
#include <vector>

namespace cinder {
int CinderVolumeCopyMain(const std::vector<std::string>& args);
}

int main(int argc, char** argv) {
  return cinder::CinderVolumeCopyMain(std::vector<std::string>(argv + 1, argv + argc));
}
