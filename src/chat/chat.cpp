// Placeholder until the chat-template issue lands.
namespace kiln::chat {}
