// sbd-replay: audits an event log read-only. Parses flags and hands over to
// RunReplay (tools/sbd-replay/replay.h); usage in docs/EVENT_LOG.md.
#include <boost/program_options.hpp>
#include <cstdint>
#include <iostream>
#include <string>

#include "tools/sbd-replay/replay.h"

namespace po = boost::program_options;

// Only std::bad_alloc can escape the flag set-up below; terminating is right.
int main(int argc, char** argv) {  // NOLINT(bugprone-exception-escape)
  po::options_description flags(
      "Usage: sbd-replay --db PATH [--until-seq N] [--account NAME] [--notifications] "
      "[--format table|json|csv]\nOptions");
  flags.add_options()                                                                       //
      ("help,h", "print this help")                                                         //
      ("db", po::value<std::string>()->required(), "the event log (SQLite file) to audit")  //
      ("until-seq", po::value<int64_t>(), "audit seqs 1..N only")                           //
      ("account", po::value<std::string>(), "print this account's statement")               //
      ("notifications", po::bool_switch(),
       "print the WebSocket messages each event produced, as JSON lines")  //
      ("format", po::value<std::string>()->default_value("table"),
       "summary and statement format: table, json or csv");

  sbd::ReplayOptions options;
  try {
    po::variables_map values;
    // No positional arguments: a stray word is a usage error, not ignored.
    const po::positional_options_description none;
    po::store(po::command_line_parser(argc, argv).options(flags).positional(none).run(), values);
    if (values.count("help") != 0) {
      std::cout << flags << "\n";
      return sbd::kReplayExitClean;
    }
    po::notify(values);
    options.db_path = values["db"].as<std::string>();
    if (values.count("until-seq") != 0) {
      options.until_seq = values["until-seq"].as<int64_t>();
      if (options.until_seq < 0) throw po::error("--until-seq must be 0 or more");
    }
    if (values.count("account") != 0) options.account = values["account"].as<std::string>();
    options.notifications = values["notifications"].as<bool>();
    const std::string format = values["format"].as<std::string>();
    if (format == "table") {
      options.format = sbd::ReplayFormat::kTable;
    } else if (format == "json") {
      options.format = sbd::ReplayFormat::kJson;
    } else if (format == "csv") {
      options.format = sbd::ReplayFormat::kCsv;
    } else {
      throw po::error("--format must be table, json or csv, not '" + format + "'");
    }
  } catch (const po::error& error) {
    std::cerr << "sbd-replay: " << error.what() << "\n" << flags << "\n";
    return sbd::kReplayExitError;
  }
  return sbd::RunReplay(options, std::cout, std::cerr);
}
