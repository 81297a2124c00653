#include "webui/assets.h"

#include "webui/embedded_assets.h"

namespace llamanet::webui {

const Asset* FindAsset(std::string_view path) {
  // A dozen entries: a linear scan is as fast as anything else here.
  for (const EmbeddedAsset& e : EmbeddedAssets()) {
    if (e.path == path) return &e.asset;
  }
  return nullptr;
}

}  // namespace llamanet::webui
