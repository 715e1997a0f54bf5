// The overlay's parameter panel: one widget per parameter-table row, grouped by section. Edits go
// through the app's ParamEditor (core/param_editor.h), shared with the remote: a live row's edit
// is published at once, a restart row's edit is pending (shown as "after restart") until "save"
// writes it to the config file. Sections that do nothing for the current source say why. Draws on
// the main thread only; the editor underneath is thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "core/config_store.h"
#include "core/param_editor.h"
#include "core/params.h"

namespace dw::render {

// Why a section of the table does nothing with this configuration ("" when it is in use):
// "comfy" and "prompts" while the source is offline or a folder.
std::string section_unused_reason(std::string_view section, const Config& config);

// Whether a number row's slider is logarithmic: only for a range of positive values wider than
// 1000:1 (a timeout in [1, 3600]); a range from 0 (brightness in [0, 4]) stays linear, so a value
// sits where its share of the range says.
bool slider_logarithmic(const ParamSpec& p);
// The printf format a float row's slider shows `value` with: decimals from the range (none over
// 100 or more, "60" for a timeout; two over a few units, "1.00"), more where the range's ends or
// the value need them, at most 3. ImGui also rounds a drag to these decimals.
std::string slider_format(const ParamSpec& p, double value);

class ParameterPanel {
 public:
  // Edits through the app's shared editor.
  explicit ParameterPanel(ParamEditor& editor);
  // Edits through an editor of its own (tests, tools).
  ParameterPanel(ConfigStore& config, std::string save_path);

  // The "parameters" window (placed by the overlay, overlay_layout.h).
  void draw();
  // Sets one row from its command-line text, as its widget would (the test hook --overlay-edit).
  // Returns an error text naming key and value, or nothing.
  std::optional<std::string> edit(std::string_view key, std::string_view value);
  // The "save" button: writes every edited row to the config file.
  std::optional<std::string> save();

  // What the panel would show: the live config plus the restart edits made here.
  Config view() const { return editor_.view(); }
  std::uint64_t edits() const { return editor_.edits(); }
  std::size_t unsaved() const { return editor_.unsaved().size(); }
  const std::string& save_path() const { return editor_.save_path(); }
  ParamEditor& editor() { return editor_; }

 private:
  // A widget changed p in `edited`: the editor publishes it (live) or keeps it (restart). A
  // refusal is shown beside the save button and returned.
  std::optional<std::string> commit(const ParamSpec& p, const Config& edited);
  bool draw_row(const ParamSpec& p, Config& view, bool in_use,
                const std::set<std::string>& pending);
  void draw_save_bar();

  std::unique_ptr<ParamEditor> owned_;  // set by the second constructor
  ParamEditor& editor_;
  std::string save_message_;
  bool save_failed_ = false;
};

}  // namespace dw::render
