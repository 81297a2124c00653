// Built-in English word lists that seed the vocabulary (vocab_builder.cc), so a random-weight
// model still tokenizes English prose into word pieces the way a trained SPM vocabulary does.
#pragma once

#include <span>
#include <string_view>

namespace llamanet::mkmodel {

// About 500 common English words, lower case, most frequent first.
std::span<const std::string_view> CommonWords();

// Common word endings and inner subwords (no word-start marker), most useful first.
std::span<const std::string_view> CommonSubwords();

}  // namespace llamanet::mkmodel
