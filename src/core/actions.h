// The operator's actions by name ("pause", "next_theme", "screenshot", ...): the app registers
// each once with its handler, and every way in (keys, the HTTP API's POST /api/actions/{name},
// OSC's /dreamwindow/action/{name}) runs them through this one table, so a new action appears
// everywhere at once. Handlers run on the caller's thread: they only set requests (core/commands.h)
// or call thread-safe parts, and return at once.
#pragma once

#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace dw {

struct ActionResult {
  bool ok = true;
  std::string message;  // what happened ("generation paused"), or what is wrong
};

struct ActionInfo {
  std::string name;  // [a-z_]+
  std::string help;  // one line for --help, the web page and OSC replies
};

class ActionTable {
 public:
  using Handler = std::function<ActionResult()>;

  // Registers `name`; a second registration of the same name replaces the first.
  void add(std::string name, std::string help, Handler handler);
  // Runs the handler; an unknown name is an error naming the known ones. A handler that throws
  // is an error with its message (nothing escapes to the caller's thread).
  ActionResult run(std::string_view name) const;
  bool contains(std::string_view name) const;
  std::vector<ActionInfo> list() const;  // sorted by name

 private:
  struct Entry {
    ActionInfo info;
    Handler handler;
  };
  mutable std::mutex mutex_;
  std::vector<Entry> entries_;
};

}  // namespace dw
