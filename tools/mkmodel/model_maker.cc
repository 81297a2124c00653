#include "model_maker.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "gguf_model_writer.h"
#include "llama.h"
#include "vocab_builder.h"

namespace llamanet::mkmodel {
namespace {

// A file beside the output (same directory, so the final rename stays on one filesystem),
// removed when destroyed unless it was renamed into place by Commit().
class TempFile {
 public:
  TempFile(const std::string& output, const char* tag)
      : path_(output + "." + tag + "-" + std::to_string(::getpid()) + ".tmp") {}
  ~TempFile() {
    if (!path_.empty()) {
      std::error_code ignored;
      std::filesystem::remove(path_, ignored);
    }
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  const std::string& path() const { return path_; }

  // Flushes the file to disk, then renames it onto `target`: fsync first, or a power loss
  // soon after the rename could leave `target` naming an empty or partial file.
  Status Commit(const std::string& target) {
    const int fd = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::IoError("cannot open " + path_ + ": " + std::strerror(errno));
    const bool synced = ::fsync(fd) == 0;
    const int sync_errno = errno;
    ::close(fd);
    if (!synced) return Status::IoError("cannot flush " + path_ + ": " + std::strerror(sync_errno));
    std::error_code ec;
    std::filesystem::rename(path_, target, ec);
    if (ec) return Status::IoError("cannot rename " + path_ + " to " + target + ": " + ec.message());
    path_.clear();
    return Status::Ok();
  }

 private:
  std::string path_;
};

llama_ftype QuantizedFtype(WeightType type) {
  return type == WeightType::kQ8_0 ? LLAMA_FTYPE_MOSTLY_Q8_0 : LLAMA_FTYPE_MOSTLY_Q4_0;
}

Status Quantize(const std::string& f16_path, const std::string& out_path, WeightType type) {
  llama_model_quantize_params params = llama_model_quantize_default_params();
  params.ftype = QuantizedFtype(type);
  params.nthread = 0;  // all cores
  if (llama_model_quantize(f16_path.c_str(), out_path.c_str(), &params) != 0) {
    return Status::Internal("llama_model_quantize failed to write " + out_path);
  }
  return Status::Ok();
}

}  // namespace

Result<MakeSummary> MakeModel(const MakeOptions& options) {
  if (options.output.empty()) return Status::InvalidArgument("no output path");
  Result<ModelSpec> spec = FindPreset(options.preset);
  if (!spec.ok()) return spec.status();
  if (Status s = Validate(*spec); !s.ok()) return s;
  Result<Vocab> vocab = BuildVocab(spec->n_vocab);
  if (!vocab.ok()) return vocab.status();

  TempFile f16(options.output, "f16");
  if (Status s = WriteF16Model(*spec, *vocab, options.seed, f16.path()); !s.ok()) return s;
  if (options.type == WeightType::kF16) {
    if (Status s = f16.Commit(options.output); !s.ok()) return s;
  } else {
    TempFile quantized(options.output, "quant");
    if (Status s = Quantize(f16.path(), quantized.path(), options.type); !s.ok()) return s;
    if (Status s = quantized.Commit(options.output); !s.ok()) return s;
  }

  std::error_code ec;
  const uintmax_t bytes = std::filesystem::file_size(options.output, ec);
  if (ec) return Status::IoError("cannot stat " + options.output + ": " + ec.message());
  MakeSummary summary;
  summary.spec = std::move(spec).value();
  summary.type = options.type;
  summary.params = summary.spec.ParamCount();
  summary.file_bytes = bytes;
  return summary;
}

}  // namespace llamanet::mkmodel
