#include "engine/chat_template.h"

namespace llamanet::engine {

ChatTemplate::ChatTemplate(const llama_model* model) {
  const char* tmpl = llama_model_chat_template(model, nullptr);
  from_model_ = tmpl != nullptr && *tmpl != '\0';
  template_ = from_model_ ? tmpl : "chatml";
}

Result<std::string> ChatTemplate::Apply(const std::vector<ChatMessage>& messages) const {
  std::vector<llama_chat_message> chat;
  chat.reserve(messages.size());
  size_t total = 0;
  for (const ChatMessage& m : messages) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant") {
      return Status::InvalidArgument("unknown message role '" + m.role + "' (expected system, user or assistant)");
    }
    chat.push_back({m.role.c_str(), m.content.c_str()});
    total += m.role.size() + m.content.size();
  }
  std::string out(total * 2 + 256, '\0');
  int32_t n = llama_chat_apply_template(template_.c_str(), chat.data(), chat.size(), true, out.data(),
                                        static_cast<int32_t>(out.size()));
  if (n > static_cast<int32_t>(out.size())) {
    out.resize(n);
    n = llama_chat_apply_template(template_.c_str(), chat.data(), chat.size(), true, out.data(), n);
  }
  if (n < 0) return Status::InvalidArgument("the model's chat template is not supported by llama.cpp");
  out.resize(n);
  return out;
}

}  // namespace llamanet::engine
