# Model file header parsers (src/model): GGUF, safetensors, config.json.
kiln_fuzz_target(fuzz_gguf SOURCES gguf_fuzz.cpp DEPS kiln_model)
kiln_fuzz_target(fuzz_safetensors SOURCES safetensors_fuzz.cpp DEPS kiln_model)
kiln_fuzz_target(fuzz_hf_config SOURCES hf_config_fuzz.cpp DEPS kiln_model)
