#include "core/param_editor.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <filesystem>

#include "core/files.h"

namespace dw {

void copy_param_value(const ParamSpec& p, const Config& from, Config& to) {
  Config& src = const_cast<Config&>(from);  // the accessors are non-const; src is only read
  switch (p.type) {
    case ParamType::Bool:
      p.as_bool(to) = p.as_bool(src);
      break;
    case ParamType::Int:
      p.as_int(to) = p.as_int(src);
      break;
    case ParamType::Float:
      p.as_float(to) = p.as_float(src);
      break;
    case ParamType::String:
      p.as_string(to) = p.as_string(src);
      break;
    case ParamType::StringList:
      p.as_list(to) = p.as_list(src);
      break;
    case ParamType::Choice:
      p.choice->set(to, p.choice->get(from));
      break;
  }
}

std::optional<std::string> update_config_file(
    const std::string& path, const std::function<std::optional<std::string>(Config&)>& change,
    const std::function<bool(const ParamSpec&)>& keep) {
  // Read, change, write: two writers at once (a remote's save, a calibration's) would each write
  // the file they read, and the later would drop the earlier's change.
  static std::mutex writers;
  std::lock_guard one_writer(writers);
  Config file = default_config();
  std::error_code ec;
  if (std::filesystem::exists(path, ec))
    if (auto err = load_config_file(path, file))
      return fmt::format("not saved: the file does not read back ({})", err->message);
  if (auto refused = change(file)) return refused;
  const Config defaults = default_config();
  const std::string text = config_to_toml(file, [&](const ParamSpec& p) {
    return (keep && keep(p)) || p.value_text(file) != p.value_text(defaults);
  });
  try {
    const auto parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent);
    write_file_atomic(path, text);
  } catch (const std::exception& e) {
    return fmt::format("not saved to {}: {}", path, e.what());
  }
  return std::nullopt;
}

std::optional<std::string> save_config_keys(const std::string& path, const Config& values,
                                            const std::set<std::string>& keys) {
  return update_config_file(
      path,
      [&](Config& file) -> std::optional<std::string> {
        for (const std::string& key : keys)
          if (const ParamSpec* p = find_param(key)) copy_param_value(*p, values, file);
        return std::nullopt;
      },
      [&](const ParamSpec& p) { return keys.contains(p.key); });
}

ParamEditor::ParamEditor(ConfigStore& config, std::string save_path,
                         std::vector<std::pair<std::string, std::string>> overrides)
    : config_(config),
      save_path_(std::move(save_path)),
      overrides_(std::move(overrides)),
      restart_values_(*config.get()) {
  std::error_code ec;
  file_seen_ = std::filesystem::exists(save_path_, ec) || ec;
}

Config ParamEditor::view() const {
  std::lock_guard lock(mutex_);
  return view_locked();
}

Config ParamEditor::view_locked() const {
  Config v = *config_.get();
  for (const std::string& key : pending_)
    if (const ParamSpec* p = find_param(key)) copy_param_value(*p, restart_values_, v);
  return v;
}

EditOutcome ParamEditor::edit(std::string_view key, std::string_view text) {
  const ParamSpec* p = find_param(key);
  if (!p) return {false, false, fmt::format("unknown parameter '{}'", key)};
  // What the HTTP API refuses, OSC and the overlay refuse too: a CR from a control surface's
  // text field is no part of a prompt (and saved raw it would leave a file TOML cannot read).
  if (std::any_of(text.begin(), text.end(),
                  [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; }))
    return {false, false, fmt::format("{}: the value contains control characters", key)};
  // The checks that read files (a themes file, an input path on a share) run outside the lock,
  // which the overlay's panel and every status read take: an edit made meanwhile means the
  // checks saw an outdated config, and they run again.
  for (int attempt = 0; attempt < 8; ++attempt) {
    Config edited;
    std::uint64_t seen = 0;
    std::vector<ConfigCheck> checks;
    {
      std::lock_guard lock(mutex_);
      edited = view_locked();
      seen = edits_;
      if (auto err = p->set_from_text(edited, text)) return {false, false, *err};
      if (auto err = p->validate(edited)) return {false, false, *err};
      if (auto err = refused_by_choices_locked(*p, edited)) return {false, false, *err};
      for (const KeyedCheck& c : checks_)
        if (std::find(c.keys.begin(), c.keys.end(), p->key) != c.keys.end())
          checks.push_back(c.check);
    }
    for (const ConfigCheck& check : checks)
      if (auto err = check(edited)) return {false, false, *err};
    // An input that does not exist would stop the next start (the CLI refuses it): refuse it now.
    if (p->path != PathRule::None)
      if (auto err = check_paths(edited); err && err->message.starts_with(p->key + " "))
        return {false, false, err->message};
    std::lock_guard lock(mutex_);
    if (edits_ == seen) return commit_locked(*p, edited);
  }
  return {false, false, fmt::format("{}: not set, other edits kept arriving; try again", key)};
}

std::optional<std::string> ParamEditor::refused_by_choices_locked(const ParamSpec& p,
                                                                  const Config& edited) const {
  auto it = choices_.find(p.key);
  if (p.type != ParamType::String || it == choices_.end() || it->second.empty())
    return std::nullopt;
  const std::vector<std::string>& names = it->second;
  const std::string& value = p.as_string(const_cast<Config&>(edited));
  if (std::find(names.begin(), names.end(), value) != names.end()) return std::nullopt;
  const std::size_t shown = std::min<std::size_t>(names.size(), 8);
  return fmt::format("{}: '{}' is not offered by the server (offered: {}{})", p.key, value,
                     fmt::join(names.begin(), names.begin() + shown, ", "),
                     names.size() > shown ? ", ..." : "");
}

