#include "api/system_info.h"

#include <sys/utsname.h>

#include <fstream>
#include <thread>

#include "ggml-backend.h"

namespace llamanet::api {
namespace {

std::string CpuModel() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(' ', colon + 1));
    }
  }
  return "unknown";
}

uint64_t MemInfoBytes(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string name;
  uint64_t kib = 0;
  std::string unit;
  while (in >> name >> kib >> unit) {
    if (name == key + ":") return kib * 1024;
  }
  return 0;
}

}  // namespace

SystemInfo ReadSystemInfo() {
  SystemInfo info;
  info.cpu = CpuModel();
  info.cpu_cores = static_cast<int32_t>(std::thread::hardware_concurrency());
  info.ram_total = MemInfoBytes("MemTotal");
  info.ram_available = MemInfoBytes("MemAvailable");
  for (size_t i = 0; i < ggml_backend_dev_count(); ++i) {
    ggml_backend_dev_t dev = ggml_backend_dev_get(i);
    if (ggml_backend_dev_type(dev) == GGML_BACKEND_DEVICE_TYPE_GPU) {
      info.gpus.push_back(std::string(ggml_backend_dev_name(dev)) + ": " + ggml_backend_dev_description(dev));
    }
  }
  struct utsname u {};
  if (uname(&u) == 0) info.platform = std::string(u.sysname) + " " + u.release + " " + u.machine;
  return info;
}

}  // namespace llamanet::api
