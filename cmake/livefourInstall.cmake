# Installation, the CMake package (livefourConfig.cmake), pkg-config and the Debian package.
# Included at the end of the top-level CMakeLists.txt, once every target exists.
#
#   cmake --install build/release --prefix /opt/livefour     # headers, library, tools, config
#   cpack -G DEB --config build/release/CPackConfig.cmake    # livefour_0.1.0_amd64.deb
#
# Consumers: find_package(livefour 0.1 CONFIG REQUIRED) + target_link_libraries(app PRIVATE
# livefour::livefour); or `pkg-config --cflags --libs livefour`; or add_subdirectory/FetchContent
# of the source tree (livefour::livefour is also an ALIAS there). test/consumer/check.sh proves all.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

# A project that vendors livefour through add_subdirectory/FetchContent rarely wants our files in
# its own install tree; it can opt in.
option(LIVEFOUR_INSTALL "Generate install rules, package config files and CPack settings"
       ${PROJECT_IS_TOP_LEVEL})

set(LIVEFOUR_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/livefour
    CACHE STRING "Where livefourConfig.cmake is installed (relative to the prefix)")

# The exported name is the plain target name; the namespace gives livefour::livefour.
set_target_properties(livefour PROPERTIES
  EXPORT_NAME livefour
  VERSION ${PROJECT_VERSION}
  SOVERSION ${PROJECT_VERSION_MAJOR}.${PROJECT_VERSION_MINOR})

if(LIVEFOUR_INSTALL)
  install(TARGETS livefour EXPORT livefourTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
    RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR}
    INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/livefour
          DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
          FILES_MATCHING PATTERN "*.hpp")

  if(TARGET livefour-cli)
    install(TARGETS livefour-cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()
  if(TARGET livefour-emulator)
    install(TARGETS livefour-emulator RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
  endif()

  install(EXPORT livefourTargets
          NAMESPACE livefour::
          FILE livefourTargets.cmake
          DESTINATION ${LIVEFOUR_CMAKE_DIR})
  configure_package_config_file(
    ${CMAKE_CURRENT_LIST_DIR}/livefourConfig.cmake.in
    ${PROJECT_BINARY_DIR}/livefourConfig.cmake
    INSTALL_DESTINATION ${LIVEFOUR_CMAKE_DIR})
  # 0.x: a minor release may break the API, so 0.1 only accepts 0.1.y.
  write_basic_package_version_file(
    ${PROJECT_BINARY_DIR}/livefourConfigVersion.cmake
    VERSION ${PROJECT_VERSION}
    COMPATIBILITY SameMinorVersion)
  install(FILES ${PROJECT_BINARY_DIR}/livefourConfig.cmake ${PROJECT_BINARY_DIR}/livefourConfigVersion.cmake
          DESTINATION ${LIVEFOUR_CMAKE_DIR})

  # pkg-config: the prefix is computed from the .pc file's own location, so the file stays right
  # when CPack installs under /usr while the build was configured for /usr/local.
  file(RELATIVE_PATH LIVEFOUR_PC_TO_PREFIX
       /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
  string(REGEX REPLACE "/$" "" LIVEFOUR_PC_TO_PREFIX "${LIVEFOUR_PC_TO_PREFIX}")
  configure_file(${CMAKE_CURRENT_LIST_DIR}/livefour.pc.in ${PROJECT_BINARY_DIR}/livefour.pc @ONLY)
  install(FILES ${PROJECT_BINARY_DIR}/livefour.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
endif()

# CPack: one Debian package with the library, headers and tools. The library is static, so a
# consumer needs the Boost and OpenSSL development packages as well: they are dependencies.
if(LIVEFOUR_INSTALL AND PROJECT_IS_TOP_LEVEL)
  set(CPACK_PACKAGE_NAME livefour)
  set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
  set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
  set(CPACK_PACKAGE_CONTACT "livefour maintainers <livefour@localhost>")
  set(CPACK_PACKAGE_VENDOR "livefour")
  set(CPACK_GENERATOR DEB)
  set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
  set(CPACK_STRIP_FILES ON)  # executables only: CMake never strips a static archive
  set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # livefour_0.1.0_amd64.deb
  set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
  set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
  set(CPACK_PACKAGE_DESCRIPTION
      "Headers, the static library, the CMake package (find_package(livefour)), a pkg-config file, the livefour command-line client and livefour-emulator.")
  # Runtime libraries of the tools, then what a consumer needs to compile against the headers.
  set(CPACK_DEBIAN_PACKAGE_DEPENDS
      "libboost-json1.81.0, libboost-url1.81.0, libssl3, libstdc++6 (>= 12), libboost1.81-dev, libboost-json1.81-dev, libboost-url1.81-dev, libssl-dev")
  include(CPack)
endif()

# The packaging proof (test/consumer/check.sh): consumers built against the installed tree, through
# add_subdirectory and FetchContent, through pkg-config, and against the installed .deb.
if(LIVEFOUR_INSTALL AND LIVEFOUR_BUILD_TESTS AND PROJECT_IS_TOP_LEVEL)
  add_test(NAME packaging
           COMMAND ${PROJECT_SOURCE_DIR}/test/consumer/check.sh
                   --source ${PROJECT_SOURCE_DIR} --build ${PROJECT_BINARY_DIR})
  set_tests_properties(packaging PROPERTIES TIMEOUT 1800 SKIP_RETURN_CODE 77 LABELS "slow;packaging")
endif()
