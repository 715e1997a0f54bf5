// Where the logs go. stderr always: plain, with journald's "<N>" priority prefixes and no colours
// when stderr is the journal (JOURNAL_STREAM names stderr's device and inode, as systemd sets it
// for a service), else spdlog's coloured console. Optionally also a size-capped rotating file
// (service.log_file; service.log_max_mb per file, service.log_files files kept), for machines
// without journald or installers who want a file to send. Each output writes on a thread of its
// own (AsyncLogSink), so logging never waits for it.
#pragma once

#include <string>

#include "core/config.h"

namespace dw::service {

// Installs the default logger (before anything logs). Returns the log file in use, empty when
// none (a file that cannot be opened is reported on stderr and left out: the show goes on).
std::string install_logger(const ServiceConfig& config);

// True when JOURNAL_STREAM ("<device>:<inode>") names the file on fd 2.
bool stderr_is_journal();

// journald's syslog priority for a spdlog level (0-7; trace and debug are 7).
int journal_priority(int spdlog_level);

}  // namespace dw::service
