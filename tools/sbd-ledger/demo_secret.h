// The signing secret `serve --demo` uses when none is configured: made up
// once, kept in a file beside the demo's database (mode 0600), and read back
// at every later start, so the tokens and wallet links printed by one run
// keep working after a restart.
//
// Thread-safety: called once, on the main thread, before serving.
#ifndef SBD_TOOLS_SBD_LEDGER_DEMO_SECRET_H_
#define SBD_TOOLS_SBD_LEDGER_DEMO_SECRET_H_

#include <string>

#include "absl/status/statusor.h"

namespace sbd {

// Where the demo secret of the log at `db_path` is kept: `<db_path>.demo-secret`.
std::string DemoSecretPath(const std::string& db_path);

// The secret in `path`, or a new random one written there (created with
// mode 0600; its directory must exist). kFailedPrecondition if the file is
// readable or writable by anyone but its owner, or empty; kUnavailable on an
// I/O error. The file is created exclusively, so a secret once written is
// never replaced.
absl::StatusOr<std::string> LoadOrCreateDemoSecret(const std::string& path);

}  // namespace sbd

#endif  // SBD_TOOLS_SBD_LEDGER_DEMO_SECRET_H_
