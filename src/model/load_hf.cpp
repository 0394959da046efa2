#include "model/loaders.h"

namespace kiln::model::detail {

util::Result<ModelDescription> load_hf_dir(const std::filesystem::path& dir) {
  return util::make_error(dir.string() + ": Hugging Face directories are not supported yet");
}

}  // namespace kiln::model::detail
