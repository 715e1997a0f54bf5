// Edits to the live configuration from anywhere (the overlay's panel, the HTTP API, OSC, SIGHUP):
// one place that parses a value as the config file would, validates it with the same wording,
// publishes a live row at once through the ConfigStore and keeps a restart row as pending (shown
// as "after restart") until it is saved. Thread-safe: the state has one mutex, never held across
// a file read or write (the overlay's panel reads the state every frame, status every second).
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/config_store.h"
#include "core/params.h"

namespace dw {

// Copies one row's value between configs.
void copy_param_value(const ParamSpec& p, const Config& from, Config& to);

// Changes the TOML file at `path` (or, when there is none, the defaults) with `change`, keeping
// every other value the file sets (a file that does not parse is left alone: error), and writes
// it back: rows equal to their default are left out unless `keep` says otherwise. The parent
// directory is created; the write is atomic (temp file + rename). `change` may refuse with an
// error text. Returns an error text or nothing.
std::optional<std::string> update_config_file(
    const std::string& path, const std::function<std::optional<std::string>(Config&)>& change,
    const std::function<bool(const ParamSpec&)>& keep = {});

// Writes `keys` of `values` into the TOML file at `path` (update_config_file); the rows of `keys`
// are written even where they equal their default.
std::optional<std::string> save_config_keys(const std::string& path, const Config& values,
                                            const std::set<std::string>& keys);

struct EditOutcome {
  bool ok = false;
  bool pending_restart = false;  // a restart row: stored, applies after a restart
  std::string error;             // names key, value and what is allowed (as the config file does)
};

// What a reload of the config file changed.
struct ReloadOutcome {
  bool ok = false;
  std::string error;                 // the file's error (nothing was applied then)
  std::vector<std::string> applied;  // live keys whose value changed and were published
  std::vector<std::string> pending;  // restart keys whose value changed: after a restart
};

class ParamEditor {
 public:
  // `save_path`: the file "save" writes and a reload reads; `overrides`: the command line's
  // --<key> values, applied again over the file on reload (the command line wins, as at start).
  ParamEditor(ConfigStore& config, std::string save_path,
              std::vector<std::pair<std::string, std::string>> overrides = {});

  // Sets one row from its text ("cover", "1.5", "true", "a,b" for lists). An unknown key, a bad
  // value or an input path that does not exist is refused with the config file's wording.
  EditOutcome edit(std::string_view key, std::string_view text);
  // Writes every key edited here to the config file, atomically, keeping what the file already
  // set. Returns an error text or nothing.
  std::optional<std::string> save();
  // Reads the config file again (defaults, file, overrides): live rows that changed are published,
  // restart rows that changed become pending. A file that does not load changes nothing, and nor
  // does a missing one where there was a file (at start or since a save): it is being replaced,
  // or its disk went away, and the defaults would undo every live setting.
  ReloadOutcome reload();

  // The live config plus the pending restart edits: what a person editing should see.
  Config view() const;
  std::set<std::string> pending_restart() const;
  std::set<std::string> unsaved() const;
  std::uint64_t edits() const;
  // Moves on whenever view() or pending_restart() may have changed: every publish of the live
  // configuration (from here or from elsewhere, a calibration drag) and every change to the
  // restart rows waiting. A view read after version() is at least as new as that version (the
  // web remote fetches its parameter list again when status shows a newer one).
  std::uint64_t version() const;
  const std::string& save_path() const { return save_path_; }

  // Choices a running part offers for a String row (the ComfyUI server's own checkpoints,
  // samplers and schedulers from /object_info): the overlay and the remote show them as a list,
  // and an edit to a name not offered is refused naming the offered ones. Empty: free text.
  void set_choices(const std::string& key, std::vector<std::string> names);
  std::vector<std::string> choices(const std::string& key) const;

  // What save() writes with (default: save_config_keys); tests stand in a disk that hangs.
  using Writer = std::function<std::optional<std::string>(
      const std::string& path, const Config& values, const std::set<std::string>& keys)>;
  void set_writer(Writer writer);

  // A check across the whole config that a row's own range cannot make (a schedule naming themes
  // the themes file has), with the config as it would become; an error text refuses the change.
  // It runs on an edit of one of `keys`, the rows it depends on (a fader sending many edits a
  // second never reads the themes file), and on every reload. What a start would refuse is never
  // accepted live, so a saved edit can never stop the next start.
  using ConfigCheck = std::function<std::optional<std::string>(const Config&)>;
  void add_check(std::vector<std::string> keys, ConfigCheck check);

 private:
  EditOutcome commit_locked(const ParamSpec& p, const Config& edited);
  Config view_locked() const;
  std::optional<std::string> refused_by_choices_locked(const ParamSpec& p,
                                                       const Config& edited) const;
  bool file_seen() const;

  ConfigStore& config_;
  const std::string save_path_;
  const std::vector<std::pair<std::string, std::string>> overrides_;
  std::mutex save_mutex_;  // one save at a time, held across its write; guards writer_
  Writer writer_ = save_config_keys;
  mutable std::mutex mutex_;
  Config restart_values_;                         // holds the pending restart rows
  std::set<std::string> pending_;                 // their keys
  std::set<std::string> edited_;                  // every key edited here (saved or not)
  std::map<std::string, std::uint64_t> unsaved_;  // key -> the number of its last edit
  std::uint64_t edits_ = 0;
  std::uint64_t restart_changes_ = 0;  // changes to pending_ or restart_values_ (version())
  bool file_seen_ = false;             // the config file was there at start, or a save wrote it
  std::map<std::string, std::vector<std::string>> choices_;
  struct KeyedCheck {
    std::vector<std::string> keys;
    ConfigCheck check;
  };
  std::vector<KeyedCheck> checks_;
};

}  // namespace dw
