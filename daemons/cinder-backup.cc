// cinder-backup: the backup service of this host.
#include "cinder/service.h"

int main(int argc, char** argv) { return cinder::CinderBackupMain(std::vector<std::string>(argv + 1, argv + argc)); }
