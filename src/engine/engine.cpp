// Placeholder until the scheduler issue lands.
#include "engine/engine.h"
namespace kiln::engine {}
