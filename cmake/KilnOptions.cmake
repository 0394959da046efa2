# Warnings and sanitizers for Kiln's own targets (never for third-party code).
add_library(kiln_options INTERFACE)
target_compile_options(kiln_options INTERFACE -Wall -Wextra)
target_compile_definitions(kiln_options INTERFACE
  $<$<CONFIG:Debug>:KILN_DEBUG=1>)
if(KILN_SANITIZE OR KILN_FUZZ)
  target_compile_options(kiln_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(kiln_options INTERFACE -fsanitize=address,undefined)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    # clang 14's -fsanitize=function fails to assemble some Beast/Asio code
    # ("Cannot represent a difference across sections").
    target_compile_options(kiln_options INTERFACE -fno-sanitize=function)
  endif()
endif()
if(KILN_SANITIZE)
  target_compile_definitions(kiln_options INTERFACE KILN_SANITIZE=1)
endif()
if(KILN_FUZZ)
  # Coverage for libFuzzer in every library; only the fuzz targets link the
  # fuzzer runtime (tests/fuzz), so one sanitizer build serves both.
  target_compile_options(kiln_options INTERFACE -fsanitize=fuzzer-no-link)
endif()

# kiln_module(<name> SOURCES ... DEPS ...): one library per module folder.
function(kiln_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(kiln_${name} STATIC ${ARG_SOURCES})
  target_include_directories(kiln_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(kiln_${name} PUBLIC kiln_options ${ARG_DEPS} PRIVATE ${ARG_PRIVATE_DEPS})
endfunction()
