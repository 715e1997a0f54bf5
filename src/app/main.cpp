// dreamwindow: parse the configuration, then hand over to the application.
#include <cstdio>

#include "app/application.h"
#include "app/cli.h"
#include "app/service_install.h"

int main(int argc, char** argv) {
  dw::install_signal_handlers();  // before any thread or line of the log
  dw::CommandLine cli = dw::parse_command_line(argc, argv);
  if (cli.exit_code >= 0) {
    std::fputs(cli.message.c_str(), cli.exit_code == 0 ? stdout : stderr);
    if (!cli.message.empty() && cli.message.back() != '\n')
      std::fputc('\n', cli.exit_code == 0 ? stdout : stderr);
    return cli.exit_code;
  }
  if (cli.run.install_service) return dw::service::install_service(cli.config, cli.run);
  return dw::run_application(cli.config, cli.run);
}
