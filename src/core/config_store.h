// The live configuration shared between the main thread (which edits it from the overlay) and the
// workers (which read a snapshot once per iteration). Publishing swaps an immutable snapshot, so a
// reader never sees a half-written config. The swap and the copy are a pointer exchange under a
// mutex held for a few instructions (libstdc++ 12's std::atomic<std::shared_ptr> hides its lock
// from ThreadSanitizer, which then reports races that are not there).
//
// A component never gets the whole store: it gets a LiveSection<T> of the one section it reads
// (LiveSection<CacheConfig>, ...), so its signature says what it depends on.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "core/config.h"

namespace dw {

class ConfigStore {
 public:
  explicit ConfigStore(Config initial)
      : current_(std::make_shared<const Config>(std::move(initial))) {}

  std::shared_ptr<const Config> get() const {
    std::lock_guard lock(mutex_);
    return current_;
  }

  void publish(Config next) {
    auto snapshot = std::make_shared<const Config>(std::move(next));
    {
      std::lock_guard lock(mutex_);
      current_.swap(snapshot);
    }
    version_.fetch_add(1, std::memory_order_release);
    // The old snapshot (now in `snapshot`) is released outside the lock.
  }

  // Read, change, publish, with every other update() held off meanwhile: writers that change
  // different parts (an edit from the remote, a calibration drag) never undo each other, as a
  // get() then publish() of each could.
  template <class Change>
  void update(Change&& change) {
    std::lock_guard writer(update_mutex_);
    Config next = *get();
    change(next);
    publish(std::move(next));
  }

  // Increments on every publish: a cheap "did anything change" check for per-frame readers.
  std::uint64_t version() const { return version_.load(std::memory_order_acquire); }

 private:
  mutable std::mutex mutex_;
  std::mutex update_mutex_;  // serialises update(): taken before mutex_, never inside it
  std::shared_ptr<const Config> current_;
  std::atomic<std::uint64_t> version_{0};
};

// A typed, read-only view of one section of the live configuration. get() hands out the section
// of the current snapshot (a shared_ptr aliasing it, so the snapshot lives as long as the caller
// holds it); a section made from a plain value never changes (tests, tools). Cheap to copy.
template <class Section>
class LiveSection {
 public:
  LiveSection(const ConfigStore& store, Section Config::*member)
      : store_(&store), member_(member) {}
  explicit LiveSection(Section fixed) : fixed_(std::make_shared<const Section>(std::move(fixed))) {}

  std::shared_ptr<const Section> get() const {
    if (!store_) return fixed_;
    std::shared_ptr<const Config> all = store_->get();
    const Section* section = &(*all.*member_);
    return std::shared_ptr<const Section>(std::move(all), section);
  }

  // The section when the configuration was published since `seen` (which is then updated), else
  // null: for readers that re-apply settings only when they change.
  std::shared_ptr<const Section> get_if_changed(std::uint64_t& seen) const {
    const std::uint64_t now = store_ ? store_->version() : 0;
    if (seen == now) return nullptr;
    seen = now;
    return get();
  }
  // A `seen` value that makes the first get_if_changed() return the section.
  static constexpr std::uint64_t kNeverSeen = ~std::uint64_t{0};

 private:
  const ConfigStore* store_ = nullptr;
  Section Config::*member_ = nullptr;
  std::shared_ptr<const Section> fixed_;
};

}  // namespace dw
