# Raw bytes -> JSON -> typed request -> validation (src/api).
kiln_fuzz_target(fuzz_request_parser SOURCES request_parser_fuzz.cpp DEPS kiln_api)
target_include_directories(fuzz_request_parser PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit)
