#include "core/actions.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>

namespace dw {

void ActionTable::add(std::string name, std::string help, Handler handler) {
  std::lock_guard lock(mutex_);
  auto it = std::find_if(entries_.begin(), entries_.end(),
                         [&](const Entry& e) { return e.info.name == name; });
  Entry entry{{std::move(name), std::move(help)}, std::move(handler)};
  if (it != entries_.end())
    *it = std::move(entry);
  else
    entries_.push_back(std::move(entry));
  std::sort(entries_.begin(), entries_.end(),
            [](const Entry& a, const Entry& b) { return a.info.name < b.info.name; });
}

ActionResult ActionTable::run(std::string_view name) const {
  Handler handler;
  {
    std::lock_guard lock(mutex_);
    auto it = std::find_if(entries_.begin(), entries_.end(),
                           [&](const Entry& e) { return e.info.name == name; });
    if (it == entries_.end()) {
      std::string known;
      for (const Entry& e : entries_) known += (known.empty() ? "" : ", ") + e.info.name;
      return {false, fmt::format("unknown action '{}' (known: {})", name, known)};
    }
    handler = it->handler;
  }
  try {
    return handler();  // outside the lock: a handler may list or run other actions
  } catch (const std::exception& e) {
    return {false, fmt::format("action '{}' failed: {}", name, e.what())};
  }
}

bool ActionTable::contains(std::string_view name) const {
  std::lock_guard lock(mutex_);
  return std::any_of(entries_.begin(), entries_.end(),
                     [&](const Entry& e) { return e.info.name == name; });
}

std::vector<ActionInfo> ActionTable::list() const {
  std::lock_guard lock(mutex_);
  std::vector<ActionInfo> out;
  for (const Entry& e : entries_) out.push_back(e.info);
  return out;
}

}  // namespace dw
