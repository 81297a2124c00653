// The web UI's files, embedded into the binary at build time (src/webui/embed_assets.cmake).
// Thread-safe: everything here is constant data.
#pragma once

#include <string_view>

namespace llamanet::webui {

struct Asset {
  std::string_view body;          // the file's bytes, exactly
  std::string_view content_type;  // e.g. "text/javascript; charset=utf-8"
  std::string_view etag;          // a quoted strong validator derived from the bytes' SHA-256
};

// The asset served at the URL path `path`: "/" is index.html, the others are "/static/...".
// Returns null for any other path. Only the embedded names match, byte for byte, so no path
// (with "..", "%2e", "//" or anything else) can reach another file. The pointer is valid for
// the life of the program.
const Asset* FindAsset(std::string_view path);

}  // namespace llamanet::webui
