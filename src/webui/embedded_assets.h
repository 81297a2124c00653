// Internal: the table that embed_assets.cmake generates into the build folder.
#pragma once

#include <span>
#include <string_view>

#include "webui/assets.h"

namespace llamanet::webui {

struct EmbeddedAsset {
  std::string_view path;  // the URL path it is served at
  Asset asset;
};

std::span<const EmbeddedAsset> EmbeddedAssets();

}  // namespace llamanet::webui
