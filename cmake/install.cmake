# The installed library: `cmake --install build [--prefix P]` puts
#   include/cinder/*.h                       the public headers (no Poco, SOCI, ZeroMQ or Boost)
#   lib/libcinder.so.0.1.0, libcinder.so.0   every component in one shared library
#   lib/libcinder.a                          the same, static (its dependencies: pkg-config --static)
#   lib/libcinder_ldap.so                    the LDAP identity module, loaded beside libcinder.so
#   lib/cinder/driver_module.list            ld --dynamic-list for static programs loading driver modules
#   lib/cmake/cinder/cinderConfig*.cmake     find_package(cinder) -> cinder::cinder (shared)
#   lib/pkgconfig/cinder.pc                  pkg-config cinder
#   bin/cinder-*                             the daemons and cinder-manage
# docs/embedding.md says how to build against it.
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# Every static component of the library, in link order (dependents first).
set(CINDER_COMPONENTS
  cinder_cmd_all cinder_cmd_api cinder_cmd_scheduler cinder_cmd_volume cinder_cmd_backup cinder_cmd_manage
  cinder_cmd_volume_copy cinder_cmd_zmq cinder_cmd cinder_api cinder_dashboard cinder_http cinder_backup_service cinder_backup cinder_backup_rpc
  cinder_backup_engine cinder_volume cinder_volume_rpc cinder_scheduler cinder_auth cinder_auth_ldap cinder_policy
  cinder_connector cinder_rpc_zmq cinder_rpc cinder_db cinder_common)

# The shared library: the components' archives whole, their dependencies as its own DT_NEEDED.
# RUNPATH $ORIGIN: the LDAP module installed beside it is found by its dlopen.
add_library(cinder_shared SHARED ${CMAKE_SOURCE_DIR}/libcinder/library_version.cc)
add_library(cinder::cinder ALIAS cinder_shared)
target_include_directories(cinder_shared PUBLIC $<BUILD_INTERFACE:${CMAKE_SOURCE_DIR}/include>
                                                $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
target_compile_definitions(cinder_shared PRIVATE CINDER_LIBRARY_VERSION="${PROJECT_VERSION}")
# (By file: CMake refuses WHOLE_ARCHIVE for a target that also comes in plainly, as each one
# does through the others. The plain list after it brings their dependencies.)
set(whole)
foreach(component ${CINDER_COMPONENTS})
  list(APPEND whole $<TARGET_FILE:${component}>)
endforeach()
target_link_libraries(cinder_shared PRIVATE -Wl,--whole-archive ${whole} -Wl,--no-whole-archive ${CINDER_COMPONENTS})
target_link_options(cinder_shared PRIVATE -Wl,--no-undefined)
set_target_properties(cinder_shared PROPERTIES
  OUTPUT_NAME cinder
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib
  INSTALL_RPATH "$ORIGIN"
  EXPORT_NAME cinder)

# The static library: one archive of the components' archives (ar's MRI script), plus the version.
add_library(cinder_version_obj OBJECT ${CMAKE_SOURCE_DIR}/libcinder/library_version.cc)
target_include_directories(cinder_version_obj PRIVATE ${CMAKE_SOURCE_DIR}/include)
target_compile_definitions(cinder_version_obj PRIVATE CINDER_LIBRARY_VERSION="${PROJECT_VERSION}")
set(CINDER_STATIC_ARCHIVE ${CMAKE_BINARY_DIR}/lib/libcinder.a)
set(mri "CREATE ${CINDER_STATIC_ARCHIVE}\n")
foreach(component ${CINDER_COMPONENTS})
  string(APPEND mri "ADDLIB $<TARGET_FILE:${component}>\n")
endforeach()
string(APPEND mri "ADDMOD $<TARGET_OBJECTS:cinder_version_obj>\nSAVE\nEND\n")
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/libcinder-static.mri CONTENT "${mri}")
add_custom_command(OUTPUT ${CINDER_STATIC_ARCHIVE}
  COMMAND ${CMAKE_COMMAND} -E make_directory ${CMAKE_BINARY_DIR}/lib
  COMMAND ${CMAKE_COMMAND} -E rm -f ${CINDER_STATIC_ARCHIVE}
  COMMAND ${CMAKE_AR} -M < ${CMAKE_BINARY_DIR}/libcinder-static.mri
  DEPENDS ${CINDER_COMPONENTS} cinder_version_obj ${CMAKE_BINARY_DIR}/libcinder-static.mri
  COMMENT "Combining the components into libcinder.a"
  VERBATIM)
add_custom_target(cinder_static ALL DEPENDS ${CINDER_STATIC_ARCHIVE})

# What a static link needs besides libcinder.a (pkg-config --static --libs cinder): the
# components' dependencies, as Debian's packages name their libraries.
set(CINDER_PC_LIBS_PRIVATE
  "-lboost_program_options -lPocoNet -lPocoFoundation -lsoci_sqlite3 -lsoci_postgresql -lsoci_core -lsqlite3 -lpq"
  "-lsimdjson -lspdlog -lfmt -lzmq -lyaml-cpp -liscsi -lzstd -lxxhash -lz -lbz2 -lcrypt -lcrypto -ldl -lpthread")
string(JOIN " " CINDER_PC_LIBS_PRIVATE ${CINDER_PC_LIBS_PRIVATE})
configure_file(${CMAKE_SOURCE_DIR}/cmake/cinder.pc.in ${CMAKE_BINARY_DIR}/cinder.pc @ONLY)

install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/cinder DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")
install(TARGETS cinder_shared EXPORT cinderTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(FILES ${CINDER_STATIC_ARCHIVE} DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS cinder_ldap LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS cinder-all cinder-api cinder-scheduler cinder-volume cinder-backup cinder-manage cinder-volume-copy
  RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(EXPORT cinderTargets NAMESPACE cinder:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cinder)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/cinderConfig.cmake.in
  ${CMAKE_BINARY_DIR}/cinderConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cinder)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/cinderConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/cinderConfig.cmake ${CMAKE_BINARY_DIR}/cinderConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/cinder)
install(FILES ${CMAKE_BINARY_DIR}/cinder.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
# For a program linking libcinder.a that loads volume driver modules (cinder/driver_module.h).
install(FILES ${CMAKE_SOURCE_DIR}/libcinder/volume/driver_module.list DESTINATION ${CMAKE_INSTALL_LIBDIR}/cinder)
