# Stop-string matching and the sampler on arbitrary rows (src/sampling).
kiln_fuzz_target(fuzz_sampling SOURCES sampling_fuzz.cpp DEPS kiln_sampling)
