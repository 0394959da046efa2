kiln_fuzz_target(fuzz_tool_calls SOURCES tool_calls_fuzz.cpp DEPS kiln_chat)
