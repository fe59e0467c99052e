// libcinder's version, for programs that embed it.
#pragma once

namespace cinder {

// The version of the libcinder a program is linked to at run time ("0.1.0"), which may differ
// from the headers it was compiled with when the shared library was upgraded beneath it.
const char* LibraryVersion();

}  // namespace cinder