void ParamEditor::set_writer(Writer writer) {
  std::lock_guard lock(save_mutex_);
  writer_ = std::move(writer);
}

void ParamEditor::add_check(std::vector<std::string> keys, ConfigCheck check) {
  std::lock_guard lock(mutex_);
  checks_.push_back({std::move(keys), std::move(check)});
}

void ParamEditor::set_choices(const std::string& key, std::vector<std::string> names) {
  std::lock_guard lock(mutex_);
  choices_[key] = std::move(names);
}

std::vector<std::string> ParamEditor::choices(const std::string& key) const {
  std::lock_guard lock(mutex_);
  auto it = choices_.find(key);
  return it == choices_.end() ? std::vector<std::string>{} : it->second;
}

EditOutcome ParamEditor::commit_locked(const ParamSpec& p, const Config& edited) {
  const bool restart = p.apply == Apply::Restart;
  if (restart) {
    copy_param_value(p, edited, restart_values_);
    pending_.insert(p.key);
    ++restart_changes_;
  } else {
    config_.update([&](Config& next) { copy_param_value(p, edited, next); });
  }
  edited_.insert(p.key);
  unsaved_[p.key] = ++edits_;
  return {true, restart, ""};
}

// The file is written outside the state lock (a disk busy with a recording's writes can take a
// second to sync it, and the overlay and every status read take that lock); saves take their
// own lock, so that a later snapshot is never overwritten by an earlier one. An edit made while
// the file is written stays unsaved.
std::optional<std::string> ParamEditor::save() {
  std::lock_guard one_save(save_mutex_);
  Config values;
  std::set<std::string> keys;
  std::uint64_t seen = 0;
  {
    std::lock_guard lock(mutex_);
    values = view_locked();
    keys = edited_;
    seen = edits_;
  }
  if (auto err = writer_(save_path_, values, keys)) return err;
  std::lock_guard lock(mutex_);
  file_seen_ = true;
  std::erase_if(unsaved_, [seen](const auto& key_edit) { return key_edit.second <= seen; });
  return std::nullopt;
}

ReloadOutcome ParamEditor::reload() {
  Config loaded = default_config();
  std::error_code ec;
  const bool exists = std::filesystem::exists(save_path_, ec);
  if (ec)
    return {false,
            fmt::format("{} cannot be read ({}); nothing changed", save_path_, ec.message()),
            {},
            {}};
  if (!exists && file_seen()) {
    // Renamed or being replaced, or on a disk that went away: reloading the defaults instead
    // would reset every live setting (a closed installation's schedule among them).
    return {false,
            fmt::format("{} is gone (renamed, or being replaced?); nothing changed", save_path_),
            {},
            {}};
  }
  if (exists)
    if (auto err = load_config_file(save_path_, loaded)) return {false, err->message, {}, {}};
  for (const auto& [key, value] : overrides_)
    if (auto err = apply_override(loaded, key, value)) return {false, err->message, {}, {}};
  if (auto err = validate_config(loaded)) return {false, err->message, {}, {}};
  std::vector<ConfigCheck> checks;  // they may read files: outside the lock
  {
    std::lock_guard lock(mutex_);
    for (const KeyedCheck& c : checks_) checks.push_back(c.check);
  }
  for (const ConfigCheck& check : checks)
    if (auto err = check(loaded)) return {false, *err, {}, {}};
  ReloadOutcome out;
  out.ok = true;
  std::lock_guard lock(mutex_);
  const auto running = config_.get();
  std::vector<const ParamSpec*> live;
  bool restart_rows_changed = false;
  for (const ParamSpec& p : param_table()) {
    if (p.value_text(loaded) == p.value_text(*running) && !pending_.contains(p.key)) continue;
    if (p.apply == Apply::Live) {
      live.push_back(&p);
      out.applied.push_back(p.key);
    } else if (p.value_text(loaded) != p.value_text(*running)) {
      copy_param_value(p, loaded, restart_values_);
      pending_.insert(p.key);
      out.pending.push_back(p.key);
      restart_rows_changed = true;
    } else {
      pending_.erase(p.key);  // the file is back to what runs: nothing waits for a restart
      restart_rows_changed = true;
    }
  }
  if (restart_rows_changed) ++restart_changes_;
  OutputsReload outputs = reload_outputs(running->outputs, loaded.outputs);
  out.applied.insert(out.applied.end(), outputs.applied.begin(), outputs.applied.end());
  out.pending.insert(out.pending.end(), outputs.pending.begin(), outputs.pending.end());
  if (!live.empty() || outputs.live)
    config_.update([&](Config& next) {
      for (const ParamSpec* p : live) copy_param_value(*p, loaded, next);
      if (outputs.live) next.outputs.outputs = std::move(*outputs.live);
    });
  return out;
}

std::set<std::string> ParamEditor::pending_restart() const {
  std::lock_guard lock(mutex_);
  return pending_;
}

std::set<std::string> ParamEditor::unsaved() const {
  std::lock_guard lock(mutex_);
  std::set<std::string> keys;
  for (const auto& [key, edit] : unsaved_) keys.insert(key);
  return keys;
}

bool ParamEditor::file_seen() const {
  std::lock_guard lock(mutex_);
  return file_seen_;
}

std::uint64_t ParamEditor::edits() const {
  std::lock_guard lock(mutex_);
  return edits_;
}

std::uint64_t ParamEditor::version() const {
  // Both counters only grow, so their sum does; a restart change is counted under the lock that
  // view() takes, and the store counts a publish only once its snapshot is in.
  std::lock_guard lock(mutex_);
  return config_.version() + restart_changes_;
}

}  // namespace dw
