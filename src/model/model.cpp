// Placeholder until the model-files issue lands.
namespace kiln::model {}
