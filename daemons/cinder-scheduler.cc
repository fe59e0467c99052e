// cinder-scheduler: chooses the backend of each new volume.
#include "cinder/service.h"

int main(int argc, char** argv) { return cinder::CinderSchedulerMain(std::vector<std::string>(argv + 1, argv + argc)); }
