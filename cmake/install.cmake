# `cmake --install`: headers, libdocling.so (+ SONAME link), libdocling.a, the CLI, a CMake package
# (find_package(docling_cpp CONFIG) -> docling::docling, docling::docling_static) and a pkg-config
# file (docling-cpp.pc). `cpack -G DEB` packs the same tree into docling-cpp_<version>_<arch>.deb.

set(DOCLING_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/docling_cpp)

install(DIRECTORY include/docling DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING
        PATTERN "*.h" PATTERN "*.hpp")
install(TARGETS docling_shared EXPORT docling_cpp_shared
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_SKIP)
# The unversioned libdocling.so link serves linking only (a -dev file in Debian's terms).
install(TARGETS docling_shared EXPORT docling_cpp_shared
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} NAMELINK_ONLY)
install(TARGETS docling EXPORT docling_cpp_static ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS docling-cpp RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Two target files: the shared library needs nothing from the user's system (its dependencies are
# private), the static one needs its link dependencies found first (see docling_cppConfig.cmake.in).
install(EXPORT docling_cpp_shared NAMESPACE docling:: FILE docling_cpp-shared-targets.cmake
        DESTINATION ${DOCLING_CMAKE_DIR})
install(EXPORT docling_cpp_static NAMESPACE docling:: FILE docling_cpp-static-targets.cmake
        DESTINATION ${DOCLING_CMAKE_DIR})
configure_package_config_file(cmake/docling_cppConfig.cmake.in
                              ${CMAKE_CURRENT_BINARY_DIR}/docling_cppConfig.cmake
                              INSTALL_DESTINATION ${DOCLING_CMAKE_DIR} NO_SET_AND_CHECK_MACRO)
# Same ABI rule as the SONAME: before 1.0 a minor version may break it, so a request for 0.2 accepts
# 0.2.x only; from 1.0 on any later version of the same major.
if(PROJECT_VERSION_MAJOR EQUAL 0)
  set(docling_compat SameMinorVersion)
else()
  set(docling_compat SameMajorVersion)
endif()
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/docling_cppConfigVersion.cmake
                                 VERSION ${PROJECT_VERSION} COMPATIBILITY ${docling_compat})
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/docling_cppConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/docling_cppConfigVersion.cmake
        DESTINATION ${DOCLING_CMAKE_DIR})

# pkg-config. Relocatable: the prefix is found from the .pc file's own place, so the same file
# works after `cmake --install --prefix ANYWHERE` and in the .deb.
file(RELATIVE_PATH pc_to_prefix /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" pc_to_prefix "${pc_to_prefix}")
configure_file(cmake/docling-cpp.pc.in ${CMAKE_CURRENT_BINARY_DIR}/docling-cpp.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/docling-cpp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# Debian package: everything above in one package, docling-cpp.
set(CPACK_PACKAGE_NAME docling-cpp)
set(CPACK_PACKAGE_VENDOR "docling-cpp")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # docling-cpp_0.2.0_amd64.deb
set(CPACK_DEBIAN_PACKAGE_SECTION libs)
# (the summary above is the synopsis line; this is the body)
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "The docling-cpp command-line program, libdocling (shared and static), its C and
C++ headers, a CMake package (find_package(docling_cpp)) and a pkg-config file (docling-cpp).
Runs the granite-docling vision-language model on the CPU; without a model, converts
born-digital PDFs from their text layer.")
set(DOCLING_DEB_MAINTAINER "docling-cpp maintainers <docling-cpp@localhost>" CACHE STRING
    "The .deb's Maintainer field")
set(CPACK_PACKAGE_CONTACT "${DOCLING_DEB_MAINTAINER}")
# Runtime dependencies come from the binaries (dpkg-shlibdeps, in dpkg-dev); the shlibs file lets
# other packages depend on libdocling the same way. Linking the static library needs the -dev
# packages of its dependencies: suggested, not required.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY "=")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CMAKE_CURRENT_BINARY_DIR})
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "pkg-config, libtbb-dev, libpoppler-cpp-dev, libpng-dev, libjpeg-dev, libicu-dev")
include(CPack)
