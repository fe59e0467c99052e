// cinder-volume: the volume service of this host's backends.
#include "cinder/service.h"

int main(int argc, char** argv) { return cinder::CinderVolumeMain(std::vector<std::string>(argv + 1, argv + argc)); }
