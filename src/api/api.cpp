// Placeholder until the HTTP front-end issue lands.
namespace kiln::api {}
