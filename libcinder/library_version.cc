// The version of the library a program runs against (include/cinder/version.h): the one source
// of the installed libcinder.so and libcinder.a of their own (cmake/install.cmake); the
// components' code is in them whole.
#include "cinder/version.h"

namespace cinder {

const char* LibraryVersion() { return CINDER_LIBRARY_VERSION; }

}  // namespace cinder
