// Volume drivers in a shared object of their own, named in cinder.conf:
//
//   [acme-1]
//   volume_driver = acme
//   volume_driver_module = /opt/acme/lib/libacme_cinder.so
//
// The module is built against libcinder's headers (only cinder/volume_driver.h and what it
// includes) and says which drivers it adds with CINDER_VOLUME_DRIVER_MODULE:
//
//   #include <cinder/driver_module.h>
//   void RegisterAcme(cinder::DriverRegistry* r) { r->Register("acme", {AcmeFactory, {"acme_pool"}}); }
//   CINDER_VOLUME_DRIVER_MODULE(RegisterAcme)
//
// The volume service loads each module once (dlopen) when a backend section names it, refuses one
// built for another driver ABI, and opens the section's volume_driver from the drivers it added.
// The symbols a module needs from libcinder (VolumeDriver's defaults and type information,
// DriverRegistry) are exported by the daemons that run drivers (cinder-volume, cinder-all) and by
// libcinder.so; a program that links libcinder.a itself and wants modules links with
// -Wl,--dynamic-list=<prefix>/lib/cinder/driver_module.list (or -rdynamic).
#ifndef CINDER_DRIVER_MODULE_H_
#define CINDER_DRIVER_MODULE_H_

#include "cinder/volume_driver.h"

#define CINDER_DRIVER_MODULE_STR2(x) #x
#define CINDER_DRIVER_MODULE_STR(x) CINDER_DRIVER_MODULE_STR2(x)
// What a module and the program loading it must agree on: the driver interface's version, the
// compiler's C++ ABI and the standard library's string ABI.
#define CINDER_DRIVER_MODULE_ABI                                                                                    \
  "libcinder-driver-1 gxx-abi-" CINDER_DRIVER_MODULE_STR(__GXX_ABI_VERSION) " cxx11-abi-" CINDER_DRIVER_MODULE_STR( \
      _GLIBCXX_USE_CXX11_ABI)

// In the module: exports the two entry points the volume service looks for.
#define CINDER_VOLUME_DRIVER_MODULE(register_fn)                                                    \
  extern "C" __attribute__((visibility("default"))) const char* cinder_volume_driver_module_abi() { \
    return CINDER_DRIVER_MODULE_ABI;                                                                \
  }                                                                                                 \
  extern "C" __attribute__((visibility("default"))) void cinder_register_volume_drivers(            \
      cinder::DriverRegistry* registry) {                                                           \
    register_fn(registry);                                                                          \
  }

#endif  // CINDER_DRIVER_MODULE_H_
