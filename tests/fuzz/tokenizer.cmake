# Arbitrary bytes through encode/decode/streaming (src/tokenizer).
kiln_fuzz_target(fuzz_tokenizer SOURCES tokenizer_fuzz.cpp DEPS kiln_tokenizer)
target_compile_definitions(fuzz_tokenizer PRIVATE KILN_TOKENIZER_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data/tokenizer")
