// The host's hardware for GET /info: CPU model and cores, memory, GPUs llama.cpp can use.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace llamanet::api {

struct SystemInfo {
  std::string cpu;
  int32_t cpu_cores = 0;
  uint64_t ram_total = 0;       // bytes
  uint64_t ram_available = 0;   // bytes
  std::vector<std::string> gpus;
  std::string platform;         // "Linux 6.1.0 x86_64"
};

SystemInfo ReadSystemInfo();

}  // namespace llamanet::api
