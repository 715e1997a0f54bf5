// The overlay's parameter panel: one widget per parameter-table row, grouped by section. A live
// row's edit is published at once through the ConfigStore; a restart row's edit is kept here
// (shown as "after restart") until "save" writes it to the config file. Sections that do nothing
// for the current source say why. "save" writes every edited key (and keeps what the file already
// set) atomically, so a restart reads the edits back. Main thread only.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/config_store.h"
#include "core/params.h"

namespace dw::render {

// Why a section of the table does nothing with this configuration ("" when it is in use):
// "comfy" and "prompts" while the source is offline or a folder.
std::string section_unused_reason(std::string_view section, const Config& config);

// Writes `keys` of `values` into the TOML file at `path`, keeping the other values the file sets
// (a file that does not parse is left alone: error). Rows equal to their default and not in `keys`
// are not written. The parent directory is created; the write is atomic (temp file + rename).
// Returns an error text or nothing.
std::optional<std::string> save_config_keys(const std::string& path, const Config& values,
                                            const std::set<std::string>& keys);

class ParameterPanel {
 public:
  ParameterPanel(ConfigStore& config, std::string save_path);

  // The "parameters" window.
  void draw();
  // Sets one row from its command-line text, as its widget would (the test hook --overlay-edit).
  // Returns an error text naming key and value, or nothing.
  std::optional<std::string> edit(std::string_view key, std::string_view value);
  // The "save" button: writes every edited row to the config file.
  std::optional<std::string> save();

  // What the panel would show: the live config plus the restart edits made here.
  Config view() const;
  std::uint64_t edits() const { return edits_; }
  std::size_t unsaved() const { return unsaved_.size(); }
  const std::string& save_path() const { return save_path_; }

 private:
  // A widget changed p in `edited`: publish it (live) or keep it (restart). An input path that
  // does not exist is refused (error text).
  std::optional<std::string> commit(const ParamSpec& p, const Config& edited);
  bool draw_row(const ParamSpec& p, Config& view, bool in_use);
  void draw_save_bar();

  ConfigStore& config_;
  std::string save_path_;
  Config restart_values_;                 // holds the restart rows edited here
  std::set<std::string> restart_edited_;  // their keys
  std::set<std::string> edited_;          // every key edited here (saved or not)
  std::set<std::string> unsaved_;
  std::string save_message_;
  bool save_failed_ = false;
  std::uint64_t edits_ = 0;
};

}  // namespace dw::render
