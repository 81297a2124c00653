// The Engine of an embeddings-only node (--embeddings-only): it reports the model, has no
// slots and no generation context, and refuses every generation with kNotFound. The swarm
// sends such a node no generation (its record says `generation: false`); its own router
// forwards what arrives to peers.
#pragma once

#include <memory>

#include "engine/engine.h"

namespace llamanet::engine {

// `model` is DescribeModel's (model_loader.h); n_ctx there is the embedding context.
std::unique_ptr<Engine> MakeEmbeddingsOnlyEngine(ModelInfo model);

}  // namespace llamanet::engine
