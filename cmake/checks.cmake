# Checks on the public surface (built and run with the tests).

# Every installed header compiles on its own, seeing include/ only (never the internal tree), warning
# free under -Wpedantic -Werror (users compile with their own flags): C++17 and C++20 for each
# header, and C99 as well for the C API's .h files. One generated translation unit per header and
# standard; a failure fails the build.
file(GLOB docling_public_headers CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/include/docling/*.hpp
     ${PROJECT_SOURCE_DIR}/include/docling/*.h)
set(header_check_dir ${CMAKE_CURRENT_BINARY_DIR}/header_check)
set(header_check_cxx)
set(header_check_c)
foreach(header ${docling_public_headers})
  get_filename_component(name ${header} NAME)
  string(MAKE_C_IDENTIFIER ${name} id)
  # Included twice: the second must be a no-op (include guard / #pragma once).
  set(body "#include \"docling/${name}\"\n#include \"docling/${name}\"\nint docling_header_check_${id};\n")
  file(CONFIGURE OUTPUT ${header_check_dir}/${id}.cpp CONTENT "${body}")
  list(APPEND header_check_cxx ${header_check_dir}/${id}.cpp)
  if(name MATCHES "\\.h$")
    file(CONFIGURE OUTPUT ${header_check_dir}/${id}.c CONTENT "${body}")
    list(APPEND header_check_c ${header_check_dir}/${id}.c)
  endif()
endforeach()
foreach(std cxx17 cxx20 c99)
  if(std STREQUAL c99)
    if(NOT header_check_c)
      continue()
    endif()
    add_library(docling_header_check_${std} OBJECT ${header_check_c})
    set_target_properties(docling_header_check_${std} PROPERTIES C_STANDARD 99 C_EXTENSIONS OFF)
  else()
    add_library(docling_header_check_${std} OBJECT ${header_check_cxx})
    string(SUBSTRING ${std} 3 2 n)
    set_target_properties(docling_header_check_${std} PROPERTIES CXX_STANDARD ${n} CXX_EXTENSIONS OFF)
  endif()
  target_include_directories(docling_header_check_${std} PRIVATE ${PROJECT_SOURCE_DIR}/include)
  target_compile_options(docling_header_check_${std} PRIVATE -Wpedantic -Werror)
endforeach()

# libdocling.so exports the API and nothing else (scripts/check_exports.sh says what is allowed);
# the checker itself rejects a made-up symbol list with internal names in it.
add_test(NAME Library.ExportsOnlyTheApi
         COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/check_exports.sh $<TARGET_FILE:docling_shared>
                 ${PROJECT_SOURCE_DIR}/include/docling)
add_test(NAME Library.ExportCheckerRejectsInternals
         COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/check_exports.sh --self-test)
