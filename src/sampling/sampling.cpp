// Placeholder until the sampling issue lands.
namespace kiln::sampling {}
