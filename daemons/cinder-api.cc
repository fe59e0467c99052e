// cinder-api: the Block Storage API v3 (REST), reaching schedulers and volume hosts over ZeroMQ.
#include "cinder/service.h"

int main(int argc, char** argv) { return cinder::CinderApiMain(std::vector<std::string>(argv + 1, argv + argc)); }
