#include "engine/embeddings_only_engine.h"

namespace llamanet::engine {
namespace {

class EmbeddingsOnlyEngine final : public Engine {
 public:
  explicit EmbeddingsOnlyEngine(ModelInfo model) : model_(std::move(model)) { model_.n_slots = 0; }

  Result<std::shared_ptr<GenerationStream>> Submit(GenerationRequest) override {
    return Status::NotFound("this node serves embeddings only; no peer could take the generation");
  }
  ModelInfo Model() const override { return model_; }
  EngineMetrics Metrics() const override { return {}; }
  int32_t CachedTokensFor(uint64_t) const override { return 0; }
  void Shutdown() override {}

 private:
  ModelInfo model_;
};

}  // namespace

std::unique_ptr<Engine> MakeEmbeddingsOnlyEngine(ModelInfo model) {
  return std::make_unique<EmbeddingsOnlyEngine>(std::move(model));
}

}  // namespace llamanet::engine
