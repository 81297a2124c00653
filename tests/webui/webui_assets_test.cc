#include <httplib.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "webui/assets.h"
#include "webui/webui_routes.h"

namespace llamanet::webui {
namespace {

constexpr std::string_view kJs = "text/javascript; charset=utf-8";
constexpr std::string_view kCss = "text/css; charset=utf-8";

TEST(FindAssetTest, RootIsThePage) {
  const Asset* page = FindAsset("/");
  ASSERT_NE(page, nullptr);
  EXPECT_EQ(page->content_type, "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("<title>LlamaNet</title>"), std::string_view::npos);
}

TEST(FindAssetTest, ServesScriptsStylesAndLibraries) {
  struct Case {
    const char* path;
    std::string_view type;
  };
  for (const Case& c : {Case{"/static/app.js", kJs}, Case{"/static/app.css", kCss},
                        Case{"/static/vendor/bootstrap.min.css", kCss}, Case{"/static/vendor/marked.esm.js", kJs},
                        Case{"/static/vendor/purify.es.mjs", kJs}}) {
    SCOPED_TRACE(c.path);
    const Asset* asset = FindAsset(c.path);
    ASSERT_NE(asset, nullptr);
    EXPECT_EQ(asset->content_type, c.type);
    EXPECT_FALSE(asset->body.empty());
  }
}

TEST(FindAssetTest, BodiesAreTheFilesBytes) {
  const Asset* purify = FindAsset("/static/vendor/purify.es.mjs");
  ASSERT_NE(purify, nullptr);
  EXPECT_EQ(purify->body.find('\0'), std::string_view::npos);
  EXPECT_TRUE(purify->body.starts_with("/*! @license DOMPurify"));
  EXPECT_NE(purify->body.find("export { purify_default as default }"), std::string_view::npos);
}

TEST(FindAssetTest, UnknownAndTraversalPathsAreNull) {
  for (const char* path :
       {"", "/index.html", "/static", "/static/", "/static/nope.js", "/static/../x", "/static/../../etc/passwd",
        "/static/./app.js", "/static//app.js", "/static/%2e%2e/app.js", "/static/app.js/", "/STATIC/app.js",
        "/static/vendor/../app.js", "/static/vendor/bootstrap.min.css.map", "/static/package.json",
        "/static/node_modules/marked/package.json", "//", "/generate"}) {
    SCOPED_TRACE(path);
    EXPECT_EQ(FindAsset(path), nullptr);
  }
  EXPECT_EQ(FindAsset(std::string_view("/static/app.js\0", 15)), nullptr);
}

TEST(FindAssetTest, EtagsAreQuotedAndDifferPerFile) {
  const Asset* a = FindAsset("/static/app.js");
  const Asset* b = FindAsset("/static/app.css");
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(a->etag.size() > 2 && a->etag.front() == '"' && a->etag.back() == '"') << a->etag;
  EXPECT_NE(a->etag, b->etag);
}

// Every module that app.js imports, directly or not, and every file the page links to is
// embedded: a file missing from src/webui/CMakeLists.txt fails here, not in a browser.
TEST(FindAssetTest, EverythingThePageLoadsIsEmbedded) {
  const Asset* page = FindAsset("/");
  ASSERT_NE(page, nullptr);
  std::vector<std::string> pending;
  const std::regex link(R"((?:src|href)="(/static/[^"]+)\")");
  std::string html(page->body);
  for (std::sregex_iterator it(html.begin(), html.end(), link), end; it != end; ++it) pending.push_back((*it)[1]);
  ASSERT_FALSE(pending.empty());
  const std::regex import(R"(from\s+'\./([^']+)')");
  std::set<std::string> seen;
  while (!pending.empty()) {
    std::string path = pending.back();
    pending.pop_back();
    if (!seen.insert(path).second) continue;
    const Asset* asset = FindAsset(path);
    ASSERT_NE(asset, nullptr) << path << " is loaded by the page but not embedded";
    if (asset->content_type != kJs || path.starts_with("/static/vendor/")) continue;
    std::string js(asset->body);
    std::string dir = path.substr(0, path.rfind('/') + 1);
    for (std::sregex_iterator it(js.begin(), js.end(), import), end; it != end; ++it) pending.push_back(dir + (*it)[1].str());
  }
  EXPECT_TRUE(seen.contains("/static/markdown.js"));
  EXPECT_TRUE(seen.contains("/static/vendor/purify.es.mjs"));
}

// The CSP forbids inline scripts and handlers, so the page must have none.
TEST(FindAssetTest, PageHasNoInlineScript) {
  std::string html(FindAsset("/")->body);
  const std::regex script(R"(<script\b([^>]*)>([\s\S]*?)</script>)", std::regex::icase);
  int scripts = 0;
  for (std::sregex_iterator it(html.begin(), html.end(), script), end; it != end; ++it, ++scripts) {
    EXPECT_NE((*it)[1].str().find("src="), std::string::npos) << (*it)[0];
    EXPECT_EQ((*it)[2].str(), "") << (*it)[0];
  }
  EXPECT_GT(scripts, 0);
  EXPECT_FALSE(std::regex_search(html, std::regex(R"(\son[a-z]+=)", std::regex::icase)));
}

httplib::Response Get(const std::string& path, const std::string& if_none_match = "") {
  httplib::Request req;
  req.method = "GET";
  req.path = path;
  if (!if_none_match.empty()) req.set_header("If-None-Match", if_none_match);
  httplib::Response res;
  ServeWebUi(req, res);
  return res;
}

TEST(ServeWebUiTest, AnswersWithTypeAndSecurityHeaders) {
  httplib::Response res = Get("/");
  EXPECT_EQ(res.status, -1);  // httplib makes it 200 when sent
  EXPECT_EQ(res.body, FindAsset("/")->body);
  EXPECT_EQ(res.get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_EQ(res.get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(res.get_header_value("Cache-Control"), "no-cache");
  EXPECT_EQ(res.get_header_value("ETag"), FindAsset("/")->etag);
  std::string csp = res.get_header_value("Content-Security-Policy");
  EXPECT_TRUE(csp.starts_with("default-src 'self';")) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;

  httplib::Response js = Get("/static/app.js");
  EXPECT_EQ(js.get_header_value("Content-Type"), kJs);
  EXPECT_EQ(js.get_header_value("X-Content-Type-Options"), "nosniff");
}

TEST(ServeWebUiTest, MatchingEtagIsNotModified) {
  std::string etag(FindAsset("/static/app.js")->etag);
  httplib::Response res = Get("/static/app.js", etag);
  EXPECT_EQ(res.status, 304);
  EXPECT_TRUE(res.body.empty());
  EXPECT_EQ(res.get_header_value("ETag"), etag);
  EXPECT_EQ(Get("/static/app.js", "\"stale\"").body, FindAsset("/static/app.js")->body);
}

TEST(ServeWebUiTest, UnknownFileIsNativeJson404) {
  for (const std::string& path : std::vector<std::string>{"/static/../secret", "/static/\xff\xfe.js"}) {
    httplib::Response res = Get(path);
    EXPECT_EQ(res.status, 404);
    EXPECT_EQ(res.get_header_value("Content-Type"), "application/json");
    EXPECT_EQ(res.get_header_value("X-Content-Type-Options"), "nosniff");
    nlohmann::json body = nlohmann::json::parse(res.body);
    ASSERT_TRUE(body["detail"].is_string()) << res.body;
    EXPECT_NE(body["detail"].get<std::string>().find("/static/"), std::string::npos);
  }
}

}  // namespace
}  // namespace llamanet::webui
