// cinder-manage: database administration (db sync, db version, db purge DAYS).
#include "cinder/service.h"

int main(int argc, char** argv) { return cinder::CinderManageMain(std::vector<std::string>(argv + 1, argv + argc)); }
