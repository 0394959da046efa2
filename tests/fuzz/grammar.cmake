# Constraint engine (src/sampling/grammar): schema and regex compilers.
kiln_fuzz_target(fuzz_grammar_schema SOURCES grammar_schema_fuzz.cpp DEPS kiln_grammar)
kiln_fuzz_target(fuzz_grammar_regex SOURCES grammar_regex_fuzz.cpp DEPS kiln_grammar)
