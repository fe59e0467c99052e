// cinder-all: the Block Storage API and the volume service in one process.
#include "cinder/service.h"

int main(int argc, char** argv) { return cinder::CinderAllMain(std::vector<std::string>(argv + 1, argv + argc)); }
