// Placeholder until the tokenizer issue lands.
namespace kiln::tokenizer {}
