#include "engine/chat_template.h"

#include <string>

namespace llamanet::engine {

ChatTemplate::ChatTemplate(const llama_model* model) {
  const char* tmpl = llama_model_chat_template(model, nullptr);
  from_model_ = tmpl != nullptr && *tmpl != '\0';
  template_ = from_model_ ? tmpl : "chatml";
}

namespace {

// Stands in for message i's content while the template renders: bytes no text message holds
// and no template trims, so that the content's place in the output can be found again.
std::string Placeholder(size_t i) { return "\x1e" + std::to_string(i) + "\x1f"; }

}  // namespace

Result<RenderedChat> ChatTemplate::Apply(const std::vector<ChatMessage>& messages) const {
  std::vector<ChatMessage> placeholders = messages;
  for (size_t i = 0; i < placeholders.size(); ++i) placeholders[i].content = Placeholder(i);
  Result<std::string> skeleton = Render(placeholders);
  if (!skeleton.ok()) return skeleton.status();
  RenderedChat out;
  size_t pos = 0;
  while (pos < skeleton->size()) {
    size_t start = skeleton->find('\x1e', pos);
    size_t end = start == std::string::npos ? std::string::npos : skeleton->find('\x1f', start);
    if (end == std::string::npos) {
      out.text.append(*skeleton, pos, std::string::npos);
      break;
    }
    out.text.append(*skeleton, pos, start - pos);
    size_t index = std::stoul(skeleton->substr(start + 1, end - start - 1));
    const std::string& content = messages.at(index).content;
    out.content.emplace_back(out.text.size(), out.text.size() + content.size());
    out.text += content;
    pos = end + 1;
  }
  return out;
}

Result<std::string> ChatTemplate::Render(const std::vector<ChatMessage>& messages) const {
  std::vector<llama_chat_message> chat;
  chat.reserve(messages.size());
  size_t total = 0;
  for (const ChatMessage& m : messages) {
    if (m.role != "system" && m.role != "user" && m.role != "assistant") {
      return Status::InvalidArgument("unknown message role (expected system, user or assistant)");
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
